"""`bassnet encode`: µ and σ of N(x,y) per window of a song's mix and bass (paper §4.4).

The same path as the evaluation: audio → 16 kHz mono → log |CQT| → windows every b/2 frames →
multi-resolution compression → f_µ, f_σ. A user sees where a song sits in the latent space.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from bassnet.atomic import atomic_path, check_outputs
from bassnet.audio_io import read_mono
from bassnet.config import checked_device
from bassnet.constants import FRAME_RATE
from bassnet.errors import AudioError, DataError
from bassnet.features.audio import resample
from bassnet.features.cqt import GroupedCQT
from bassnet.model import BassNet
from bassnet.model.latent import trajectory

COLUMNS = ("time_s", "mu1", "mu2", "sigma1", "sigma2")


def encode_track(model: BassNet, cqt_mix: np.ndarray, cqt_bass: np.ndarray):
    """(frames, 264) log |CQT| of mix and bass → window centres in s (N,), µ (N, 2), σ (N, 2),
    one window every b/2 frames."""
    frames = min(len(cqt_mix), len(cqt_bass))
    return trajectory(model, cqt_mix[:frames], cqt_bass[:frames], hop=model.config.spec.hop,
                      with_sigma=True)  # fmt: skip


def encode_files(
    model_path: str | Path, mix: str | Path, bass: str | Path, out: str | Path,
    device: str = "cpu",
) -> int:  # fmt: skip
    """Write COLUMNS for each window of the song to the CSV `out`; returns the window count.
    The model runs on `device` ("cpu", "cuda" or "auto")."""
    device = checked_device(device)
    if not Path(model_path).is_file():
        raise DataError(f"{model_path}: no such model file")
    check_outputs([out], [model_path, mix, bass])  # before any work
    model = BassNet.load(model_path).to(device)  # a DataError for a file that is not a model
    cqt = GroupedCQT()
    spectra = []
    for path in (mix, bass):
        audio, sr = read_mono(path)
        spectra.append(cqt(resample(audio, sr)))
    if min(len(s) for s in spectra) < model.config.spec.expanded:
        raise AudioError(
            f"{mix}: shorter than the model's window {model.config.spec} "
            f"({model.config.spec.expanded / FRAME_RATE:.2f} s)"
        )
    times, mu, sigma = encode_track(model, *spectra)
    with atomic_path(out) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for t, m, s in zip(times, mu, sigma, strict=True):
            writer.writerow([f"{t:.3f}", *(f"{v:.5f}" for v in (*m[:2], *s[:2]))])
    return len(times)
