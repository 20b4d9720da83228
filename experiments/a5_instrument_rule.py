"""Does µ separate A5's patterns less well because the mix implies them?

A5's measures play their chord instrument's pattern with probability `render.instrument_rule_prob`
(0.9). If the decoder can read the pattern from the instrument, z needs to carry less of it and µ
separates the patterns less well. This renders A5 at several rule probabilities (1/3: the
pattern independent of the instrument, as in A1), trains the default profile's 40/40 model on
each with several seeds, and scores µ by the song-disjoint QDA on the test songs.

    python experiments/a5_instrument_rule.py --rules 0.9 0.3333 --seeds 0 1 2 \
        --out experiments/results/a5_instrument_rule.json     # ≈25 min on 2 cores
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np


def featurise(dataset_dir: Path, out: Path) -> None:
    subprocess.run([sys.executable, "-m", "bassnet.cli", "features", "--manifest",
                    str(dataset_dir / "manifest.csv"), "--out", str(out), "--dataset", "A5"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


def main() -> None:
    from bassnet.config import RenderConfig, load_params
    from bassnet.evaluation.scoring import heldout_qda
    from bassnet.model import BassNet
    from bassnet.synth.dataset import render_dataset
    from bassnet.training.config import TrainConfig, model_config
    from bassnet.training.data import WindowSet, shard_paths
    from bassnet.training.loop import train

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=float, nargs="+", default=[0.9, 1 / 3])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", default="experiments/results/a5_instrument_rule.json")
    args = parser.parse_args()
    params = load_params(profile="default")
    render = RenderConfig.from_params(params)
    songs, test_songs = params["render"]["songs"], params["render"]["test_songs"]
    model_cfg = model_config(params, "40-40", "A5/40-40")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for rule in args.rules:
            cfg = dataclasses.replace(render, instrument_rule_prob=rule)
            data = root / f"rule{rule:.3f}"
            render_dataset("A5", data / "data", songs, render.seeds["A5"], cfg, progress=False)
            render_dataset("A5", data / "data-test", test_songs, render.test_seeds["A5"], cfg,
                           progress=False, split="test")  # fmt: skip
            featurise(data / "data", data / "features")
            featurise(data / "data-test", data / "features-test")
            scores = []
            for seed in args.seeds:
                train_cfg = dataclasses.replace(TrainConfig.from_params(params), seed=seed)
                out = data / f"model{seed}"
                train(data / "features", out, model_cfg, train_cfg, progress=False)
                model = BassNet.load(out / "model.pt")
                spec, floor = model.config.spec, model.config.level_floor_db
                tr = WindowSet(shard_paths(data / "features"), spec, 500, floor, "train")
                te = WindowSet(shard_paths(data / "features-test"), spec, 500, floor, "test")
                # the model's score of `evaluate` (its untrained null comes along, unused)
                score = heldout_qda(model, tr, te, seed=0).qda
                scores.append(score.to_json())
                print(f"rule {rule:.3f} seed {seed}: µ QDA {score.text()}", flush=True)
            values = [s["value"] for s in scores]
            results[f"{rule:.4f}"] = {"seeds": args.seeds, "scores": scores,
                                      "mean": float(np.mean(values)),
                                      "sd": float(np.std(values, ddof=1)) if len(values) > 1
                                      else None}  # fmt: skip
            print(f"rule {rule:.3f}: mean {np.mean(values):.3f}", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
