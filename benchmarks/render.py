"""Benchmark: rendering the artificial datasets with the default profile on this machine.

Prints songs per second and seconds of audio per second of wall time (× real time) for each of
A1–A4 and in total, and, as a baseline in the same run, the FluidSynth command-line renderer on
the same MIDI files (one `fluidsynth -F` process per song, as many at once as we use workers).
Writes benchmarks/results/render.json (shown by `dvc metrics show`).

Usage: python benchmarks/render.py [--songs N] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow.parquet as pq

from bassnet.config import RenderConfig, load_params
from bassnet.synth.patterns import DATASETS

RESULTS = Path(__file__).parent / "results" / "render.json"


def cli_baseline(midi_files: list[Path], cfg: RenderConfig, workers: int, tmp: Path) -> float:
    """Wall seconds for the FluidSynth CLI to render each MIDI file once (all tracks)."""
    effects = "1" if cfg.effects else "0"

    def one(path: Path) -> None:
        subprocess.run(
            [
                "fluidsynth",
                "-ni",
                "-q",
                "-R",
                effects,
                "-C",
                effects,
                "-g",
                str(cfg.gain),
                "-r",
                str(cfg.sample_rate),
                "-F",
                str(tmp / f"{path.stem}.wav"),
                cfg.soundfont,
                str(path),
            ],
            check=True,
            capture_output=True,
        )

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, midi_files))
    return time.perf_counter() - started


def main() -> None:
    from bassnet.synth.dataset import render_dataset

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, help="songs per dataset (default: the profile's)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    params = load_params(profile="default")
    cfg = RenderConfig.from_params(params)
    songs = args.songs or cfg.songs
    workers = cfg.workers or os.cpu_count() or 1
    results: dict = {
        "profile": "default",
        "cpus": os.cpu_count(),
        "workers": workers,
        "sample_rate": cfg.sample_rate,
        "machine": platform.machine(),
    }
    total_audio = total_wall = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name in DATASETS:
            summary = render_dataset(name, tmp / name, songs, cfg.seeds[name], cfg, progress=False)
            total_audio += summary.audio_seconds
            total_wall += summary.wall_seconds
            results[name] = {
                "songs": songs,
                "audio_s": round(summary.audio_seconds, 1),
                "wall_s": round(summary.wall_seconds, 2),
                "songs_per_s": round(songs / summary.wall_seconds, 2),
                "x_realtime": round(summary.audio_seconds / summary.wall_seconds, 1),
            }
            print(
                f"{name}: {results[name]['songs_per_s']:6.2f} songs/s "
                f"{results[name]['x_realtime']:6.1f}x real time"
            )
        results["total"] = {
            "songs_per_s": round(len(DATASETS) * songs / total_wall, 2),
            "x_realtime": round(total_audio / total_wall, 1),
        }
        # Baseline: FluidSynth's command line on A1's MIDI files, same workers and settings.
        midi_files = sorted((tmp / "A1" / "midi").glob("*.mid"))
        a1_audio = sum(
            pq.read_table(tmp / "A1" / "labels.parquet", columns=["duration_s"])[
                "duration_s"
            ].to_pylist()
        )
        cli_wall = cli_baseline(midi_files, cfg, workers, tmp)
        results["cli_baseline_A1"] = {
            "x_realtime": round(a1_audio / cli_wall, 1),
            "note": "fluidsynth -F, one process per song, mix and bass in one render",
        }
        results["speedup_vs_cli_A1"] = round(
            results["A1"]["x_realtime"] / results["cli_baseline_A1"]["x_realtime"], 2
        )
    print(
        f"total: {results['total']['songs_per_s']:.2f} songs/s, "
        f"{results['total']['x_realtime']:.1f}x real time on {workers} workers; "
        f"A1 {results['speedup_vs_cli_A1']:.2f}x the FluidSynth CLI "
        f"({results['cli_baseline_A1']['x_realtime']:.1f}x real time, which renders mix and "
        "bass together, once)"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
