"""Temporal multi-resolution windows (paper §4.3). Pure; NumPy arrays or torch tensors.

A window `a/b` of b frames is compressed into log2(b/a) + 1 channels of a frames each:
channel k is the window averaged over blocks of 2^k frames and cropped to its central a
values, so channel 0 keeps the centre at full resolution and the last channel spans the
whole window coarsely (4/16 → 3 × 4 = 12 values; 4/128 → 6 × 4 = 24). Expansion upsamples
each channel and lets the finer ones overwrite the centre. Whole tracks are cut into windows
at hop b/2 and joined again by overlap-add with an even-sized periodic Hann window, whose
shifted copies at hop b/2 sum to one.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

try:  # torch is optional here: the functions work on NumPy arrays alone
    import torch
except ImportError:  # pragma: no cover
    torch = None


def _is_torch(x) -> bool:
    return torch is not None and isinstance(x, torch.Tensor)


@dataclass(frozen=True)
class WindowSpec:
    """A multi-resolution window: `compressed` frames per channel, `expanded` frames in all."""

    compressed: int
    expanded: int

    def __post_init__(self) -> None:
        a, b = self.compressed, self.expanded
        if a < 1 or b < a or b % a or (b // a) & (b // a - 1):
            raise ValueError(f"window {a}/{b}: need b = a·2^k with a >= 1")
        if b % 2:
            raise ValueError(f"window {a}/{b}: the expanded size must be even (hop b/2)")

    @classmethod
    def parse(cls, text: str) -> WindowSpec:
        """'40/640' (or '40-640', the form used in file and stage names) → WindowSpec(40, 640)."""
        match = re.fullmatch(r"\s*(\d+)\s*[/-]\s*(\d+)\s*", str(text))
        if not match:
            raise ValueError(f"window spec must look like '40/640' or '40-640', got {text!r}")
        return cls(int(match[1]), int(match[2]))

    @property
    def channels(self) -> int:
        """log2(b/a) + 1."""
        return int(math.log2(self.expanded // self.compressed)) + 1

    @property
    def hop(self) -> int:
        """Frames between consecutive windows of a track: b/2."""
        return self.expanded // 2

    def __str__(self) -> str:
        return f"{self.compressed}/{self.expanded}"

    @property
    def slug(self) -> str:
        """'40-640': the spec as used in paths and DVC stage names."""
        return f"{self.compressed}-{self.expanded}"


def _move(x, source, destination):
    """np.moveaxis / Tensor.movedim."""
    return x.movedim(source, destination) if _is_torch(x) else np.moveaxis(x, source, destination)


def compress(window, spec: WindowSpec, axis: int = 0):
    """(…, b, …) with time on `axis` → (…, channels, a, …), channels inserted at `axis`."""
    x = _move(window, axis, 0)
    b, a = spec.expanded, spec.compressed
    if x.shape[0] != b:
        raise ValueError(f"window {spec} expects {b} frames on axis {axis}, got {x.shape[0]}")
    channels = []
    for k in range(spec.channels):
        factor = 2**k
        pooled = x.reshape(b // factor, factor, *x.shape[1:]).mean(1)
        start = (b // factor - a) // 2
        channels.append(pooled[start : start + a])
    stacked = torch.stack(channels) if _is_torch(x) else np.stack(channels)
    return _move(stacked, (0, 1), (axis, axis + 1))


def expand(compressed, spec: WindowSpec, axis: int = 0):
    """(…, channels, a, …) with channels on `axis` → (…, b, …): coarse channels upsampled,
    finer ones written over the centre. Exact on the central a frames."""
    x = _move(compressed, (axis, axis + 1), (0, 1))
    if x.shape[0] != spec.channels or x.shape[1] != spec.compressed:
        raise ValueError(
            f"window {spec} expects ({spec.channels}, {spec.compressed}) on axes "
            f"{axis}, {axis + 1}, got {tuple(x.shape[:2])}"
        )
    b, a = spec.expanded, spec.compressed
    out = None
    for k in reversed(range(spec.channels)):
        factor = 2**k
        up = (
            x[k].repeat_interleave(factor, dim=0)
            if _is_torch(x)
            else np.repeat(x[k], factor, axis=0)
        )
        if out is None:
            out = up.clone() if _is_torch(up) else up.copy()
        else:
            start = (b - a * factor) // 2
            out[start : start + a * factor] = up
    return _move(out, 0, axis)


def hann(length: int) -> np.ndarray:
    """Even-sized periodic ("non-symmetric") Hann window: copies at hop length/2 sum to 1."""
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(length) / length)).astype(np.float32)


def n_windows(n_frames: int, spec: WindowSpec) -> int:
    """Windows covering a track of n_frames at hop b/2, the track padded by b/2 at each end."""
    return (n_frames - 1) // spec.hop + 2  # every frame lies in exactly two windows


def frame_track(track: np.ndarray, spec: WindowSpec) -> np.ndarray:
    """(frames, …) → (windows, b, …): windows at hop b/2 of the track zero-padded by b/2 at
    the start and enough at the end; window i starts at frame i·b/2 − b/2."""
    track = np.asarray(track)
    count = n_windows(len(track), spec)
    total = (count + 1) * spec.hop
    pad = [(spec.hop, total - len(track) - spec.hop)] + [(0, 0)] * (track.ndim - 1)
    padded = np.pad(track, pad)
    return np.stack([padded[i * spec.hop : i * spec.hop + spec.expanded] for i in range(count)])


def overlap_add(windows: np.ndarray, spec: WindowSpec, n_frames: int) -> np.ndarray:
    """(windows, b, …) → (n_frames, …): Hann-weighted overlap-add at hop b/2, the inverse of
    `frame_track` (each frame is covered by two windows whose weights sum to one)."""
    windows = np.asarray(windows)
    weight = hann(spec.expanded).reshape(-1, *([1] * (windows.ndim - 2)))
    out = np.zeros(((len(windows) + 1) * spec.hop, *windows.shape[2:]), dtype=np.float32)
    for i, w in enumerate(windows):
        out[i * spec.hop : i * spec.hop + spec.expanded] += weight * w
    return out[spec.hop : spec.hop + n_frames]
