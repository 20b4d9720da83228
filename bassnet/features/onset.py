"""Onset strength with madmom's CNN onset detector (paper §4.2)."""

from __future__ import annotations

import numpy as np

from bassnet.features.audio import resample
from bassnet.features.framing import frame_count

MADMOM_SR = 44_100  # the CNN was trained on 44.1 kHz audio


class OnsetDetector:
    """madmom's CNNOnsetProcessor (models shipped in the package), built once."""

    def __init__(self):
        from madmom.features.onsets import CNNOnsetProcessor

        self.processor = CNNOnsetProcessor(fps=100)

    def __call__(self, audio: np.ndarray, sr: int = 16_000) -> np.ndarray:
        """Onset strength in [0, 1] per frame of mono `audio` → (1 + n16 // 160,) float32.

        The signal is resampled to 44.1 kHz for the network; madmom's frames at 100 fps are
        centred on the same instants as ours (t / 100 s), and the tail is trimmed or
        zero-padded to our frame count (n16 = the length at 16 kHz).
        """
        from madmom.audio.signal import Signal

        n_frames = frame_count(int(np.ceil(len(audio) * 16_000 / sr)))
        signal = Signal(resample(audio, sr, MADMOM_SR), sample_rate=MADMOM_SR, num_channels=1)
        strength = np.asarray(self.processor(signal), dtype=np.float32)[:n_frames]
        return np.pad(strength, (0, n_frames - len(strength)))
