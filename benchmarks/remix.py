"""Benchmark: training batches of a stem collection with and without on-the-fly re-mixing.

Renders a small collection (A1 songs, each as chords/drums/bass stems through FluidSynth, flat
layout), runs the feature job on it, then times `WindowSampler.batch` (the windows a training
step needs, neighbours included) with the re-mixer and, as the baseline in the same run,
without it, at each given window size. Prints instances per second and the re-mixing cost per
instance. Writes benchmarks/results/remix.json.

Usage: python benchmarks/remix.py [--songs 4] [--seconds 30] [--windows 40-40,10-640]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

RESULTS = Path(__file__).parent / "results" / "remix.json"


def make_collection(root: Path, songs: int, seconds: float) -> Path:
    """A flat-layout stem collection of A1 songs; returns its manifest."""
    from bassnet.config import RenderConfig, load_params
    from bassnet.stems.layouts import scan, write_manifest
    from bassnet.synth.fluidsynth_render import FluidRenderer
    from bassnet.synth.midi import plan_to_midi
    from bassnet.synth.plan import make_plan

    cfg = dataclasses.replace(RenderConfig.from_params(load_params(profile="default")),
                              seconds=seconds)  # fmt: skip
    renderer = FluidRenderer(cfg.soundfont, cfg.sample_rate, cfg.gain, cfg.effects)
    for i in range(songs):
        plan = make_plan("A1", i, 900 + i, cfg)
        midi, n = plan_to_midi(plan), round(plan.duration_s * cfg.sample_rate)
        for stem, track in (("keys", "chords"), ("drums", "drums"), ("bass", "bass")):
            (root / f"song{i}").mkdir(parents=True, exist_ok=True)
            audio = renderer.render(midi, (track,), n).mean(axis=1)
            sf.write(root / f"song{i}" / f"{stem}.wav", audio, cfg.sample_rate)
    renderer.close()
    rows, _ = scan("flat", root)
    write_manifest(rows, root / "manifest.csv")
    return root / "manifest.csv"


def time_batches(sampler, batch: int, repeats: int) -> float:
    sampler.batch(batch)  # warm-up
    started = time.perf_counter()
    for _ in range(repeats):
        sampler.batch(batch)
    return repeats * batch / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--windows", default="40-40,10-640")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args()

    from bassnet.model.multires import WindowSpec
    from bassnet.pipelines.features import run
    from bassnet.training.data import WindowSampler, shard_paths
    from bassnet.training.remix import Remixer

    results: dict = {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                     "batch": args.batch}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        manifest = make_collection(Path(tmp) / "collection", args.songs, args.seconds)
        run(["--manifest", str(manifest), "--out", str(Path(tmp) / "features"), "--split-seed",
             "0", "--direct_running_mode", "in_memory", "--direct_num_workers", "1"])  # fmt: skip
        shards = shard_paths(Path(tmp) / "features")
        for window in args.windows.split(","):
            spec = WindowSpec.parse(window)
            speeds = {}
            for name, remixer in (("plain", None), ("remix", Remixer(0.5, 1.0))):
                sampler = WindowSampler(shards, spec, 500, np.random.default_rng(0), -100.0, 8,
                                        remixer=remixer)  # fmt: skip
                speeds[name] = time_batches(sampler, args.batch, args.repeats)
            cost_ms = 1000 * (1 / speeds["remix"] - 1 / speeds["plain"])
            results[spec.slug] = {
                "instances_per_s_plain": round(speeds["plain"], 1),
                "instances_per_s_remix": round(speeds["remix"], 1),
                "remix_ms_per_instance": round(cost_ms, 1),
            }
            print(f"{spec}: {speeds['plain']:.0f} instances/s without re-mixing, "
                  f"{speeds['remix']:.0f} with (+{cost_ms:.1f} ms per instance and its "
                  f"neighbour)")  # fmt: skip
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(f"→ {args.out}")


if __name__ == "__main__":
    main()
