"""How well do the trained latents separate the bass patterns on songs no model has seen?

Table 2 (QDA accuracy on µ, paper §6.2) is measured on each dataset's validation songs: two
songs in the default profile, too few for a stable figure. This renders `--songs` new songs per
dataset from another seed (all but one in the validation split), runs them through the same
feature job, and scores every trained model of the dataset (`models/<dataset>/<window>`) by the
evaluation's own QDA protocol
(`bassnet.evaluation.scoring.evaluate_model`), next to the chance level
(always guessing the commonest pattern).

    python experiments/new_songs_qda.py --songs 20 --seed-offset 500

Writes experiments/results/new_songs_qda.json. About 1.5 min per dataset on 2 cores (render,
features, evaluation of three models).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import yaml

from bassnet.config import RenderConfig, find_params, load_params
from bassnet.evaluation.scoring import evaluate_model
from bassnet.pipelines.features import run as run_features
from bassnet.synth.dataset import render_dataset

RESULTS = Path(__file__).parent / "results" / "new_songs_qda.json"


def new_songs_params(work: Path, songs: int) -> Path:
    """params.yaml with every song but one in the validation split and no mix f0 (only the
    report's Fig. 8 needs it), written into `work`."""
    raw = yaml.safe_load(find_params().read_text())
    raw["render"]["valid_fraction"] = (songs - 1) / songs
    raw["features"]["mix_f0_splits"] = []
    path = work / "params.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def score_dataset(
    dataset: str, work: Path, params: Path, evaluation: dict, args: argparse.Namespace
) -> dict:
    """Render, featurise and score the dataset's models on the new songs, with the pipeline's
    `evaluation` settings (windows, folds, seed)."""
    cfg = RenderConfig.from_params(load_params(params))
    seed = cfg.seeds[dataset] + args.seed_offset
    render_dataset(dataset, work / dataset, args.songs, seed, cfg, progress=False)
    features = work / "features" / dataset
    run_features(["--manifest", str(work / dataset / "manifest.csv"), "--out", str(features),
                  "--params", str(params)])  # fmt: skip
    scores = {}
    for folder in sorted((Path(args.models) / dataset).iterdir()):
        if not (folder / "model.pt").is_file():
            continue
        ev = evaluate_model(folder / "model.pt", features, evaluation["windows"],
                            evaluation["folds"], evaluation["seed"], dataset,
                            folder.name.endswith("-ablation"))  # fmt: skip
        scores[folder.name] = {"qda_accuracy": round(ev.qda_accuracy, 3),
                               "chance": round(ev.chance, 3), "windows": ev.n_windows}  # fmt: skip
        print(f"{dataset} {folder.name}: QDA {ev.qda_accuracy:.3f} (chance {ev.chance:.3f})")
    return {"seed": seed, "songs": args.songs, "models": scores}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["A1", "A2", "A3", "A4"])
    parser.add_argument("--songs", type=int, default=20, help="new songs per dataset")
    parser.add_argument("--seed-offset", type=int, default=500, help="added to render.seeds")
    parser.add_argument("--windows", type=int, help="default: evaluate.windows")
    parser.add_argument("--models", default="models")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args()
    evaluation = load_params()["evaluate"]
    if args.windows:
        evaluation["windows"] = args.windows
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="new_songs_") as tmp:
        work = Path(tmp)
        params = new_songs_params(work, args.songs)
        results = {d: score_dataset(d, work, params, evaluation, args) for d in args.datasets}
    results["minutes"] = round((time.perf_counter() - started) / 60, 1)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out} ({results['minutes']} min)")


if __name__ == "__main__":
    main()
