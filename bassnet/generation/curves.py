"""The model at z over a mix → frame-level bass curves: f0, voicing, level and onset.

Each window a/b of the mix's log |CQT| is compressed (paper §4.3), decoded at its z into
ŷ = g(x, z) and read by the descriptor heads; the heads' outputs are expanded back to b frames
and joined by Hann overlap-add at hop b/2 (`bassnet.model.multires`). f0 is overlap-added as class
probabilities and read off afterwards, so two windows that disagree blend instead of jumping.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import torch

from bassnet.features.cqt import BINS_PER_OCTAVE, FMIN_HZ, LOG_FLOOR, N_BINS
from bassnet.generation.folded import GenerationModel
from bassnet.model.multires import compress, expand, overlap_add

SILENT_LOG_CQT = float(np.log(LOG_FLOOR))  # log |CQT| of digital silence


@dataclass
class BassCurves:
    """Per-frame (100 frames/s) descriptors of a generated bass, each (frames,)."""

    f0_hz: np.ndarray  # 0 where unvoiced
    voicing: np.ndarray  # probability that the bass sounds, in [0, 1]
    level_db: np.ndarray  # mean-square power in dB re full scale (the level descriptor)
    onset: np.ndarray  # onset strength in [0, 1]

    def __len__(self) -> int:
        return len(self.f0_hz)

    def silence(self, frames: np.ndarray, floor_db: float) -> None:
        """No bass on `frames` (bool mask, or indices): unvoiced, level at `floor_db`, no onset."""
        self.voicing[frames] = 0.0
        self.f0_hz[frames] = 0.0
        self.level_db[frames] = floor_db
        self.onset[frames] = 0.0

    @classmethod
    def concat(cls, parts: list[BassCurves]) -> BassCurves:
        """Curves of consecutive segments joined in time."""
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                     ("f0_hz", "voicing", "level_db", "onset")))  # fmt: skip


def read_f0(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(frames, 264 + 1) class probabilities → f0 in Hz (frames,) and voicing (frames,).

    The pitch is the probability-weighted mean bin of the most likely bin and its two
    neighbours (sub-bin precision); frames whose unvoiced class has p ≥ 0.5 get 0 Hz. Without
    the unvoiced class ((frames, 264): the paper's f0) every frame is voiced here.
    """
    voicing = 1.0 - probs[:, N_BINS] if probs.shape[1] > N_BINS else np.ones(len(probs))
    bins = probs[:, :N_BINS]
    peak = bins.argmax(1)
    offsets = np.arange(-1, 2)
    idx = np.clip(peak[:, None] + offsets, 0, N_BINS - 1)
    weights = np.take_along_axis(bins, idx, 1) + 1e-12
    position = (weights * idx).sum(1) / weights.sum(1)
    f0 = FMIN_HZ * 2.0 ** (position / BINS_PER_OCTAVE)
    return np.where(voicing >= 0.5, f0, 0.0).astype(np.float32), voicing.astype(np.float32)


@torch.no_grad()
def mix_factors(model: GenerationModel, windows: np.ndarray) -> torch.Tensor:
    """Mix windows (N, b, 264) log |CQT| → compressed and encoded: enc_x's factors
    (N, n, a, 264). They do not depend on z, so a song's can be kept and reused for any z."""
    x = compress(torch.from_numpy(np.ascontiguousarray(windows)), model.config.spec, axis=1)
    return model.mix_factors(x.to(next(model.parameters()).device))


@torch.no_grad()
def latent_factors(model: GenerationModel, z: np.ndarray) -> torch.Tensor:
    """dec_z of z (N, latent_dim) → (N, n, a, F), or (1, n, a, F) when every row is the same
    z: decoded once and broadcast, as at a fixed point on the pad."""
    device = next(model.parameters()).device
    z = np.asarray(z, dtype=np.float32)
    if len(z) > 1 and np.all(z == z[:1]):
        z = z[:1]
    return model.latent_factors(torch.from_numpy(np.ascontiguousarray(z)).to(device))


@torch.no_grad()
def descriptors_from_factors(
    model: GenerationModel, fx: torch.Tensor, fz: torch.Tensor
) -> dict[str, np.ndarray]:
    """Mix factors fx (N, n, a, F) and z factors fz (N or 1, …) → expanded descriptor windows:
    f0 class probabilities (N, b, 265, or 264 without the unvoiced class), level in [0, 1]
    (N, b) and onset in [0, 1] (N, b)."""
    spec = model.config.spec
    logits = model.descriptors(model.generate_from_factors(fx, fz))
    out = {
        "f0": torch.softmax(logits["f0"], -1),
        "level": torch.sigmoid(logits["level"]),
        "onset": torch.sigmoid(logits["onset"]),
    }
    return {k: expand(v.cpu(), spec, axis=1).numpy() for k, v in out.items()}


def window_batches(cqt: np.ndarray, spec, n_frames: int, batch: int) -> Iterator[np.ndarray]:
    """The windows (≤ batch, b, 264) behind `n_frames` frames of `cqt`, which starts one hop
    before the first frame wanted: ceil(n_frames / hop) + 1 windows at hop b/2, silence past
    its end."""
    count = -(-n_frames // spec.hop) + 1
    need = (count + 1) * spec.hop
    if len(cqt) < need:
        cqt = np.pad(cqt, ((0, need - len(cqt)), (0, 0)), constant_values=SILENT_LOG_CQT)
    for first in range(0, count, batch):
        js = range(first, min(first + batch, count))
        yield np.stack([cqt[j * spec.hop : j * spec.hop + spec.expanded] for j in js])


def curves_from_factors(
    model: GenerationModel, fx_batches: Iterable[torch.Tensor], z: np.ndarray, n_frames: int,
    silence_db: float,
) -> BassCurves:  # fmt: skip
    """Curves of `n_frames` frames from the mix factors of consecutive windows (batches as
    `window_batches` cuts them), window j at z[j]: descriptors overlap-added, f0 read off.
    A model without the unvoiced class (`ModelConfig.unvoiced_class`) voices the frames whose
    generated level reaches `silence_db` (dB; `generate.silence_db`)."""
    spec = model.config.spec
    constant = latent_factors(model, z) if np.all(z == z[:1]) else None  # one dec_z for all
    parts: dict[str, list[np.ndarray]] = {"f0": [], "level": [], "onset": []}
    first = 0
    for fx in fx_batches:
        fz = constant if constant is not None else latent_factors(model, z[first : first + len(fx)])
        for name, value in descriptors_from_factors(model, fx, fz).items():
            parts[name].append(value)
        first += len(fx)
    joined = {k: overlap_add(np.concatenate(v), spec, n_frames) for k, v in parts.items()}
    f0_hz, voicing = read_f0(joined["f0"])
    floor = model.config.level_floor_db
    level_db = floor + joined["level"] * -floor  # inverse of targets.level_unit
    if not model.config.unvoiced_class:
        # the feature job made frames quieter than its silence_db unvoiced (f0 0 Hz), so a
        # bass generated that quiet is taken as not sounding
        voicing = (level_db >= silence_db).astype(np.float32)
        f0_hz = np.where(voicing > 0, f0_hz, 0.0).astype(np.float32)
    return BassCurves(f0_hz, voicing, level_db.astype(np.float32), joined["onset"])


def segment_curves(
    model: GenerationModel, cqt: np.ndarray, z: np.ndarray, n_frames: int, silence_db: float,
    batch: int = 16,
) -> BassCurves:  # fmt: skip
    """Curves of `n_frames` frames from `cqt` (≥ n_frames + 2·hop frames, starting one hop
    before the first frame wanted): windows at hop b/2 from the start of `cqt`, window j at
    z[j], overlap-added. Needs ceil(n_frames / hop) + 1 windows, so len(z) ≥ that.
    `silence_db` as in `curves_from_factors`."""
    batches = window_batches(cqt, model.config.spec, n_frames, batch)
    factors = (mix_factors(model, w) for w in batches)
    return curves_from_factors(model, factors, z, n_frames, silence_db)
