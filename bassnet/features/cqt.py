"""Constant-Q log magnitude spectrograms with nnAudio (paper §4.1).

264 bins, 36 per octave from 27.5 Hz (A0, 88 semitones), hop 160 samples at 16 kHz (10 ms).
"""

from __future__ import annotations

import numpy as np
import torch

from bassnet.constants import HOP, SR, frame_count
from bassnet.features.framing import chunks

FMIN_HZ = 27.5  # A0
BINS_PER_OCTAVE = 36  # three bins per semitone
N_BINS = 264  # 88 semitones
LOG_FLOOR = 1e-4  # magnitude floor before the log: -80 dB below a full-scale sine


def transpose_log_cqt(frames: np.ndarray, semitones: int) -> np.ndarray:
    """(frames, 264) log |CQT| moved up by `semitones` (down if negative): 3 bins a semitone;
    the bins nothing moves into get the log floor (digital silence)."""
    k = semitones * BINS_PER_OCTAVE // 12
    if k == 0:
        return frames
    out = np.full_like(frames, np.log(LOG_FLOOR))
    if k > 0:
        out[:, k:] = frames[:, :-k]
    else:
        out[:, :k] = frames[:, -k:]
    return out


def bin_frequencies() -> np.ndarray:
    """Centre frequency in Hz of each CQT bin, (264,)."""
    return FMIN_HZ * 2.0 ** (np.arange(N_BINS) / BINS_PER_OCTAVE)


def hz_to_bin(f0_hz: np.ndarray | float) -> np.ndarray:
    """Fractional CQT bin index of a frequency in Hz (bin 0 = 27.5 Hz)."""
    return BINS_PER_OCTAVE * np.log2(np.asarray(f0_hz, dtype=np.float64) / FMIN_HZ)


class CQT:
    """The nnAudio CQT filter bank, built once (≈0.15 s) and applied to many signals."""

    def __init__(self, device: str = "cpu"):
        from nnAudio.features import CQT1992v2

        self.device = device
        self.layer = CQT1992v2(
            sr=SR,
            hop_length=HOP,
            fmin=FMIN_HZ,
            n_bins=N_BINS,
            bins_per_octave=BINS_PER_OCTAVE,
            output_format="Magnitude",
            center=False,
            verbose=False,
        ).to(device)
        self.kernel_width = int(self.layer.kernel_width)

    def magnitude(self, audio: torch.Tensor) -> torch.Tensor:
        """|CQT| of (batch, samples) already padded by kernel_width/2 → (batch, 264, frames).

        With 'wrap' normalisation a unit-amplitude sine has magnitude 1 in its bin.
        """
        return self.layer(audio, normalization_type="wrap")

    def __call__(self, audio: np.ndarray, chunk_frames: int = 1000) -> np.ndarray:
        """Log magnitude CQT of mono 16 kHz `audio` → (frames, 264) float32.

        Frame t is centred on sample t·160 (the signal is zero-padded by half a kernel on each
        side), so n samples give 1 + n // 160 frames. Long signals are processed in chunks of
        `chunk_frames` frames, which bounds memory and gives the same result as one pass.
        """
        out = np.empty((frame_count(len(audio)), N_BINS), dtype=np.float32)
        with torch.inference_mode():
            for start, stop, segment in chunks(audio, self.kernel_width, chunk_frames):
                x = torch.from_numpy(segment)[None].to(self.device)
                out[start:stop] = torch.log(self.magnitude(x)[0].T + LOG_FLOOR).cpu().numpy()
        return out


class GroupedCQT(CQT):
    """The same transform as `CQT`, computed octave by octave: each octave's kernels are only
    as long as its lowest bin needs (a 36-bin octave an octave up needs half the samples), so
    the convolutions skip the zeros that pad every kernel to the longest one (≈3× less work).
    Equal to `CQT` up to float rounding (tested). This is the transform every stage uses
    (feature job, re-mixing, `encode`, `generate`); `CQT` stays as its reference."""

    def __init__(self, device: str = "cpu"):
        super().__init__(device)
        real, imag = self.layer.cqt_kernels_real, self.layer.cqt_kernels_imag  # (264, 1, W)
        support = (real.abs() + imag.abs())[:, 0] > 0
        self.groups = []
        for first in range(0, N_BINS, BINS_PER_OCTAVE):
            bins = slice(first, min(first + BINS_PER_OCTAVE, N_BINS))
            used = support[bins].any(0).nonzero()[:, 0]
            lo, hi = int(used.min()), int(used.max()) + 1
            kernel = torch.cat([real[bins, :, lo:hi], imag[bins, :, lo:hi]])
            self.groups.append((lo, hi, kernel.contiguous()))

    def magnitude(self, audio: torch.Tensor) -> torch.Tensor:
        """As `CQT.magnitude`: (batch, samples) padded by kernel_width/2 → (batch, 264, frames)."""
        x = audio.reshape(len(audio), 1, -1)
        frames = (x.shape[-1] - self.kernel_width) // HOP + 1
        parts = []
        for lo, hi, kernel in self.groups:
            span = x[..., lo : lo + (frames - 1) * HOP + (hi - lo)]
            out = torch.nn.functional.conv1d(span, kernel, stride=HOP)  # (batch, 2·bins, frames)
            real, imag = out.chunk(2, dim=1)
            parts.append(2 * torch.sqrt(real**2 + imag**2))  # 'wrap' normalisation, as CQT
        return torch.cat(parts, dim=1)
