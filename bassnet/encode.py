"""`bassnet encode`: µ and σ of N(x,y) per window of a song's mix and bass (paper §4.4).

The same path as the evaluation: audio → 16 kHz mono → log |CQT| → windows every b/2 frames →
multi-resolution compression → f_µ, f_σ. A user sees where a song sits in the latent space.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch

from bassnet.atomic import atomic_path, check_outputs
from bassnet.audio_io import read_mono
from bassnet.constants import FRAME_RATE
from bassnet.data import Track, cut
from bassnet.errors import AudioError, DataError
from bassnet.features.audio import resample
from bassnet.features.cqt import GroupedCQT
from bassnet.model import BassNet

COLUMNS = ("time_s", "mu1", "mu2", "sigma1", "sigma2")


@torch.no_grad()
def latent(model: BassNet, x: torch.Tensor, y: torch.Tensor, batch: int = 64):
    """µ and σ of N(x,y) for compressed windows x, y: two (N, latent_dim) arrays."""
    device = next(model.parameters()).device
    mus, logvars = [], []
    for i in range(0, len(x), batch):
        fx = model.mix_factors(x[i : i + batch].to(device))
        mu, logvar = model.posterior(fx, y[i : i + batch].to(device))
        mus.append(mu.cpu())
        logvars.append(logvar.cpu())
    mu, logvar = torch.cat(mus).numpy(), torch.cat(logvars).numpy()
    return mu, np.exp(0.5 * logvar)


@torch.no_grad()
def trajectory(model: BassNet, track: Track, hop: int | None = None, with_sigma: bool = False):
    """µ over time for a whole track: windows every `hop` frames (default: the compressed
    size a). Returns times of the window centres in s (N,) and µ (N, latent_dim) [and σ]."""
    spec = model.config.spec
    hop = hop or spec.compressed
    if len(track) < spec.expanded:
        raise DataError(f"track {track.track_id} is shorter than the window {spec}")
    starts = np.arange(0, len(track) - spec.expanded + 1, hop)
    batch = cut([track], np.zeros(len(starts), dtype=int), starts, spec)
    mu, sigma = latent(model, batch["x"], batch["y"])
    times = (starts + spec.expanded / 2) / FRAME_RATE
    return (times, mu, sigma) if with_sigma else (times, mu)


def encode_track(model: BassNet, cqt_mix: np.ndarray, cqt_bass: np.ndarray):
    """(frames, 264) log |CQT| of mix and bass → window centres in s (N,), µ (N, 2), σ (N, 2),
    one window every b/2 frames."""
    frames = min(len(cqt_mix), len(cqt_bass))
    empty = np.zeros(frames, dtype=np.float32)
    track = Track("song", cqt_mix[:frames], cqt_bass[:frames], empty.astype(np.int16), empty,
                  empty, None)  # fmt: skip
    return trajectory(model, track, hop=model.config.spec.hop, with_sigma=True)


def encode_files(
    model_path: str | Path, mix: str | Path, bass: str | Path, out: str | Path,
    device: str = "cpu",
) -> int:  # fmt: skip
    """Write COLUMNS for each window of the song to the CSV `out`; returns the window count.
    The model runs on `device` ("cpu", "cuda" or "auto")."""
    from bassnet.generation.pipeline import model_device

    device = model_device(device)
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
