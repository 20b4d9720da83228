"""Training targets from the bass descriptors (paper §4.2, Eq. 9). Pure NumPy / torch.

- f0 → a class per frame: the nearest of the 264 CQT bin centres, and one extra class
  `n_bins` (= 264) for unvoiced frames (f0 = 0 Hz: no bass sounding, or too quiet for CREPE).
- level dB → [0, 1]: l = (dB − floor) / (−floor), clipped, so 0 dBFS is 1 and the floor
  (default −100 dB, the level descriptor's own floor) is 0; the model predicts it as a
  Bernoulli mean.
- onset strength is already in [0, 1] (madmom's CNN activation).
Per window the targets are compressed like the spectrograms (`bassnet.model.multires`): the f0
classes as one-hot rows averaged per resolution, i.e. soft class distributions.
"""

from __future__ import annotations

import numpy as np
import torch

from bassnet.features.cqt import BINS_PER_OCTAVE, N_BINS, hz_to_bin
from bassnet.model.multires import WindowSpec, compress


def f0_classes(f0_hz: np.ndarray, n_bins: int = N_BINS) -> np.ndarray:
    """(frames,) Hz → (frames,) int16 class: nearest CQT bin 0..n_bins−1, n_bins if unvoiced."""
    f0_hz = np.nan_to_num(np.asarray(f0_hz, dtype=np.float64), nan=0.0)
    voiced = f0_hz > 0
    bins = np.full(f0_hz.shape, n_bins, dtype=np.int16)
    bins[voiced] = np.clip(np.rint(hz_to_bin(f0_hz[voiced])), 0, n_bins - 1)
    return bins


def transpose_f0_classes(classes: np.ndarray, semitones: int, n_bins: int = N_BINS) -> np.ndarray:
    """(frames,) f0 classes moved by `semitones` (3 bins each), clipped to the CQT's range;
    unvoiced frames (class n_bins) stay unvoiced."""
    if semitones == 0:
        return classes
    out = classes.copy()
    voiced = out < n_bins
    out[voiced] = np.clip(out[voiced] + semitones * BINS_PER_OCTAVE // 12, 0, n_bins - 1)
    return out


def level_unit(level_db: np.ndarray, floor_db: float) -> np.ndarray:
    """(frames,) dB → (frames,) float32 in [0, 1]: (dB − floor) / (−floor), clipped."""
    unit = (np.asarray(level_db, dtype=np.float32) - floor_db) / -floor_db
    return np.clip(unit, 0.0, 1.0)


def window_targets(
    f0_class: torch.Tensor, level: torch.Tensor, onset: torch.Tensor, spec: WindowSpec
) -> dict[str, torch.Tensor]:
    """Batched (B, b) frame targets → compressed (B, C, a[, n_bins + 1]) targets: f0 as soft
    class distributions, level and onset as values in [0, 1]."""
    n_classes = N_BINS + 1
    one_hot = torch.nn.functional.one_hot(f0_class.long(), n_classes).float()
    return {
        "f0": compress(one_hot, spec, axis=1),
        "level": compress(level.float(), spec, axis=1),
        "onset": compress(onset.float(), spec, axis=1),
    }
