import numpy as np
import pytest

from bassnet.errors import AudioError
from bassnet.features.audio import check_audio, mix_stems, resample, to_mono


def test_to_mono_averages_channels():
    stereo = np.stack([np.ones(10), -np.ones(10) * 0.5], axis=1)
    np.testing.assert_allclose(to_mono(stereo), 0.25)
    assert to_mono(np.ones(5)).dtype == np.float32


@pytest.mark.parametrize("sr", [8000, 11025, 22050, 44100, 48000, 96000])
def test_resample_length_and_pitch(sr):
    t = np.arange(sr) / sr
    y = resample(np.sin(2 * np.pi * 440 * t), sr)
    assert len(y) == 16000
    spectrum = np.abs(np.fft.rfft(y))
    assert abs(np.argmax(spectrum) - 440) <= 1  # 1 Hz bins for 1 s at 16 kHz


@pytest.mark.parametrize(
    ("audio", "message"),
    [
        (np.zeros(0, np.float32), "empty"),
        (np.array([0.1, np.nan] * 200, np.float32), "NaN"),
        (np.ones(100, np.float32), "shorter than one frame"),
        (np.zeros(16000, np.float32), "silent"),
    ],
)
def test_bad_audio_is_named(audio, message):
    with pytest.raises(AudioError, match=message):
        check_audio(audio, "bass")


def test_mix_stems_sums_and_checks_lengths():
    np.testing.assert_allclose(mix_stems([np.ones(4), np.ones(4)], [0.5, 1.0]), 1.5)
    with pytest.raises(AudioError, match="differ in length"):
        mix_stems([np.ones(4), np.ones(5)])
