"""`bassnet ship-models`: copy trained models into the package, with a model card.

The shipped files are the output of this command (DVC stage `ship`), not hand-made: each is
the trained checkpoint with its floating-point tensors stored as float16 (half the bytes; the
model computes in float32 after loading), and the card collects what each model
was trained on and the metrics the pipeline measured for it.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from bassnet.atomic import write_text
from bassnet.errors import DataError
from bassnet.model import write_checkpoint
from bassnet.pretrained import CARD_JSON, HERE


def _half(state: dict) -> dict:
    return {
        k: v.half() if isinstance(v, torch.Tensor) and v.is_floating_point() else v
        for k, v in state.items()
    }


def ship(
    models_dir: str | Path, datasets: list[str], window: str, profile: str,
    evaluation: str | Path | None = None, out_dir: str | Path = HERE,
    latent: str | Path | None = None,
) -> dict[str, dict]:  # fmt: skip
    """Copy models/<dataset>/<window>/model.pt of each dataset to `out_dir`/<dataset>.pt (float16)
    and write models.json and MODEL_CARD.md there; returns the card entries by name. With
    `latent` (the evaluation's latent_points.json) each file also carries its validation µ and
    pattern labels as `latent_map`, which `bassnet serve` draws on its pad."""
    from bassnet.multires import WindowSpec
    from bassnet.train import model_dir

    out_dir, spec = Path(out_dir), WindowSpec.parse(window)
    metrics = (
        json.loads(Path(evaluation).read_text())
        if evaluation and Path(evaluation).is_file()
        else {}
    )
    maps = json.loads(Path(latent).read_text()) if latent and Path(latent).is_file() else {}
    cards: dict[str, dict] = {}
    for dataset in datasets:
        folder = model_dir(models_dir, dataset, spec.slug, False)
        source = folder / "model.pt"
        if not source.is_file():
            raise DataError(f"{source}: no trained model to ship; run `dvc repro train`")
        state = torch.load(source, map_location="cpu", weights_only=True)
        state["state_dict"] = _half(state["state_dict"])
        if f"{dataset}/{spec.slug}" in maps:
            state["latent_map"] = maps[f"{dataset}/{spec.slug}"]
        target = out_dir / f"{dataset}.pt"
        write_checkpoint(state, target)
        summary_path = folder / "summary.json"
        summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
        evaluated = metrics.get(f"{dataset}/{spec.slug}", {})
        cards[dataset] = {
            "file": target.name,
            "dataset": dataset,
            "window": str(spec),
            "profile": profile,
            "config": state["config"],
            "mini_epochs": summary.get("mini_epochs"),
            "instances": summary.get("instances"),
            "training": training_text(summary.get("train", {})),
            "validation": {k: round(v, 4) for k, v in state.get("val", {}).items()},
            "qda_accuracy": evaluated.get("qda_accuracy"),
            "qda_chance": evaluated.get("chance"),
            "latent_region": state.get("latent_region"),
            "bytes": target.stat().st_size,
        }
    write_text(out_dir / CARD_JSON.name, json.dumps(cards, indent=2) + "\n")
    write_text(out_dir / "MODEL_CARD.md", model_card(cards))
    return cards


def training_text(train: dict) -> str:
    """What a model's training added to Eq. (9), from its summary's `train` settings: e.g.
    "Eq. (9), onset ×2; transposed ±3 semitones"."""
    weights = ", ".join(f"{k} ×{v:g}" for k, v in sorted((train.get("loss_weights") or {}).items()))
    parts = [f"Eq. (9), {weights}" if weights else "Eq. (9)"]
    if train.get("transpose"):
        parts.append(f"transposed ±{train['transpose']} semitones")
    if train.get("mix_gain_db") or train.get("mix_tilt_db"):
        gain, tilt = train.get("mix_gain_db", 0), train.get("mix_tilt_db", 0)
        parts.append(f"mix gain ±{gain:g} dB, tilt ±{tilt:g} dB/oct")
    return "; ".join(parts)


def _num(value, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def model_card(cards: dict[str, dict]) -> str:
    """The Markdown model card of the shipped models."""
    lines = [
        "# Shipped BassNet models",
        "",
        "Written by `bassnet ship-models` (DVC stage `ship`); do not edit by hand.",
        "Each is the VGAE of Grachten et al. (2020) trained by this project's pipeline on one",
        "artificial dataset (paper §5.1; rendered with FluidSynth and FluidR3_GM).",
        "",
        "| name | data | window | profile | size | mini-epochs × instances | training | "
        "val f0 CCE | val KL | QDA (chance) | default z |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, c in cards.items():
        cfg = c["config"]
        region = c.get("latent_region") or {}
        centre = ", ".join(f"{v:.2f}" for v in region.get("centre", []))
        lines.append(
            f"| {name} | {c['dataset']} | {c['window']} | {c['profile']} "
            f"| {cfg['blocks']} blocks × {cfg['maps']} maps, {c['bytes'] / 1e6:.1f} MB "
            f"| {c['mini_epochs']} × {c['instances']} | {c['training']} "
            f"| {_num(c['validation'].get('f0'))} | {_num(c['validation'].get('kl_prior'))} "
            f"| {_num(c['qda_accuracy'])} ({_num(c['qda_chance'])}) | ({centre}) |"
        )
    lines += [
        "",
        "Intended use: steering a generated bass line for a mix with `bassnet generate`, and",
        "trying the latent control. These small models were trained in minutes on a CPU on",
        "synthetic data; see the evaluation report for how well the latent separates the",
        "patterns (Table 2) before relying on a region of the latent space.",
        "",
    ]
    return "\n".join(lines)
