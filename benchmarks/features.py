"""Benchmark: feature extraction speed and accuracy on rendered A1 songs (default profile).

Prints seconds of audio per second of compute (× real time) for each descriptor in one process
(one torch thread, as in a worker; the CQT and CREPE on `--device`), CREPE's accuracy by model
size and runtime (torch, or ONNX Runtime on the CPU: its speed-up over torch in the same run)
against the MIDI truth (the full model on a clip of `--full-clip-s` seconds: 0.17x real time on
one CPU thread), and the whole Beam job on the DirectRunner with one process per core, on as
many songs as one stage of the default profile (`--songs`), with what its steps' one-thread
speeds predict for it: the rest of its wall time is Beam's start-up, reading and writing.
With a GPU (torch sees CUDA), also the whole job on it with the full CREPE model. Writes
benchmarks/results/features.json.

Usage: python benchmarks/features.py [--songs N] [--device cpu|cuda] [--full-clip-s S] [--out FILE]
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
import pyarrow.parquet as pq
import torch

from bassnet.audio_io import read_mono
from bassnet.config import FeatureConfig, RenderConfig, load_params
from bassnet.features.accuracy import raw_pitch_accuracy
from bassnet.features.audio import resample
from bassnet.features.cqt import GroupedCQT
from bassnet.features.f0 import Crepe
from bassnet.features.level import level_db
from bassnet.features.onset import OnsetDetector
from bassnet.synth.dataset import render_dataset

RESULTS = Path(__file__).parent / "results" / "features.json"


def timed(fn, *args, **kwargs):
    started = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - started


def job_speed(manifest: Path, out: Path, extra: list[str]) -> dict:
    from bassnet.pipelines.features import run

    started = time.perf_counter()
    metrics = run(["--manifest", str(manifest), "--out", str(out), *extra])
    wall = time.perf_counter() - started
    return {
        "audio_s": round(metrics["audio_minutes"] * 60, 1),
        "x_realtime": round(metrics["audio_minutes"] * 60 / wall, 2),
        "wall_s": round(wall, 1),
        "f0_raw_pitch_accuracy": metrics["f0_raw_pitch_accuracy"],
        "onset_f_measure": metrics["onset_f_measure"],
        "bytes_per_audio_minute": metrics["bytes_per_audio_minute"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=20,
                        help="songs for the whole-job figure (a default stage's)")  # fmt: skip
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                        help="where the CQT and CREPE are timed one by one")  # fmt: skip
    parser.add_argument("--full-clip-s", type=float, default=10.0,
                        help="seconds of audio the full CREPE model is timed on")  # fmt: skip
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: torch sees no GPU here")
    if not 0 < args.full_clip_s <= 30:
        parser.error("--full-clip-s must lie in (0, 30]")

    params = load_params(profile="default")
    render_cfg = RenderConfig.from_params(params)
    cfg = FeatureConfig.from_params(params)
    torch.set_num_threads(1)
    results: dict = {"profile": "default", "cpus": os.cpu_count(), "crepe_model": cfg.crepe_model,
                     "device": args.device}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        render_dataset(
            "A1", tmp / "A1", args.songs, render_cfg.seeds["A1"], render_cfg, progress=False
        )
        labels = pq.read_table(tmp / "A1" / "labels.parquet").to_pylist()
        songs = []
        for row in labels[:2]:
            audio = {}
            for stem in ("mix", "bass"):
                data, sr = read_mono(tmp / "A1" / "audio" / f"{row['track_id']}.{stem}.wav")
                audio[stem] = resample(data, sr)
            songs.append((audio, np.asarray(row["bass_pitch"])))
        seconds = sum(len(a["bass"]) for a, _ in songs) / 16000

        cqt, onset = GroupedCQT(args.device), OnsetDetector()  # the feature job's CQT
        per_step = {
            "cqt_mix_and_bass": lambda a: (cqt(a["mix"]), cqt(a["bass"])),
            "onset": lambda a: onset(a["bass"]),
            "level": lambda a: level_db(a["bass"], cfg.level_n_fft),
        }
        speed = {}
        for name, fn in per_step.items():
            total = sum(timed(fn, a)[1] for a, _ in songs)
            speed[name] = round(seconds / total, 1)
        crepe_runs = {}
        runtimes = ["torch", "onnxruntime"] if args.device == "cpu" else ["torch"]
        runs = [("tiny", 1, r) for r in runtimes] + [("tiny", 2, r) for r in runtimes]
        for model, stride, runtime in [*runs, ("full", 1, runtimes[-1])]:
            crepe = Crepe(model, args.device, runtime)
            frames = round(args.full_clip_s * 100)  # 10-ms label frames
            clip = (
                songs
                if model == "tiny"
                else [({"bass": songs[0][0]["bass"][: frames * 160]}, songs[0][1][: frames + 1])]
            )
            clip_s = sum(len(a["bass"]) for a, _ in clip) / 16000
            total, correct = 0.0, []
            for audio, truth in clip:
                (f0, _), wall = timed(
                    crepe, audio["bass"], cfg.f0_fmin_hz, cfg.f0_fmax_hz, cfg.silence_db, stride
                )
                total += wall
                correct.append(raw_pitch_accuracy(f0, truth))
            crepe_runs[f"{model}_stride{stride}_{runtime}"] = {
                "x_realtime": round(clip_s / total, 2),
                "raw_pitch_accuracy": round(float(np.mean(correct)), 4),
                "audio_s": round(clip_s, 1),
            }
        if args.device == "cpu":
            for stride in (1, 2):
                ort, ref = (crepe_runs[f"tiny_stride{stride}_{r}"] for r in runtimes[::-1])
                ort["speedup_over_torch"] = round(ort["x_realtime"] / ref["x_realtime"], 2)
        speed["crepe"] = crepe_runs
        # one thread's seconds per second of audio for one track, as the job runs it
        job_crepe = crepe_runs[f"tiny_stride{cfg.f0_stride}_{runtimes[-1]}"]["x_realtime"]
        per_audio_s = sum(1 / speed[k] for k in per_step) + 1 / job_crepe
        results["per_descriptor_one_thread"] = speed
        print(json.dumps(speed, indent=2))

        manifest = tmp / "A1" / "manifest.csv"
        job = results["job_direct_runner"] = job_speed(manifest, tmp / "f1", [])
        workers = cfg.workers or os.cpu_count() or 1
        predicted = job["audio_s"] * per_audio_s / workers  # ignores the 2 validation songs' mix f0
        job.update(
            songs=args.songs,
            workers=workers,
            predicted_from_steps_s=round(predicted, 1),
            rest_s=round(job["wall_s"] - predicted, 1),
        )
        print("whole job, DirectRunner:", results["job_direct_runner"])
        if torch.cuda.is_available():
            gpu_params = tmp / "gpu.yaml"
            gpu = dataclasses.replace(cfg, crepe_model="full", f0_stride=1, device="cuda")
            raw = dict(params, features=dataclasses.asdict(gpu), profile="gpu")
            raw["profiles"] = {"gpu": {}}
            raw["features"]["mix_f0_splits"] = list(gpu.mix_f0_splits)
            gpu_params.write_text(json.dumps(raw))
            results["job_gpu_full_crepe"] = job_speed(
                manifest, tmp / "f2", ["--params", str(gpu_params)]
            )
            results["gpu"] = torch.cuda.get_device_name(0)
            print("whole job, GPU, full CREPE:", results["job_gpu_full_crepe"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
