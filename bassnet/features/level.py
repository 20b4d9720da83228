"""Level: the instantaneous power of the STFT spectrogram in dB (paper §4.2, librosa)."""

from __future__ import annotations

import numpy as np

from bassnet.constants import frame_count
from bassnet.features.framing import chunks

FLOOR_DB = -100.0  # power_to_db's floor (amin = 1e-10)


def level_db(audio: np.ndarray, n_fft: int = 1024, chunk_frames: int = 4096) -> np.ndarray:
    """Mean-square power of each Hann-windowed frame in dB re full scale → (frames,) float32.

    Frames of `n_fft` samples centred on t·160 (zero-padded ends). Computed from the one-sided
    STFT power by Parseval, normalised by the window energy, so a full-scale sine reads ≈ −3 dB
    and digital silence −100 dB.
    """
    import librosa

    window = np.hanning(n_fft + 1)[:-1]  # periodic Hann, as librosa's default
    scale = 2.0 / (n_fft * np.sum(window**2))
    out = np.empty(frame_count(len(audio)), dtype=np.float32)
    for start, stop, segment in chunks(audio, n_fft, chunk_frames):
        spectrum = librosa.stft(segment, n_fft=n_fft, hop_length=160, center=False)
        power = scale * np.sum(np.abs(spectrum) ** 2, axis=0)
        out[start:stop] = librosa.power_to_db(power, ref=1.0, amin=1e-10, top_db=None)
    return out
