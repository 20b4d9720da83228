"""Does training in bfloat16 (`train.precision`) keep what a float32 run learns, and how much
faster is it?

Trains the default profile's A1 40/40 model on the pipeline's A1 features with several seeds in
float32 and in bfloat16 (autocast; weights, Adam and validation in float32), one after another
in this process, and reports for each run its minutes, its best validation loss and f0 term,
and the song-disjoint QDA of µ on the A1 test songs (fitted on µ of 500 training-song windows,
scored on 500 test-song windows, as `evaluate` does). Needs `dvc repro features@A1
features-test@A1` first.

    python experiments/bf16_training.py --seeds 0 1 2 \
        --out experiments/results/bf16_training.json      # ≈10 min on 2 cores
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
from pathlib import Path

import numpy as np


def main() -> None:
    from bassnet.config import load_params
    from bassnet.evaluation.scoring import heldout_qda
    from bassnet.model import BassNet
    from bassnet.training.config import TrainConfig, model_config
    from bassnet.training.data import WindowSet, shard_paths
    from bassnet.training.loop import train

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="A1")
    parser.add_argument("--window", default="40-40")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--precisions", nargs="+", default=["float32", "bfloat16"])
    parser.add_argument("--features", default="data/features")
    parser.add_argument("--out", default="experiments/results/bf16_training.json")
    args = parser.parse_args()

    params = load_params(profile="default")
    model_cfg = model_config(params, args.window, f"{args.dataset}/{args.window}")
    features = Path(args.features) / args.dataset
    test_features = Path(args.features) / f"{args.dataset}-test"
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            for precision in args.precisions:
                cfg = TrainConfig.from_params(params, f"{args.dataset}/{args.window}")
                cfg = dataclasses.replace(cfg, seed=seed, precision=precision)
                out = Path(tmp) / f"{precision}-{seed}"
                summary = train(features, out, model_cfg, cfg, progress=False)
                model = BassNet.load(out / "model.pt")
                spec, floor = model.config.spec, model.config.level_floor_db
                tr = WindowSet(shard_paths(features), spec, 500, floor, "train")
                te = WindowSet(shard_paths(test_features), spec, 500, floor, "test")
                # the model's score of `evaluate` (its untrained null comes along, unused)
                score = heldout_qda(model, tr, te, seed=0).qda
                run = {"seed": seed, "precision": precision,
                       "minutes": round(summary["minutes"], 3),
                       "best_val_loss": round(summary["best_val"]["loss"], 3),
                       "best_val_f0": round(summary["best_val"]["f0"], 4),
                       "test_qda": score.to_json()}  # fmt: skip
                runs.append(run)
                print(f"seed {seed} {precision}: {run['minutes']:.2f} min, val loss "
                      f"{run['best_val_loss']:.2f}, f0 {run['best_val_f0']:.3f}, "
                      f"test QDA {score.text()}", flush=True)  # fmt: skip
    table = {}
    for precision in args.precisions:
        mine = [r for r in runs if r["precision"] == precision]
        table[precision] = {
            key: {"mean": float(np.mean(v)), "sd": float(np.std(v, ddof=1)) if len(v) > 1
                  else None, "values": v}
            for key, v in {
                "minutes": [r["minutes"] for r in mine],
                "best_val_loss": [r["best_val_loss"] for r in mine],
                "best_val_f0": [r["best_val_f0"] for r in mine],
                "test_qda": [r["test_qda"]["value"] for r in mine],
            }.items()
        }  # fmt: skip
        line = ", ".join(
            f"{k} {v['mean']:.3f} ± {v['sd'] or 0:.3f}" for k, v in table[precision].items()
        )
        print(f"{precision}: {line}")
    result = {"dataset": args.dataset, "window": args.window, "seeds": args.seeds,
              "runs": runs, "summary": table}  # fmt: skip
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
