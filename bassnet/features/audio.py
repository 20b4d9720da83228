"""Waveform preparation: mono, 16 kHz, stems aligned and summed, checked for content."""

from __future__ import annotations

from math import gcd

import numpy as np
from scipy.signal import resample_poly

from bassnet.constants import HOP, SR
from bassnet.errors import AudioError


def to_mono(audio: np.ndarray) -> np.ndarray:
    """(samples,) or (samples, channels) → (samples,) float32, the mean of the channels."""
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 1:
        return audio
    if audio.ndim == 2:
        return audio.mean(axis=1, dtype=np.float32)
    raise AudioError(f"expected (samples,) or (samples, channels), got shape {audio.shape}")


def resample(audio: np.ndarray, sr: int, target_sr: int = SR) -> np.ndarray:
    """Resample mono `audio` from `sr` Hz to `target_sr` Hz (polyphase, Kaiser window).

    The output has ceil(len · target_sr / sr) samples.
    """
    if sr == target_sr:
        return np.asarray(audio, dtype=np.float32)
    g = gcd(int(sr), int(target_sr))
    return resample_poly(audio, target_sr // g, sr // g).astype(np.float32)


def check_audio(audio: np.ndarray, what: str = "audio") -> None:
    """Raise AudioError for audio no feature can be computed from.

    Empty, shorter than one hop, non-finite (NaN/inf) or all-zero audio is rejected.
    """
    if audio.size == 0:
        raise AudioError(f"{what} is empty")
    if not np.all(np.isfinite(audio)):
        raise AudioError(f"{what} has NaN or infinite samples")
    if len(audio) < HOP:
        raise AudioError(f"{what} is shorter than one frame ({len(audio)} samples < {HOP})")
    if not np.any(audio):
        raise AudioError(f"{what} is silent (all samples are zero)")


def mix_stems(stems: list[np.ndarray], gains: list[float] | None = None) -> np.ndarray:
    """Sum mono stems of equal length (optionally scaled by `gains`) → (samples,) float32; one
    stem without gains is returned as it is (float32), not copied."""
    if not stems:
        raise AudioError("no stems to mix")
    lengths = {len(s) for s in stems}
    if len(lengths) > 1:
        raise AudioError(f"stems differ in length: {sorted(lengths)} samples")
    if len(stems) == 1 and gains is None:  # the same values, without two copies of the song
        return np.asarray(stems[0], dtype=np.float32)
    gains = gains or [1.0] * len(stems)
    return np.sum([g * s for g, s in zip(gains, stems, strict=True)], axis=0, dtype=np.float32)


def pad_to(audio: np.ndarray, n: int) -> np.ndarray:
    """(samples,) → (n,), silence (zeros) after its end; `audio` itself, not a copy, when it
    has n samples already. n must be at least its length."""
    if len(audio) > n:
        raise AudioError(f"cannot pad {len(audio)} samples to fewer ({n})")
    return audio if len(audio) == n else np.pad(audio, (0, n - len(audio)))


def aligned_length(lengths: dict[str, int], sr: int, tolerance_s: float) -> int:
    """The length in samples that stems of `lengths` (name → samples at `sr` Hz) are padded
    to: the longest. Stems rendered or exported one by one rarely end on the same sample (a
    release tail); ones that end more than `tolerance_s` seconds apart are not one take, and
    raise AudioError naming every length."""
    shortest, longest = min(lengths.values()), max(lengths.values())
    if longest - shortest > tolerance_s * sr:
        raise AudioError(
            f"stems differ in length by {(longest - shortest) / sr:.3g} s, more than "
            f"stems.length_tolerance_s ({tolerance_s:g} s): {lengths} samples at {sr} Hz"
        )
    return longest
