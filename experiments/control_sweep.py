"""Train several recipes side by side and score each with the control test (`bassnet control`).

The search for a recipe whose latent control passes (experiments/README.md, *Does the control
work?*) is many runs of one model each, several seeds per recipe: one song or one seed says
little.
Each config names its overrides of the default profile's `train` and `model` sections:

    [{"name": "m16_s1", "train": {"max_mini_epochs": 30, "seed": 1}, "model": {"maps": 16}},
     {"name": "w640", "window": "40-640"}, {"name": "eq10", "ablation": true}]

For each, this writes OUT/<name>/params.yaml (params.yaml with the overrides, one torch thread
per run), trains `--parallel` runs at a time (`bassnet train`, on `--device`), then scores each
model with `bassnet control` (centroids from the training songs, scores on the dataset's test
split, data/features/DATASET-test), and writes OUT/summary.json: per config, the training
summary line and the control's per-pattern scores and mean on the test songs. Choose a recipe by
the validation songs' scores (in OUT/<name>/control.json), not by these. `--minutes` caps the
whole training phase: a run started late gets the minutes left as its `train.max_minutes` (it
stops early and keeps its best model).

On a GPU machine without FluidSynth, train there (`--no-score`, `--device cuda`) and score the
returned OUT here (`--score-only`); training on CUDA imports nnAudio and dvclive, which that
machine's image may lack (carry them). 33 A4 runs took ≈10 min on an H100 (24 at once: 30
mini-epochs of 8 maps in ≈2.3 min each).

    python experiments/control_sweep.py --dataset A4 --configs sweep.json --out /tmp/sweep
"""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from bassnet.atomic import write_text

ROOT = Path(__file__).resolve().parents[1]
KEYS = {"name", "window", "train", "model", "ablation"}
# `bassnet` without an installed entry point (a GPU machine's python with the checkout on its path)
BASSNET = [sys.executable, "-c", "import sys; from bassnet.cli import main; sys.exit(main())"]


def check_configs(configs) -> list[dict]:
    """The configs, checked: a list of mappings with unique names and only known keys."""
    if not isinstance(configs, list) or not configs:
        raise ValueError("configs: need a non-empty list of {name, window, train, model}")
    names = set()
    for c in configs:
        if not isinstance(c, dict) or not isinstance(c.get("name"), str) or not c["name"]:
            raise ValueError(f"config {c!r}: needs a name")
        if set(c) - KEYS:
            raise ValueError(f"config {c['name']}: unknown keys {sorted(set(c) - KEYS)}")
        if c["name"] in names or "/" in c["name"]:
            raise ValueError(f"config {c['name']}: names must be unique, without '/'")
        for section in ("train", "model"):
            if not isinstance(c.get(section, {}), dict):
                raise ValueError(f"config {c['name']}: {section} must be a mapping")
        names.add(c["name"])
    return configs


def config_params(base: dict, config: dict, device: str, max_minutes: float | None) -> dict:
    """params.yaml for one run: the default profile with the config's train and model
    overrides, one torch thread (runs share the cores), the device, a wall-clock cap."""
    params = copy.deepcopy(base)
    params["profile"] = "default"
    profile = params["profiles"]["default"]
    train = {"threads": 1, "device": device, **config.get("train", {})}
    if max_minutes is not None:
        train["max_minutes"] = min(train.get("max_minutes") or max_minutes, max_minutes)
    profile.setdefault("train", {}).update(train)
    profile.setdefault("model", {}).update(config.get("model", {}))
    return params


def train_one(config: dict, out: Path, base: dict, device: str, deadline: float | None) -> str:
    """Train one config into out/<name>/model; its summary line or why it failed."""
    folder = out / config["name"]
    folder.mkdir(parents=True, exist_ok=True)
    minutes = None if deadline is None else (deadline - time.time()) / 60
    if minutes is not None and minutes < 1:
        return "skipped: no time left"
    params = config_params(base, config, device, minutes)
    write_text(folder / "params.yaml", yaml.safe_dump(params, sort_keys=False))
    args = ["train", "--features", str(config["features"]), "--window",
            config.get("window", "40-40"), "--out", str(folder / "model"),
            "--params", str(folder / "params.yaml"), "-q"]  # fmt: skip
    if config.get("ablation"):
        args.append("--ablation")
    ok, line = _bassnet(args, folder / "train.log")
    return line if ok else f"failed: {line}"


def score_one(config: dict, out: Path, data: Path, datasets: Path) -> dict | str:
    """`bassnet control` on out/<name>/model/model.pt, the features under `data` and the
    rendered songs under `datasets`: {"scores": {pattern: share}, "mean"} on the test songs,
    or why there are none."""
    folder = out / config["name"]
    model = folder / "model" / "model.pt"
    if not model.is_file():
        return "no model to score"
    ok, line = _bassnet(["control", "--model", str(model), "--dataset", config["dataset"],
                         "--features", str(data), "--datasets", str(datasets), "--metrics",
                         str(folder / "control.json"), "--params", str(folder / "params.yaml"),
                         "-q"], folder / "control.log")  # fmt: skip
    if not ok:
        return f"control failed: {line}"
    test = json.loads((folder / "control.json").read_text())["models"]["model"]["test"]
    return {"scores": {p: s["value"] for p, s in test["patterns"].items()},
            "mean": test["mean"]["value"]}  # fmt: skip


def collect(config: dict, out: Path) -> dict:
    """What a run left on disk besides its test scores: the training's minutes and best
    validation loss (model/summary.json) and the validation songs' control mean (control.json),
    the figure a recipe is chosen by."""
    folder, found = out / config["name"], {}
    summary = folder / "model" / "summary.json"
    if summary.is_file():
        train = json.loads(summary.read_text())
        found.update(minutes=train["minutes"], best_val_loss=train["best_val"]["loss"],
                     precision=train.get("train", {}).get("precision", "float32"))  # fmt: skip
    control = folder / "control.json"
    if control.is_file():
        selection = json.loads(control.read_text())["models"]["model"]["selection"]
        found["validation_mean"] = selection["mean"]["value"]
    return found


def _bassnet(args: list[str], log: Path) -> tuple[bool, str]:
    """Run `bassnet ARGS` from the checkout, its output to `log`: (succeeded, its last line,
    with the exit status if it failed)."""
    run = subprocess.run(BASSNET + args, cwd=ROOT, capture_output=True, text=True)
    write_text(log, run.stdout + run.stderr)
    last = ((run.stdout + run.stderr).strip().splitlines() or [""])[-1]
    return run.returncode == 0, last if run.returncode == 0 else f"({run.returncode}) {last}"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True, help="A1 or A4: what the control scores")
    parser.add_argument("--configs", required=True, help="JSON list of configs (see above)")
    parser.add_argument("--out", required=True, help="folder for the runs and summary.json")
    parser.add_argument("--parallel", type=int, default=2, help="runs trained at once")
    parser.add_argument("--device", default="auto", help="cpu | cuda | auto")
    parser.add_argument("--minutes", type=float, help="cap on the whole training phase")
    parser.add_argument(
        "--data",
        default=str(ROOT / "data" / "features"),
        help="feature folders DATASET (training) and DATASET-test (scoring)",
    )
    parser.add_argument(
        "--datasets",
        default=str(ROOT / "datasets"),
        help="rendered datasets DATASET and DATASET-test (their mixes)",
    )
    parser.add_argument("--params", default=str(ROOT / "params.yaml"))
    stage = parser.add_mutually_exclusive_group()
    stage.add_argument("--no-score", action="store_true", help="train only")
    stage.add_argument("--score-only", action="store_true", help="score trained runs in OUT")
    stage.add_argument("--collect-only", action="store_true",
                       help="rewrite summary.json from what the runs in OUT left")  # fmt: skip
    args = parser.parse_args(argv)

    configs = check_configs(json.loads(Path(args.configs).read_text()))
    data, datasets = Path(args.data).resolve(), Path(args.datasets).resolve()
    features = data / args.dataset
    for c in configs:
        c["dataset"], c["features"] = args.dataset, features
    out = Path(args.out).resolve()
    base = yaml.safe_load(Path(args.params).read_text())
    done = out / "summary.json"  # a --score-only run keeps what training wrote
    summary = json.loads(done.read_text()) if done.is_file() else {}
    for c in configs:
        summary.setdefault(c["name"], {})["config"] = {k: c[k] for k in c if k in KEYS}
    if not (args.score_only or args.collect_only):
        deadline = None if args.minutes is None else time.time() + args.minutes * 60
        with ThreadPoolExecutor(max(1, args.parallel)) as pool:
            lines = pool.map(lambda c: train_one(c, out, base, args.device, deadline), configs)
            for c, line in zip(configs, lines, strict=True):
                summary[c["name"]]["train"] = line
                print(f"{c['name']}: {line}", flush=True)
    if not (args.no_score or args.collect_only):
        for c in configs:
            result = score_one(c, out, data, datasets)
            if isinstance(result, str):
                summary[c["name"]]["scores"] = result
                print(f"{c['name']}: {result}", flush=True)
                continue
            summary[c["name"]]["scores"] = result["scores"]
            summary[c["name"]]["mean"] = result["mean"]
            scores = "/".join(f"{v:.0%}" for v in result["scores"].values())
            print(f"{c['name']}: control {scores} (mean {result['mean']:.0%})", flush=True)
    for c in configs:
        summary[c["name"]].update(collect(c, out))
    out.mkdir(parents=True, exist_ok=True)
    write_text(done, json.dumps(summary, indent=2) + "\n")
    return summary


if __name__ == "__main__":
    main()
