"""Benchmark: `bassnet generate` on a 3-minute song, on this machine.

Renders one A1 song of about 3 minutes (FluidSynth, default profile settings), then times the
whole generation — reading and resampling the mix, CQT, the model at z, overlap-add, notes,
MIDI and additive synthesis to WAV — for the shipped models (default: A1 and A4, both
40/40) and prints seconds of audio per second of compute (× real time). The CQT alone is timed
in the same run, with nnAudio's dense convolution and grouped by octave (what every stage
uses). Writes benchmarks/results/generate.json.

Usage: python benchmarks/generate.py [--seconds 180] [--models A1,A4] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from common import machine, render_a1_song

from bassnet.api import generate_files
from bassnet.pretrained import resolve

RESULTS = Path(__file__).parent / "results" / "generate.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--models", default="A1,A4")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args()

    results: dict = {"machine": machine()}
    with tempfile.TemporaryDirectory() as tmp:
        mix = render_a1_song(Path(tmp) / "song", args.seconds, 777)
        import soundfile as sf

        seconds = sf.info(mix).duration
        results["audio_seconds"] = round(seconds, 2)
        from bassnet.features.audio import resample
        from bassnet.features.cqt import CQT, GroupedCQT

        audio, sr = sf.read(mix, dtype="float32")
        mono = resample(audio.mean(1) if audio.ndim == 2 else audio, sr)
        for name, cqt in (("cqt_dense", CQT()), ("cqt_grouped", GroupedCQT())):
            started = time.perf_counter()
            cqt(mono)
            results[f"{name}_x_realtime"] = round(seconds / (time.perf_counter() - started), 1)
        for name in args.models.split(","):
            generate_files(mix, Path(tmp) / "warm", resolve(name), progress=False)  # warm-up
            result = generate_files(mix, Path(tmp) / name, resolve(name), progress=False)
            results[name] = {
                "compute_s": round(result.seconds_compute, 3),
                "x_realtime": round(result.realtime_factor, 1),
                "notes": result.notes,
            }
            print(f"{name}: {seconds:.0f} s of audio in {result.seconds_compute:.2f} s "
                  f"→ {result.realtime_factor:.0f}× real time ({result.notes} notes)")  # fmt: skip
    print(f"CQT alone: {results['cqt_dense_x_realtime']:.0f}× real time dense (nnAudio), "
          f"{results['cqt_grouped_x_realtime']:.0f}× grouped by octave (every stage)")  # fmt: skip
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(f"→ {args.out}")


if __name__ == "__main__":
    main()
