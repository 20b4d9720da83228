"""Why does the latent not separate the bass patterns? Three probes of BassNet's parts.

The VGAE must learn two things at once: the encoder must put the window's bass pattern into z,
and the decoder must turn z into that pattern's bass over the mix. Each probe trains one half
on its own, *with the pattern given*, for a few hundred steps on a dataset's training songs
and scores it on the validation windows:

- encoder: enc_x, enc_y, enc_z (as in the model) + mean over (time, frequency) + a linear
  classifier, trained with cross-entropy on the pattern. Can the encoder see the pattern?
- decoder, oracle z: g(x, z) trained on the reconstruction terms of Eq. (10) with z a fixed
  point per pattern. Can the decoder use a z that carries the pattern?
- decoder, random z: the same with z ~ N(0, I), independent of the pattern: what the decoder
  reaches without information in z. The gap to the oracle is what z is worth.

The decoder probes also score, per pattern, how often the generated f0 lands on the true bass
bin (±1 bin): whether the decoder can play each pattern's degree (A1: root, third, fifth).

Also printed: which frequency offsets (in CQT bins, 36 per octave) the path from the mix to the
generated bass (enc_x, then dec_y) can bridge. The bass sits an octave below the chord (paper
§5.1): playing its root, third or fifth means moving information down by 36, 45/48 or 57 bins.

    python experiments/latent_probes.py --dataset A1 --blocks 3 5 --steps 300

Writes experiments/results/latent_probes_<dataset>.json. CPU minutes: about 1 per 100 steps
per probe at 8 maps and 5 blocks (one thread).
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from bassnet.model import BassNet, ModelConfig
from bassnet.model.stack import dilations
from bassnet.training.data import WindowSet, cut, read_tracks, shard_paths
from bassnet.training.losses import reconstruction_terms

# chord tones an octave up from the bass, in CQT bins: root, minor/major third, fifth
CHORD_OFFSETS = {"root": 36, "minor third": 45, "major third": 48, "fifth": 57}


def reachable(dils: list[int], kernel: int = 3, stacks: int = 2) -> set[int]:
    """Frequency offsets (bins, ≥ 0) between an input and an output bin that one path through
    `stacks` stacks of blocks with these dilations spans. The mix reaches the generated bass
    through two: enc_x, then dec_y."""
    taps = [range(-(kernel // 2) * d, (kernel // 2) * d + 1, d) for d in dils] * stacks
    return {abs(sum(c)) for c in itertools.product(*taps)}


def sampler(tracks, spec, rng):
    """A function size → (x, y, targets, pattern) of random training windows."""
    room = np.array([len(t) - spec.expanded + 1 for t in tracks])

    def batch(size: int):
        index = rng.choice(len(tracks), size=size, p=room / room.sum())
        start = rng.integers(0, room[index])
        windows = cut(tracks, index, start, spec)
        centre = [
            tracks[i].pattern[s + spec.expanded // 2] for i, s in zip(index, start, strict=True)
        ]
        return windows["x"], windows["y"], windows["targets"], torch.tensor(centre).long()

    return batch


def f0_hits_by_pattern(
    logits: torch.Tensor, targets: torch.Tensor, pattern: torch.Tensor, n_patterns: int
) -> dict[str, torch.Tensor]:
    """Per pattern, the share of voiced full-resolution frames whose most likely f0 bin is
    within ±1 bin (a third of a semitone) of the true one: can the decoder play each pattern's
    degree? logits and targets (B, C, a, F + 1), pattern (B,)."""
    predicted, true = logits[:, 0].argmax(-1), targets[:, 0].argmax(-1)  # (B, a)
    voiced = true < logits.shape[-1] - 1
    hit = ((predicted - true).abs() <= 1) & voiced
    shares = {}
    for k in range(1, n_patterns + 1):
        mine = pattern == k
        shares[f"f0_hits_pattern_{k}"] = hit[mine].sum() / voiced[mine].sum().clamp(min=1)
    return shares


def probe(kind: str, cfg: ModelConfig, batch, valid: WindowSet, steps: int, lr: float,
          n_patterns: int) -> dict:  # fmt: skip
    """Train one probe ("encoder", "oracle", "random") for `steps`; its validation scores."""
    torch.manual_seed(0)
    model = BassNet(cfg)
    head = torch.nn.Linear(cfg.maps, n_patterns)
    optimiser = torch.optim.Adam([*model.parameters(), *head.parameters()], lr=lr)
    angles = torch.arange(n_patterns) * 2 * np.pi / n_patterns
    codes = 1.5 * torch.stack([angles.cos(), angles.sin()], 1)  # one point per pattern

    def run(x, y, targets, pattern) -> tuple[torch.Tensor, dict]:
        fx = model.mix_factors(x)
        if kind == "encoder":
            mapping = model.mapping(fx, y)
            logits = head(mapping.mean((2, 3)))
            accuracy = (logits.argmax(1) == pattern - 1).float().mean()
            return F.cross_entropy(logits, pattern - 1), {"accuracy": accuracy}
        z = codes[pattern - 1] if kind == "oracle" else torch.randn(len(x), 2)
        y_hat = model.generate(fx, z)
        logits = model.descriptors(y_hat)
        terms = reconstruction_terms(y, y_hat, logits, targets)
        terms = {k: v.mean() for k, v in terms.items()}
        loss = sum(terms.values())
        if not model.training:  # scores, not loss terms
            terms.update(f0_hits_by_pattern(logits["f0"], targets["f0"], pattern, n_patterns))
        return loss, terms

    started = time.monotonic()
    for _ in range(steps):
        loss, _ = run(*batch(16))
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
    model.eval()
    keep = torch.tensor(valid.patterns) >= 1
    with torch.no_grad():
        _, scores = run(valid.x[keep], valid.y[keep],
                        {k: v[keep] for k, v in valid.targets.items()},
                        torch.tensor(valid.patterns)[keep])  # fmt: skip
    return {"seconds": round(time.monotonic() - started, 1),
            **{k: round(float(v), 4) for k, v in scores.items()}}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="A1")
    parser.add_argument("--features", help="feature folder (default data/features/<dataset>)")
    parser.add_argument("--blocks", type=int, nargs="+", default=[3, 5])
    parser.add_argument("--maps", type=int, default=8)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads; 0: default")
    parser.add_argument("--out", default="experiments/results")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    shards = shard_paths(args.features or f"data/features/{args.dataset}")
    results = {"dataset": args.dataset, "maps": args.maps, "steps": args.steps, "probes": {}}
    for blocks in args.blocks:
        cfg = ModelConfig(window="40/40", maps=args.maps, blocks=blocks, head_maps=8)
        tracks = [t for s in shards for t in read_tracks(s, "train", cfg.level_floor_db)]
        n_patterns = int(max(t.pattern.max() for t in tracks))
        valid = WindowSet(shards, cfg.spec, 300, cfg.level_floor_db)
        dils = dilations(cfg.n_bins, blocks, cfg.kernel)
        offsets = reachable(dils, cfg.kernel)
        reaches = {name: bins in offsets for name, bins in CHORD_OFFSETS.items()}
        row = {"frequency_dilations": dils, "reaches": reaches}
        for kind in ("encoder", "oracle", "random"):
            batch = sampler(tracks, cfg.spec, np.random.default_rng(0))
            row[kind] = probe(kind, cfg, batch, valid, args.steps, args.lr, n_patterns)
            print(f"{args.dataset} {args.maps} maps × {blocks} blocks, {kind}: {row[kind]}",
                  flush=True)  # fmt: skip
        results["probes"][f"{blocks} blocks"] = row
        print(f"{blocks} blocks, frequency dilations {dils}: reaches "
              + ", ".join(f"{k} ({CHORD_OFFSETS[k]} bins) {'yes' if v else 'no'}"
                          for k, v in row["reaches"].items()))  # fmt: skip
    out = Path(args.out) / f"latent_probes_{args.dataset}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
