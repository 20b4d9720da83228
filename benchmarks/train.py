"""Benchmark: training speed and memory of the BassNet VGAE on real A1 windows.

Prints training instances per second and peak memory for one training step (forward, backward
and an Adam update on the Eq. (9) objective, `bassnet.training.losses.train_loss`, at the profile's
batch size) with the default profile's model and train settings and with the paper's
(5 blocks × 128 maps, batch 20), each at windows 40/40 and 10/640, on the CPU and, when torch
sees CUDA, on the GPU (`--devices` picks). Batches are cut from the feature shards by
`WindowSampler`, as in training, before the clock starts: the figures are the step alone. Each
measurement runs in a fresh process, so its memory is its own: on the CPU, the growth of the
process's peak RSS (`ru_maxrss`) over warm-up and measured steps (activations, gradients, Adam
state) and the process's whole peak; on CUDA, `torch.cuda.max_memory_allocated` (growth and
whole). The paper's model takes tens of seconds a step on a 2-core CPU, so there it gets one
warm-up and one measured step (`--paper-cpu-steps`), or none with `--skip-paper-cpu`. A 40/40
window holds four times the frames per channel of 10/640, so expect about four times its step
time and activation memory (on a 2-core CPU, minutes a step and over 10 GiB). `--merge` keeps
the measurements already in the results file that a run does not repeat, so the slow ones can be
made on their own. Writes benchmarks/results/train.json.

Usage: python benchmarks/train.py [--features DIR] [--steps N] [--warmup N]
           [--windows 40-40,10-640] [--profiles default,paper] [--paper-cpu-steps N]
           [--skip-paper-cpu] [--devices cpu,cuda] [--out FILE] [--merge]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "train.json"
FEATURES = Path("data/features/A1")
MIB = 1024 * 1024


def measure(job: dict) -> dict:
    """One (profile, window, device) measurement; runs in a fresh (spawned) process."""
    import numpy as np
    import torch

    from bassnet.config import load_params
    from bassnet.constants import FRAME_RATE
    from bassnet.model import BassNet
    from bassnet.training.config import TrainConfig, model_config
    from bassnet.training.data import WindowSampler, shard_paths
    from bassnet.training.losses import train_loss

    params = load_params(profile=job["profile"])
    cfg = TrainConfig.from_params(params)
    model_cfg = model_config(params, job["window"])
    if cfg.threads:  # as in training: 0 = torch's default, one per core
        torch.set_num_threads(cfg.threads)
    device = job["device"]
    torch.manual_seed(cfg.seed)
    sampler = WindowSampler(
        shard_paths(job["features"]),
        model_cfg.spec,
        round(cfg.neighbourhood_s * FRAME_RATE),
        np.random.default_rng(0),
        model_cfg.level_floor_db,
        cfg.max_shards_in_memory,
    )
    started = time.perf_counter()
    batches = [sampler.batch(cfg.batch_size) for _ in range(job["warmup"] + job["steps"])]
    batch_ms = (time.perf_counter() - started) * 1000 / len(batches)
    model = BassNet(model_cfg).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=cfg.learning_rate)
    model.train()

    def to_device(b: dict) -> dict:
        return {
            k: ({n: t.to(device) for n, t in v.items()} if isinstance(v, dict) else v.to(device))
            for k, v in b.items()
        }

    def step(b: dict) -> float:
        loss = train_loss(model, b["x"], b["y"], b["u"], b["v"], b["targets"], b["targets_v"])
        optimiser.zero_grad(set_to_none=True)
        loss["loss"].backward()
        optimiser.step()
        return loss["loss"].item()  # also waits for the GPU

    cuda = device.startswith("cuda")
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    for b in batches[: job["warmup"]]:
        step(to_device(b))
    elapsed = 0.0
    for b in batches[job["warmup"] :]:
        b = to_device(b)
        if cuda:
            torch.cuda.synchronize()
        started = time.perf_counter()
        loss = step(b)
        elapsed += time.perf_counter() - started
    if not np.isfinite(loss):
        raise RuntimeError(f"{job}: the loss is not finite ({loss})")
    ms_per_step = elapsed * 1000 / job["steps"]
    result = {
        "batch_size": cfg.batch_size,
        "steps": job["steps"],
        "warmup": job["warmup"],
        "ms_per_step": round(ms_per_step, 1),
        "instances_per_s": round(cfg.batch_size * 1000 / ms_per_step, 2),
        "batch_sampling_ms": round(batch_ms, 1),
        "parameters": sum(p.numel() for p in model.parameters()),
        "threads": torch.get_num_threads(),
    }
    if cuda:
        peak = torch.cuda.max_memory_allocated()
        result["peak_alloc_mib"] = round(peak / MIB, 1)
        result["peak_alloc_growth_mib"] = round((peak - base) / MIB, 1)
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        result["peak_rss_mib"] = round(peak / MIB, 1)
        result["peak_rss_growth_mib"] = round((peak - base) / MIB, 1)
    return result


def cpu_model() -> str:
    """The CPU's model name (Linux), else the architecture."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run_fresh(job: dict) -> dict:
    """`measure(job)` in a new process, so that its peak RSS is not an earlier job's."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(measure, (job,))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=Path, default=FEATURES, help="feature shards")
    parser.add_argument("--steps", type=int, default=5, help="measured steps")
    parser.add_argument("--warmup", type=int, default=2, help="warm-up steps before them")
    parser.add_argument("--windows", default="40-40,10-640", help="comma-separated, e.g. 10-640")
    parser.add_argument("--profiles", default="default,paper", help="model/train settings")
    parser.add_argument(
        "--paper-cpu-steps", type=int, default=1, help="measured steps (after as many warm-up "
        "steps) of the paper's model on the CPU, tens of seconds each"
    )  # fmt: skip
    parser.add_argument("--skip-paper-cpu", action="store_true", help="no paper model on CPU")
    parser.add_argument("--devices", help="comma-separated, cpu and/or cuda (default: the CPU, "
                        "and the GPU where torch sees one)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--merge", action="store_true", help="keep the measurements in --out that this run "
        "does not repeat (e.g. the paper's model on the CPU, measured on its own)"
    )  # fmt: skip
    args = parser.parse_args()

    from bassnet.errors import DataError
    from bassnet.model.multires import WindowSpec
    from bassnet.training.data import shard_paths

    try:
        shard_paths(args.features)
    except DataError:
        parser.exit(
            1,
            f"error: {args.features} holds no feature shards (part-*.parquet); make them with "
            "`dvc repro features@A1` (or pass --features DIR)\n",
        )
    windows = [str(WindowSpec.parse(w)).replace("/", "-") for w in args.windows.split(",")]
    profiles = [p.strip() for p in args.profiles.split(",") if p.strip()]
    if min(args.steps, args.paper_cpu_steps) < 1 or args.warmup < 0:
        parser.error("--steps and --paper-cpu-steps must be >= 1, --warmup >= 0")

    import torch

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    if args.devices:
        devices = [d.strip() for d in args.devices.split(",") if d.strip()]
        if not devices or set(devices) - {"cpu", "cuda"}:
            parser.error("--devices: a comma-separated list of cpu and cuda")
        if "cuda" in devices and not torch.cuda.is_available():
            parser.error("--devices cuda: torch sees no GPU here")
    results: dict = {}
    if args.merge and args.out.exists():
        results = json.loads(args.out.read_text())
    results.update(
        features=str(args.features),
        cpus=os.cpu_count(),
        machine=platform.machine(),
        cpu_model=cpu_model(),
        device=torch.cuda.get_device_name(0) if "cuda" in devices else cpu_model(),
    )
    for device in devices:
        measured = results.setdefault(device, {})
        for profile in profiles:
            for window in windows:
                steps, warmup = args.steps, args.warmup
                if profile == "paper" and device == "cpu":
                    if args.skip_paper_cpu:
                        continue
                    steps = warmup = args.paper_cpu_steps
                job = {
                    "profile": profile,
                    "window": window,
                    "device": device,
                    "features": str(args.features),
                    "steps": steps,
                    "warmup": warmup,
                }
                print(f"{device} {profile} {window}: {warmup} warm-up + {steps} steps ...")
                load = round(os.getloadavg()[0], 2)
                measured[f"{profile}_{window}"] = {**run_fresh(job), "load_avg_1min": load}
    rows, ratios = [], []
    for device in ("cpu", "cuda"):
        measured = results.get(device, {})
        for key, r in measured.items():
            if isinstance(r, dict):
                rows.append((device, *key.split("_", 1), r))
        for key in [k for k in measured if k.startswith("default_")]:
            window = key.split("_", 1)[1]
            default, paper = measured[key], measured.get(f"paper_{window}")
            if paper:  # seconds per instance, paper / default
                ratio = round(default["instances_per_s"] / paper["instances_per_s"], 1)
                measured[f"paper_over_default_s_per_instance_{window}"] = ratio
                ratios.append((device, window, ratio))
    cpu_threads = [r["threads"] for device, *_, r in rows if device == "cpu"]
    results["threads"] = cpu_threads[0] if cpu_threads else torch.get_num_threads()

    head = (
        f"{'device':6} {'config':8} {'window':7} {'batch':>5} {'steps':>5} {'ms/step':>9} "
        f"{'inst/s':>8} {'peak MiB':>9} {'growth MiB':>10} {'params':>9} {'load':>5}"
    )
    print("\n" + head + "\n" + "-" * len(head))
    for device, profile, window, r in rows:
        peak = r.get("peak_rss_mib", r.get("peak_alloc_mib"))
        growth = r.get("peak_rss_growth_mib", r.get("peak_alloc_growth_mib"))
        print(
            f"{device:6} {profile:8} {window.replace('-', '/'):7} {r['batch_size']:5d} "
            f"{r['steps']:5d} {r['ms_per_step']:9.1f} {r['instances_per_s']:8.2f} "
            f"{peak:9.1f} {growth:10.1f} {r['parameters']:9d} {r['load_avg_1min']:5.2f}"
        )
    for device, window, ratio in ratios:
        print(
            f"{device} {window.replace('-', '/')}: the paper's model takes {ratio}x the "
            "default's seconds per instance"
        )
    print(
        f"torch threads: {results['threads']} (of {os.cpu_count()} CPUs); load: 1-min load "
        "average when the measurement began. Peak MiB: CPU = process peak RSS (ru_maxrss), "
        "CUDA = torch.cuda.max_memory_allocated; growth = over the warm-up and measured steps. "
        "Cutting the batches is not timed."
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
