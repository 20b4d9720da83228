"""Level: the instantaneous power of the STFT spectrogram in dB (paper §4.2).

numpy and scipy only, so `bassnet generate` (which gates silent frames by this level) runs
without librosa; the values are librosa's `stft` → `power_to_db`, bit for bit, the level the
feature shards hold (tests/features/test_onset_level.py compares the two).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import get_window

from bassnet.constants import HOP, frame_count
from bassnet.features.framing import chunks

FLOOR_DB = -100.0  # power_to_db's floor (amin = 1e-10)
AMIN = 1e-10  # the smallest power, as 10^(FLOOR_DB / 10)
BLOCK_FRAMES = 64  # frames transformed at once (each frame's spectrum is the same whatever this)


def level_db(audio: np.ndarray, n_fft: int = 1024, chunk_frames: int = 4096) -> np.ndarray:
    """Mean-square power of each Hann-windowed frame in dB re full scale → (frames,) float32.

    Frames of `n_fft` samples centred on t·160 (zero-padded ends). Computed from the one-sided
    STFT power by Parseval, normalised by the window energy, so a full-scale sine reads ≈ −3 dB
    and digital silence −100 dB.
    """
    window = np.hanning(n_fft + 1)[:-1]  # periodic Hann
    scale = 2.0 / (n_fft * np.sum(window**2))
    # librosa's STFT window (scipy's periodic Hann differs from numpy's in the last bits)
    fft_window = get_window("hann", n_fft, fftbins=True)[:, None]
    out = np.empty(frame_count(len(audio)), dtype=np.float32)
    for start, stop, segment in chunks(audio, n_fft, chunk_frames):
        frames = np.lib.stride_tricks.sliding_window_view(segment, n_fft)[::HOP].T
        # complex64 in column-major order as librosa's STFT matrix: the sum over bins below
        # then adds in the same order and rounds the same
        spectrum = np.empty((n_fft // 2 + 1, frames.shape[1]), dtype=np.complex64, order="F")
        # in cache-sized blocks: twice as fast as the whole chunk at once
        for first in range(0, frames.shape[1], BLOCK_FRAMES):
            block = slice(first, first + BLOCK_FRAMES)
            spectrum[:, block] = np.fft.rfft(fft_window * frames[:, block], axis=0)
        power = scale * np.sum(np.abs(spectrum) ** 2, axis=0)
        out[start:stop] = 10.0 * np.log10(np.maximum(AMIN, power))
    return out
