"""Which legato pitch changes start a note? The control score of A4 under `generate.legato_onset`.

A note starts at a picked onset, where the bass starts sounding, and at a pitch change without
an onset (legato) that holds `min_note_frames`; `legato_onset` asks such a change for some
onset strength within `min_note_frames` of it (`bassnet.generation.notes`). A generated f0
wavers between two candidate pitches where the model is unsure which the bass plays, and
each waver that holds was a note, so an A4 quarter-note pattern got extra off-beat notes.

For each model given, the bass is generated once per pattern at its centroid of µ (as the
control test does: `bassnet.evaluation.control_test`) over the chosen songs, and its notes
are read under each `legato_onset` (and each onset threshold); the rhythm score pools the
beats of all songs. The choice is made on training songs (`--train-songs` of them) and
checked on the validation songs; `--test` adds the test songs' scores at the params.yaml
value, for the report only (they choose nothing).

    python experiments/note_segmentation.py --dataset A4 --model models/A4/control/model.pt
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
LEGATO_ONSETS = (0.0, 0.05, 0.1, 0.2, 0.3)
ONSET_THRESHOLDS = (0.3, 0.5)


def split_scores(model, songs, centroids, gen, legato_onsets, thresholds) -> dict:
    """{(threshold, legato_onset): {"mean", "patterns": {p: share}}} of the rhythm (or pitch)
    hits of the bass generated at each centroid over `songs`."""
    from bassnet.evaluation.control_rules import expected_steps, pattern_hits
    from bassnet.evaluation.control_test import generate_at
    from bassnet.generation.notes import curves_to_notes

    hits = {(t, lo): {p: [] for p in centroids} for t in thresholds for lo in legato_onsets}
    for song in songs:
        for p, (curves, _) in generate_at(model, song, centroids, gen).items():
            steps = expected_steps(song.plan, p)
            for (t, lo), per_pattern in hits.items():
                notes = curves_to_notes(curves, t, gen.min_note_frames, lo)
                per_pattern[p].append(pattern_hits(song.plan, p, curves, notes, steps))
    out = {}
    for key, per_pattern in hits.items():
        joined = {p: np.concatenate(h) for p, h in per_pattern.items()}
        out[key] = {
            "mean": round(float(np.concatenate(list(joined.values())).mean()), 4),
            "patterns": {str(p): round(float(h.mean()), 4) for p, h in joined.items()},
        }
    return out


def as_rows(scores: dict) -> list[dict]:
    return [{"onset_threshold": t, "legato_onset": lo, **v} for (t, lo), v in scores.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="A4")
    parser.add_argument("--model", action="append", required=True, help="a model.pt (repeat)")
    parser.add_argument("--train-songs", type=int, default=8)
    parser.add_argument("--test", action="store_true", help="also the test songs (report)")
    parser.add_argument("--out", help="default: experiments/results/note_segmentation_<ds>.json")
    args = parser.parse_args()

    from bassnet.atomic import write_text
    from bassnet.config import RenderConfig, load_params
    from bassnet.evaluation.control_test import control_songs, training_centroids
    from bassnet.evaluation.scoring import load_model
    from bassnet.generation.config import GenerateConfig
    from bassnet.generation.folded import FoldedBassNet

    params = load_params(ROOT / "params.yaml")
    render, gen = RenderConfig.from_params(params), GenerateConfig.from_params(params)
    ds = args.dataset
    features, datasets = ROOT / "data" / "features", ROOT / "datasets"

    def songs(split: str, folder: str):
        return control_songs(features / folder, split, datasets / folder, ds, render,
                             gen.silence_db)  # fmt: skip

    splits = {"train": songs("train", ds)[: args.train_songs], "valid": songs("valid", ds)}
    if args.test:
        splits["test"] = songs("test", f"{ds}-test")
    result = {"dataset": ds, "params_legato_onset": gen.legato_onset,
              "min_note_frames": gen.min_note_frames,
              "songs": {k: len(v) for k, v in splits.items()}, "models": {}}  # fmt: skip
    for path in args.model:
        model = load_model(path).eval()
        centroids = training_centroids(model, features / ds, 1000)
        folded = FoldedBassNet(model)
        row = {}
        for split, chosen in splits.items():
            if split == "test":  # the params value only: the test songs choose nothing
                scores = split_scores(folded, chosen, centroids, gen, (0.0, gen.legato_onset),
                                      (gen.onset_threshold,))  # fmt: skip
            else:
                scores = split_scores(folded, chosen, centroids, gen, LEGATO_ONSETS,
                                      ONSET_THRESHOLDS)  # fmt: skip
            row[split] = as_rows(scores)
            best = max(scores.items(), key=lambda kv: kv[1]["mean"])
            print(f"{path} {split}: legato_onset 0 → {scores[(gen.onset_threshold, 0.0)]['mean']}, "
                  f"{gen.legato_onset} → {scores[(gen.onset_threshold, gen.legato_onset)]['mean']}"
                  f" (best {best[1]['mean']} at threshold {best[0][0]}, legato {best[0][1]})",
                  flush=True)  # fmt: skip
        result["models"][str(path)] = row
    out = Path(args.out or ROOT / "experiments" / "results" / f"note_segmentation_{ds}.json")
    write_text(out, json.dumps(result, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
