"""Where does the latent control fail: the scorer, the decoder, or z? (`bassnet control`)

The control test (bassnet/evaluation/control_rules.py) generates a bass at each pattern's centroid
of µ for a new song and scores it. This script takes the same new song and, for each pattern,
renders the bass that pattern would play throughout (FluidSynth, as the dataset), then scores
three basses against the pattern with the control's own scorer:

- true: the rendered bass's own descriptors (the feature job's CREPE f0 and madmom onsets,
  then the generation's `generated_notes`). Near 100% means the scorer and the note
  extraction are sound, so a low control score is the model's.
- µ path: generated with z = µ of each window of the mix and this true bass (`bassnet
  encode`, then generation along that path). The best z the encoder can give: a low score
  here means the decoder cannot play the pattern even from the right z.
- song mean: generated at the mean of that µ path, one z for the song (as the control does
  with the held-out centroids).
- grid best: the best score at any z of a `--grid` × `--grid` grid over the model's latent
  region (its 1st–99th percentile box of training µ, widened by 10%), and where. An upper
  bound on what any centroid can give: a low score here means no z plays the pattern.

    python experiments/control_diagnosis.py --dataset A4 --model models/A4/40-40/model.pt

Writes experiments/results/control_diagnosis_<dataset>.json; ≈1 min on 2 cores, and ≈3 s per
grid point (the default 7 × 7 grid: ≈2.5 min more).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from bassnet.api import generate_files
from bassnet.config import FeatureConfig, RenderConfig, load_params
from bassnet.evaluation import control_rules as control
from bassnet.features.audio import resample, to_mono
from bassnet.features.f0 import Crepe
from bassnet.features.level import level_db
from bassnet.features.onset import OnsetDetector
from bassnet.generation.config import GenerateConfig
from bassnet.generation.curves import BassCurves
from bassnet.generation.encode import encode_files
from bassnet.generation.notes import generated_notes
from bassnet.model import BassNet
from bassnet.synth import patterns as pt
from bassnet.synth.dataset import render_song
from bassnet.synth.fluidsynth_render import FluidRenderer
from bassnet.synth.midi import MIX_TRACKS, plan_to_midi
from bassnet.synth.plan import BASS_CHANNEL, TICKS_PER_BEAT, Note

RESULTS = Path(__file__).parent / "results"


def with_pattern(plan, pattern: int, cfg: RenderConfig):
    """`plan` with its bass playing `pattern` in every measure, gated as the renderer does."""
    beat_s = plan.tempo_us / 1e6
    notes = []
    for step in control.expected_steps(plan, pattern):
        start = round(step.start_s / beat_s * TICKS_PER_BEAT)
        length = round(step.seconds / beat_s * cfg.gate * TICKS_PER_BEAT)
        notes.append(Note(start, start + length, step.pitch, cfg.velocity["bass"], BASS_CHANNEL))
    return dataclasses.replace(plan, bass_notes=tuple(notes), patterns=(pattern,) * plan.n_measures)


def true_curves(audio: np.ndarray, sr: int, crepe: Crepe, onsets: OnsetDetector,
                features: FeatureConfig) -> BassCurves:  # fmt: skip
    """The feature job's descriptors of a bass recording, as generation curves."""
    mono = resample(to_mono(audio), sr)
    f0, _ = crepe(mono, features.f0_fmin_hz, features.f0_fmax_hz, features.silence_db)
    onset, level = onsets(mono), level_db(mono, features.level_n_fft)
    n = min(len(f0), len(onset), len(level))
    f0 = f0[:n].astype(np.float32)
    return BassCurves(f0, (f0 > 0).astype(np.float32), level[:n], onset[:n])


def grid_best(plan, mix: Path, model: str, n: int, work: Path, gen: GenerateConfig) -> dict:
    """{pattern: (best score, [z1, z2])} over an n × n grid of z spanning the model's latent
    region: the most a single z can give each pattern on this song."""
    region = BassNet.load(model).extra["latent_region"]
    patterns = range(1, pt.DATASETS[plan.dataset].n_patterns + 1)
    steps = {p: control.expected_steps(plan, p) for p in patterns}
    best = {p: (-1.0, None) for p in patterns}
    axes = [np.linspace(lo, hi, n) for lo, hi in zip(region["low"], region["high"], strict=True)]
    for z in itertools.product(*axes):
        result = generate_files(mix, work / "grid", model, z=np.array(z), cfg=gen, progress=False)
        for p in patterns:
            score = control.pattern_score(plan, p, result.curves, result.bass_notes, steps[p])
            if score > best[p][0]:
                best[p] = (score, [round(float(v), 3) for v in z])
    return best


def diagnose(dataset: str, model: str, work: Path, params: dict, grid: int = 7) -> dict:
    """{pattern: {"true", "mu_path", "song_mean": score, "mu_mean": [z1, z2], "grid_best":
    score, "grid_best_z": [z1, z2]}} for one model; no grid rows where `grid` is 0."""
    cfg, features = RenderConfig.from_params(params), FeatureConfig.from_params(params)
    gen = GenerateConfig.from_params(params)
    renderer = FluidRenderer(cfg.soundfont, cfg.sample_rate, cfg.gain, cfg.effects)
    crepe, onsets = Crepe(features.crepe_model), OnsetDetector()
    index, seed = control.CONTROL_SONG_INDEX, cfg.seeds[dataset]
    plan, _, (mix_audio,) = render_song(dataset, index, seed, cfg, renderer, (MIX_TRACKS,))
    n_samples = len(mix_audio)
    mix = work / "mix.wav"
    sf.write(mix, mix_audio, cfg.sample_rate)
    out = {}
    try:
        for p in range(1, pt.DATASETS[dataset].n_patterns + 1):
            bass_audio = renderer.render(plan_to_midi(with_pattern(plan, p, cfg)), ("bass",),
                                         n_samples)  # fmt: skip
            bass = work / f"bass{p}.wav"
            sf.write(bass, bass_audio, cfg.sample_rate)
            curves = true_curves(bass_audio, cfg.sample_rate, crepe, onsets, features)
            notes = generated_notes(curves, gen)
            row = {"true": control.pattern_score(plan, p, curves, notes)}
            encode_files(model, mix, bass, work / f"mu{p}.csv")
            mu_rows = np.genfromtxt(work / f"mu{p}.csv", delimiter=",", names=True)
            path = work / f"path{p}.csv"
            np.savetxt(path, np.column_stack([mu_rows["time_s"], mu_rows["mu1"], mu_rows["mu2"]]),
                       delimiter=",", header="time_s,z1,z2", comments="", fmt="%.5f")  # fmt: skip
            mean = np.array([mu_rows["mu1"].mean(), mu_rows["mu2"].mean()])
            for name, z in (("mu_path", {"z_path": path}), ("song_mean", {"z": mean})):
                result = generate_files(mix, work / f"{name}{p}", model, cfg=gen, progress=False,
                                        **z)  # fmt: skip
                row[name] = control.pattern_score(plan, p, result.curves, result.bass_notes)
            row = {k: round(v, 3) for k, v in row.items()} | {"mu_mean": mean.round(3).tolist()}
            print(f"{dataset} pattern {p}: " + ", ".join(f"{k} {v}" for k, v in row.items()))
            out[p] = row
    finally:
        renderer.close()
    if grid:
        for p, (score, z) in grid_best(plan, mix, model, grid, work, gen).items():
            out[p] |= {"grid_best": round(score, 3), "grid_best_z": z}
            print(f"{dataset} pattern {p}: grid best {score:.3f} at z = {z}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", required=True, help="A1, A2, A3 or A4")
    parser.add_argument("--model", required=True, help="a model.pt")
    parser.add_argument("--out", help="default: experiments/results/control_diagnosis_<ds>.json")
    parser.add_argument("--grid", type=int, default=7,
                        help="grid points per latent axis for the grid best (0: none)")  # fmt: skip
    args = parser.parse_args()
    params = load_params()
    with tempfile.TemporaryDirectory(prefix="control_diagnosis_") as tmp:
        result = diagnose(args.dataset, args.model, Path(tmp), params, args.grid)
    out = Path(args.out or RESULTS / f"control_diagnosis_{args.dataset}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"model": args.model, "patterns": result}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
