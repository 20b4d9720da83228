"""`make gpu-check`: the `gpu` profile end to end on one GPU machine, then the feature and
training benchmarks there, everything worth keeping under one folder.

1. set-up: `make setup` (skipped with `--python`, an environment that has the project's
   dependencies already);
2. a scratch copy of the repository (git's tracked and unignored files, committed to a fresh
   git repository), so that this checkout's outputs and dvc.lock stay as they are;
3. the pipeline there: `dvc exp run` with the `gpu` profile (`python -m bassnet.profiles gpu`,
   as `make repro PROFILE=gpu` runs it), each stage's wall time from DVC's own output;
   `--pipeline-limit-s` stops it, and what it made by then is collected;
4. `benchmarks/features.py` and `benchmarks/train.py` on the GPU (the default, gpu and paper
   models' training step), on the scratch copy's A1 features;
5. into OUT: `timings.json` (each phase and stage, the machine), `summary.md`, `pipeline/` (the
   metrics, reports and figures, models' summaries, datasets' stats, params and dvc.lock the run
   wrote, and `dvc exp show --json`), `benchmarks/` and `logs/`.

`--tiny` runs the same path on the CPU at a tiny size (4 songs of 10 s per dataset, 2 test
songs, CREPE tiny, 8-map models trained 2 mini-epochs of 20 windows): a few minutes on 2 cores,
to check the script before GPU time is spent on it.

This file needs only Python's standard library: it runs before the set-up it times.

Usage: python3 benchmarks/gpu_check.py [--tiny] [--out DIR] [--python PATH] [--scratch DIR]
           [--keep-scratch] [--pipeline-limit-s S]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# `dvc exp run -S` overrides of the gpu profile for --tiny: the same stages on the CPU, each a
# few seconds. `++` sets a key whether or not the profile has it.
TINY = {
    "render.songs": 4,
    "render.test_songs": 2,
    "render.seconds": 10,
    "render.valid_fraction": 0.25,  # one validation song of four
    "features.crepe_model": "tiny",
    "features.f0_stride": 2,
    "features.device": "cpu",
    "model.maps": 8,
    "train.device": "cpu",
    "train.batch_size": 4,
    "train.mini_epoch": 20,
    "train.max_mini_epochs": 2,
    "train.valid_windows": 20,
    "evaluate.windows": 40,
    "evaluate.train_windows": 40,
    "evaluate.test_windows": 40,
    "evaluate.device": "cpu",
    "control.device": "cpu",
    "control.centroid_windows": 40,
    "control.models.A1.max_mini_epochs": 2,
    "control.models.A4.max_mini_epochs": 2,
}

# Where the checkout is no git repository, these top-level folders (environments, caches,
# earlier runs and outputs), .dvc/cache, .dvc/tmp and __pycache__ are not copied.
SKIP_TOP = {".git", ".venv", "runs", "tmp", "data", ".pytest_cache", ".ruff_cache"}
SKIP_DVC = {"cache", "tmp"}

# What the pipeline writes that is worth keeping (globs under the scratch copy); only files the
# run wrote are collected, so a stage that did not run leaves no stale copy from the repository.
COLLECT = [
    "params.yaml",
    "dvc.lock",
    "metrics/**/*.json",
    "reports/**/*.md",
    "reports/**/*.png",
    "reports/*.json",
    "docs/results.md",
    "models/*/*/summary.json",
    "datasets/*/stats.json",
    "bassnet/pretrained/models.json",
    "bassnet/pretrained/MODEL_CARD.md",
]

STAGE_LINE = re.compile(r"Running stage '([^']+)'")


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def write_json(path: Path, data) -> None:
    """`data` as JSON at `path`, whole or not at all (a killed run leaves the previous one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


class Run:
    """The check's record: phases with their seconds and exit codes, in timings.json."""

    def __init__(self, out: Path, tiny: bool) -> None:
        self.out, self.started = out, time.perf_counter()
        self.timings: dict = {"tiny": tiny, "started": now(), "phases": {}}
        self.save()

    def save(self) -> None:
        self.timings["total_s"] = round(time.perf_counter() - self.started, 1)
        write_json(self.out / "timings.json", self.timings)

    def command(self, phase: str, cmd: list[str], cwd: Path, env: dict,
                limit_s: float | None = None, on_line=None) -> int:  # fmt: skip
        """Run `cmd`, its output timestamped into logs/<phase>.log; record seconds and exit code
        (124 when `limit_s` ran out and its process group was stopped)."""
        log_path = self.out / "logs" / f"{phase}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        print(f"[gpu-check] {phase}: {shlex.join(cmd)}", flush=True)
        started = time.perf_counter()
        timed_out = threading.Event()
        with log_path.open("w") as log:
            log.write(f"$ {shlex.join(cmd)}\n")
            proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, errors="replace",
                                    start_new_session=True)  # fmt: skip

            def stop() -> None:
                timed_out.set()
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    time.sleep(10)
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

            timer = threading.Timer(limit_s, stop) if limit_s else None
            if timer:
                timer.daemon = True
                timer.start()
            for line in proc.stdout:
                t = time.perf_counter() - started
                log.write(f"{t:8.1f} {line}")
                log.flush()
                if on_line:
                    on_line(t, line)
            rc = proc.wait()
            if timer:
                timer.cancel()
        rc = 124 if timed_out.is_set() else rc
        entry = {"seconds": round(time.perf_counter() - started, 1), "rc": rc}
        if timed_out.is_set():
            entry["timed_out_after_s"] = limit_s
        self.timings["phases"].setdefault(phase, {}).update(entry)
        self.save()
        print(f"[gpu-check] {phase}: rc {rc}, {entry['seconds']} s", flush=True)
        return rc


def copy_repository(source: Path, dest: Path) -> int:
    """Copy `source`'s tracked and unignored files (where it is no git checkout, all but
    SKIP_TOP's) into `dest`, a fresh git repository with them committed; returns their count."""
    listed = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=source,
                            capture_output=True)  # fmt: skip
    if listed.returncode == 0:
        files = [Path(f) for f in listed.stdout.decode().split("\0") if f]
    else:  # a copy of a working tree without its .git
        files = []
        for dirpath, dirnames, filenames in os.walk(source):
            rel = Path(dirpath).relative_to(source)
            dirnames[:] = [d for d in dirnames if d != "__pycache__"
                           and not (rel == Path(".") and d in SKIP_TOP)
                           and not (rel == Path(".dvc") and d in SKIP_DVC)]  # fmt: skip
            files += [rel / f for f in filenames]
    count = 0
    for rel in files:
        src = source / rel
        if not src.is_file():  # listed by git but deleted in the working tree
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest / rel)
        count += 1
    git = ["git", "-c", "user.name=gpu-check", "-c", "user.email=gpu-check@localhost"]
    for cmd in (["init", "-q"], ["add", "--all"], ["commit", "-q", "-m", "gpu-check snapshot"]):
        subprocess.run(git + cmd, cwd=dest, check=True, capture_output=True)
    return count


def machine(python: str, env: dict) -> dict:
    """CPU count, Python and torch versions, the GPU torch sees and nvidia-smi's line."""
    probe = (
        "import json, os, platform, torch; print(json.dumps({'cpus': os.cpu_count(), "
        "'python': platform.python_version(), 'torch': torch.__version__, "
        "'cuda': torch.cuda.is_available(), "
        "'gpu': torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}))"
    )
    info: dict = {"platform": sys.platform}
    result = subprocess.run([python, "-c", probe], env=env, capture_output=True, text=True)
    if result.returncode == 0:
        info.update(json.loads(result.stdout.strip().splitlines()[-1]))
    else:
        info["probe_error"] = result.stderr.strip()[-500:]
    if shutil.which("nvidia-smi"):
        smi = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
            capture_output=True, text=True,
        )  # fmt: skip
        info["nvidia_smi"] = smi.stdout.strip()
    return info


def stage_seconds(starts: list[tuple[str, float]], end: float) -> dict[str, float]:
    """Each stage's wall seconds: from its "Running stage" line to the next one (the last to
    `end`), DVC's own hashing and caching of its outputs included."""
    out = {}
    for i, (name, t) in enumerate(starts):
        nxt = starts[i + 1][1] if i + 1 < len(starts) else end
        out[name] = round(nxt - t, 1)
    return out


def collect(scratch: Path, dest: Path, since: float) -> list[str]:
    """Copy the files matching COLLECT that were written after `since` (epoch seconds)."""
    copied = []
    for pattern in COLLECT:
        for src in sorted(scratch.glob(pattern)):
            if src.is_file() and src.stat().st_mtime >= since:
                rel = src.relative_to(scratch)
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest / rel)
                copied.append(rel.as_posix())
    return copied


def summary_page(timings: dict, pipeline: Path) -> str:
    """summary.md: the machine, each phase's and stage's time, the findings the run judged."""
    m = timings.get("machine", {})
    lines = [
        "# gpu-check" + (" (tiny, CPU)" if timings["tiny"] else ""),
        "",
        f"Started {timings['started']}; {timings['total_s'] / 60:.1f} min in all. Machine: "
        f"{m.get('cpus')} CPUs, {m.get('gpu') or 'no GPU'}, Python {m.get('python')}, "
        f"torch {m.get('torch')}.",
        "",
        "| phase | seconds | exit code |",
        "|---|---|---|",
    ]
    for name, p in timings["phases"].items():
        lines.append(f"| {name} | {p.get('seconds', '–')} | {p.get('rc', '–')} |")
    stages = timings["phases"].get("pipeline", {}).get("stages", {})
    if stages:
        lines += ["", "| stage | seconds |", "|---|---|"]
        lines += [f"| {name} | {s} |" for name, s in stages.items()]
    metrics = pipeline / "metrics" / "evaluation.json"
    if metrics.is_file():
        findings = json.loads(metrics.read_text()).get("findings", [])
        lines += ["", "## Findings (pipeline/reports/report.md has the tables and figures)", ""]
        lines += [f"- **{f['verdict']}**: {f['claim']} — {f['evidence']}" for f in findings]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="the same path on the CPU, tiny")
    parser.add_argument(
        "--out", type=Path, help="the results folder (default: $OUT, else runs/gpu-check/<time>)"
    )
    parser.add_argument("--python", help="a Python with the project's dependencies (and `dvc`, "
                        "`bassnet` beside it): no `make setup`")  # fmt: skip
    parser.add_argument("--scratch", type=Path, help="where the copy runs (default: a new "
                        "temporary folder, removed at the end)")  # fmt: skip
    parser.add_argument("--keep-scratch", action="store_true", help="keep the copy")
    parser.add_argument(
        "--pipeline-limit-s",
        type=float,
        default=None,
        help="stop the pipeline after this many seconds (default: none)",
    )
    args = parser.parse_args()

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S") + ("-tiny" if args.tiny else "")
    out = (args.out or Path(os.environ.get("OUT") or ROOT / "runs" / "gpu-check" / stamp)).resolve()
    out.mkdir(parents=True, exist_ok=True)
    run = Run(out, args.tiny)
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "PYTHONUNBUFFERED": "1"}
    for key in ("GIT_AUTHOR", "GIT_COMMITTER"):  # DVC commits each experiment in the copy
        env.setdefault(f"{key}_NAME", "gpu-check")
        env.setdefault(f"{key}_EMAIL", "gpu-check@localhost")

    if args.python:
        python = Path(args.python).absolute()  # a venv's python: its bin/ holds dvc and bassnet
        run.timings["phases"]["setup"] = {"skipped": f"--python {python}"}
    else:
        if run.command("setup", ["make", "setup"], ROOT, env) != 0:
            return 1
        python = ROOT / ".venv" / "bin" / "python"
    bin_dir = python.parent
    for tool in ("dvc", "bassnet"):
        if not (bin_dir / tool).exists():
            print(f"error: {bin_dir / tool} is missing: install the project there", file=sys.stderr)
            return 1

    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    run.timings["machine"] = machine(str(python), env)
    head = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                          capture_output=True, text=True)  # fmt: skip
    run.timings["commit"] = head.stdout.strip() if head.returncode == 0 else None
    run.save()
    if not args.tiny and not run.timings["machine"].get("cuda"):
        print("error: torch sees no GPU here; --tiny runs the check on the CPU", file=sys.stderr)
        return 1
    if args.scratch and args.scratch.exists() and any(args.scratch.iterdir()):
        print(f"error: {args.scratch} is not empty", file=sys.stderr)
        return 1
    scratch = (args.scratch or Path(tempfile.mkdtemp(prefix="bassnet-gpu-check-"))).resolve()
    env["PYTHONPATH"] = str(scratch)  # the copy's code, also for the stages' `bassnet`
    run.timings["scratch"] = str(scratch)
    try:
        started = time.perf_counter()
        scratch.mkdir(parents=True, exist_ok=True)
        files = copy_repository(ROOT, scratch)
        run.timings["phases"]["copy"] = {"seconds": round(time.perf_counter() - started, 1),
                                         "files": files}  # fmt: skip
        run.save()
        profile = subprocess.run([str(python), "-m", "bassnet.profiles", "gpu"], cwd=scratch,
                                 env=env, capture_output=True, text=True, check=True)  # fmt: skip
        flags = shlex.split(profile.stdout)
        if args.tiny:
            for key, value in TINY.items():
                flags += ["-S", f"++profiles.gpu.{key}={value}"]
        starts: list[tuple[str, float]] = []

        def on_line(t: float, line: str) -> None:
            match = STAGE_LINE.search(line)
            if match:
                starts.append((match.group(1), t))

        since = time.time()
        run.command("pipeline", [str(bin_dir / "dvc"), "exp", "run", *flags], scratch, env,
                    args.pipeline_limit_s, on_line)  # fmt: skip
        phase = run.timings["phases"]["pipeline"]
        phase["stages"] = stage_seconds(starts, phase["seconds"])
        pipeline = out / "pipeline"
        phase["collected"] = collect(scratch, pipeline, since)
        shown = subprocess.run([str(bin_dir / "dvc"), "exp", "show", "--json"], cwd=scratch,
                               env=env, capture_output=True, text=True)  # fmt: skip
        if shown.returncode == 0:
            (pipeline / "exp_show.json").write_text(shown.stdout)
        run.save()

        bench = out / "benchmarks"
        cuda = not args.tiny
        features = [str(python), "benchmarks/features.py", "--out", str(bench / "features.json")]
        features += ["--songs", "2", "--full-clip-s", "1"] if args.tiny else ["--device", "cuda"]
        run.command("bench_features", features, scratch, env)
        train = [str(python), "benchmarks/train.py", "--features", "data/features/A1",
                 "--out", str(bench / "train.json")]  # fmt: skip
        if cuda:
            train += ["--devices", "cuda", "--profiles", "default,gpu,paper"]
        else:
            train += ["--devices", "cpu", "--profiles", "default,gpu", "--windows", "40-40",
                      "--steps", "1", "--warmup", "1"]  # fmt: skip
        run.command("bench_train", train, scratch, env)
    finally:
        run.save()
        (out / "summary.md").write_text(summary_page(run.timings, out / "pipeline"))
        if args.keep_scratch:
            print(f"[gpu-check] the copy stays in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    failed = [n for n, p in run.timings["phases"].items() if p.get("rc", 0) != 0]
    print(f"[gpu-check] {'failed: ' + ', '.join(failed) if failed else 'done'}; "
          f"{run.timings['total_s'] / 60:.1f} min → {out}")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
