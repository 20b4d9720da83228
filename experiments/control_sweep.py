"""Train several recipes side by side and score each with the control test (`bassnet control`).

The search for a recipe whose latent control passes (README, *Does the control work?*) is many
runs of one 40/40 model each, several seeds per recipe: one 30-s song or one seed says little.
Each config names its overrides of the default profile's `train` and `model` sections:

    [{"name": "m16_s1", "train": {"max_mini_epochs": 30, "seed": 1}, "model": {"maps": 16}},
     {"name": "w640", "window": "40-640"}, {"name": "eq10", "ablation": true}]

For each, this writes OUT/<name>/params.yaml (params.yaml with the overrides, one torch thread
per run), trains `--parallel` runs at a time (`bassnet train`, on `--device`), then scores each
model with `bassnet control` (the dataset's held-out centroids, its test songs), and writes
OUT/summary.json: per config, the training summary line and the control's per-pattern scores
and mean. `--minutes` caps the whole training phase: a run started late gets the minutes left
as its `train.max_minutes` (it stops early and keeps its best model).

On a GPU machine without FluidSynth, train there (`--no-score`, `--device cuda`) and score the
returned OUT here (`--score-only`); training on CUDA imports nnAudio and dvclive, which that
machine's image may lack (carry them). Session 13 ran 33 A4 runs so, with this script's scratch
precursor, on an H100 in ≈10 min (24 at once: 30 mini-epochs of 8 maps in ≈2.3 min each);
`bassnet control` takes ≈50 s per model on 2 cores.

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


def score_one(config: dict, out: Path, songs: list[str]) -> dict | str:
    """`bassnet control` on out/<name>/model/model.pt (`songs`: its --songs/--test-songs
    flags): its metrics, or why there are none."""
    folder = out / config["name"]
    model = folder / "model" / "model.pt"
    if not model.is_file():
        return "no model to score"
    ok, line = _bassnet(["control", "--model", str(model), "--dataset", config["dataset"],
                         "--out", str(folder / "control"), "--metrics",
                         str(folder / "control.json"), "--params",
                         str(folder / "params.yaml"), *songs], folder / "control.log")  # fmt: skip
    if not ok:
        return f"control failed: {line}"
    return json.loads((folder / "control.json").read_text())


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
    parser.add_argument("--features", help="feature folder (default: data/features/DATASET)")
    parser.add_argument("--songs", type=int, help="bassnet control --songs (held-out songs)")
    parser.add_argument("--test-songs", type=int, help="bassnet control --test-songs")
    parser.add_argument("--params", default=str(ROOT / "params.yaml"))
    stage = parser.add_mutually_exclusive_group()
    stage.add_argument("--no-score", action="store_true", help="train only")
    stage.add_argument("--score-only", action="store_true", help="score trained runs in OUT")
    args = parser.parse_args(argv)

    configs = check_configs(json.loads(Path(args.configs).read_text()))
    features = Path(args.features or ROOT / "data" / "features" / args.dataset).resolve()
    for c in configs:
        c["dataset"], c["features"] = args.dataset, features
    out = Path(args.out).resolve()
    base = yaml.safe_load(Path(args.params).read_text())
    done = out / "summary.json"  # a --score-only run keeps what training wrote
    summary = json.loads(done.read_text()) if done.is_file() else {}
    for c in configs:
        summary.setdefault(c["name"], {})["config"] = {k: c[k] for k in c if k in KEYS}
    songs = [f for flag, n in (("--songs", args.songs), ("--test-songs", args.test_songs))
             if n is not None for f in (flag, str(n))]  # fmt: skip
    if not args.score_only:
        deadline = None if args.minutes is None else time.time() + args.minutes * 60
        with ThreadPoolExecutor(max(1, args.parallel)) as pool:
            lines = pool.map(lambda c: train_one(c, out, base, args.device, deadline), configs)
            for c, line in zip(configs, lines, strict=True):
                summary[c["name"]]["train"] = line
                print(f"{c['name']}: {line}", flush=True)
    if not args.no_score:
        for c in configs:
            result = score_one(c, out, songs)
            if isinstance(result, str):
                summary[c["name"]]["scores"] = result
                print(f"{c['name']}: {result}", flush=True)
                continue
            summary[c["name"]]["scores"] = result["scores"]
            summary[c["name"]]["mean"] = result["mean"]
            scores = "/".join(f"{v:.0%}" for v in result["scores"].values())
            print(f"{c['name']}: control {scores} (mean {result['mean']:.0%})", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    write_text(done, json.dumps(summary, indent=2) + "\n")
    return summary


if __name__ == "__main__":
    main()
