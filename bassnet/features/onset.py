"""Onset strength with madmom's CNN onset detector (paper §4.2)."""

from __future__ import annotations

import numpy as np

from bassnet.constants import frame_count
from bassnet.features.audio import resample

MADMOM_SR = 44_100  # the CNN was trained on 44.1 kHz audio


class OnsetDetector:
    """madmom's CNNOnsetProcessor (models shipped in the package), built once."""

    def __init__(self):
        from madmom.features.onsets import CNNOnsetProcessor

        self.processor = CNNOnsetProcessor(fps=100)

    def __call__(
        self,
        audio: np.ndarray,
        sr: int = 16_000,
        chunk_frames: int = 6000,
        margin_frames: int = 100,
    ) -> np.ndarray:
        """Onset strength in [0, 1] per frame of mono `audio` → (1 + n16 // 160,) float32.

        The signal is resampled to 44.1 kHz for the network; madmom's frames at 100 fps are
        centred on the same instants as ours (t / 100 s), and the tail is trimmed or
        zero-padded to our frame count (n16 = the length at 16 kHz). Long signals go through
        in chunks of `chunk_frames` frames with `margin_frames` of context on each side (more
        than the spectrogram windows and the network see), which bounds memory: madmom holds
        whole spectrograms, ≈2 GB for 20 minutes at once.
        """
        from madmom.audio.signal import Signal

        n_frames = frame_count(int(np.ceil(len(audio) * 16_000 / sr)))
        signal = resample(audio, sr, MADMOM_SR)
        hop = MADMOM_SR // 100  # 441 samples per frame
        strength = np.zeros(n_frames, dtype=np.float32)
        for start in range(0, n_frames, chunk_frames):
            stop = min(start + chunk_frames, n_frames)
            first = max(0, start - margin_frames)
            segment = signal[first * hop : (stop + margin_frames) * hop]
            if len(segment) == 0:
                break
            values = np.asarray(
                self.processor(Signal(segment, sample_rate=MADMOM_SR, num_channels=1)),
                dtype=np.float32,
            )[start - first : start - first + stop - start]
            strength[start : start + len(values)] = values
        return strength
