"""Where does the latent control fail: the scorer, the decoder, or z? (`bassnet control`)

The control test (bassnet/generation/control.py) generates a bass at each pattern's centroid
of µ for a new song and scores it. This script takes the same new song and, for each pattern,
renders the bass that pattern would play throughout (FluidSynth, as the dataset), then scores
three basses against the pattern with the control's own scorer:

- true: the rendered bass's own descriptors (the feature job's CREPE f0 and madmom onsets,
  then the generation's `curves_to_notes`). Near 100% means the scorer and the note
  extraction are sound, so a low control score is the model's.
- µ path: generated with z = µ of each window of the mix and this true bass (`bassnet
  encode`, then generation along that path). The best z the encoder can give: a low score
  here means the decoder cannot play the pattern even from the right z.
- song mean: generated at the mean of that µ path, one z for the song (as the control does
  with the validation centroid).

    python experiments/control_diagnosis.py --dataset A4 --model models/A4/40-40/model.pt

Writes experiments/results/control_diagnosis_<dataset>.json; ≈1 min on 2 cores.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from bassnet.config import FeatureConfig, RenderConfig, load_params
from bassnet.encode import encode_files
from bassnet.features.audio import resample, to_mono
from bassnet.features.f0 import Crepe
from bassnet.features.level import level_db
from bassnet.features.onset import OnsetDetector
from bassnet.generation import control
from bassnet.generation.config import GenerateConfig
from bassnet.generation.curves import BassCurves
from bassnet.generation.notes import curves_to_notes
from bassnet.generation.pipeline import generate_files
from bassnet.synth import patterns as pt
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


def diagnose(dataset: str, model: str, work: Path, params: dict) -> dict:
    """{pattern: {"true", "mu_path", "song_mean": score, "mu_mean": [z1, z2]}} for one model."""
    cfg, features = RenderConfig.from_params(params), FeatureConfig.from_params(params)
    gen = GenerateConfig.from_params(params)
    renderer = FluidRenderer(cfg.soundfont, cfg.sample_rate, cfg.gain, cfg.effects)
    crepe, onsets = Crepe(features.crepe_model), OnsetDetector()
    index, seed = control.CONTROL_SONG_INDEX, cfg.seeds[dataset]
    plan, (mix_audio,) = control.render_song(dataset, index, cfg, seed, renderer, (MIX_TRACKS,))
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
            row = {"true": control.pattern_score(plan, p, curves, curves_to_notes(
                curves, gen.onset_threshold, gen.min_note_frames))}  # fmt: skip
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
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", required=True, help="A1, A2, A3 or A4")
    parser.add_argument("--model", required=True, help="a model.pt")
    parser.add_argument("--out", help="default: experiments/results/control_diagnosis_<ds>.json")
    args = parser.parse_args()
    params = load_params()
    with tempfile.TemporaryDirectory(prefix="control_diagnosis_") as tmp:
        result = diagnose(args.dataset, args.model, Path(tmp), params)
    out = Path(args.out or RESULTS / f"control_diagnosis_{args.dataset}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"model": args.model, "patterns": result}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
