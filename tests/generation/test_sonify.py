"""Additive synthesis follows the f0 and level curves, and streams without seams."""

import numpy as np

from bassnet.generation.curves import BassCurves
from bassnet.generation.sonify import synthesize


def steady(f0_hz: float, level_db: float, frames: int = 200) -> BassCurves:
    return BassCurves(
        np.full(frames, f0_hz, np.float32), np.ones(frames, np.float32),
        np.full(frames, level_db, np.float32), np.zeros(frames, np.float32),
    )  # fmt: skip


def test_the_tone_has_the_curve_s_pitch_and_level():
    sr = 16000
    audio, _ = synthesize(steady(55.0, -20.0), np.array([]), sr, 0, 2 * sr)
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
    peak_hz = np.argmax(spectrum) * sr / len(audio)
    assert abs(peak_hz - 55.0) < 1.0
    rms_db = 20 * np.log10(np.sqrt(np.mean(audio[sr // 10 :] ** 2)))
    assert abs(rms_db - -20.0) < 1.0


def test_spans_synthesized_in_pieces_equal_one_pass():
    sr, curves, starts = 22050, steady(82.4, -15.0), np.array([0.0, 0.5, 1.2])
    whole, _ = synthesize(curves, starts, sr, 0, 2 * sr)
    first, phase = synthesize(curves, starts, sr, 0, 12345)
    second, _ = synthesize(curves, starts, sr, 12345, 2 * sr - 12345, phase)
    assert np.allclose(np.concatenate([first, second]), whole, atol=1e-4)


def test_unvoiced_frames_are_silent():
    curves = steady(55.0, -20.0)
    curves.voicing[:] = 0.0
    audio, _ = synthesize(curves, np.array([]), 16000, 0, 16000)
    assert not np.any(audio)
