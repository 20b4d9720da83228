import numpy as np
import pytest

from bassnet.features.cqt import (
    CQT,
    LOG_FLOOR,
    N_BINS,
    bin_frequencies,
    hz_to_bin,
    transpose_log_cqt,
)
from tests.features.signals import sine


@pytest.fixture(scope="module")
def cqt():
    return CQT()


def test_a_sine_at_midi_45_peaks_at_its_bin(cqt):
    # MIDI 45 = A2 = 110 Hz = 2 octaves above 27.5 Hz = bin 72
    assert hz_to_bin(110.0) == pytest.approx(72)
    spec = cqt(sine(110.0, 2.0, amplitude=0.5))
    assert spec.shape == (1 + 32000 // 160, N_BINS)
    middle = spec[50:-50]
    assert np.all(middle.argmax(axis=1) == 72)
    # 'wrap' normalisation: a sine's peak magnitude equals its amplitude
    assert np.exp(middle[:, 72]).mean() == pytest.approx(0.5, rel=0.02)


def test_chunking_changes_nothing(cqt):
    x = sine(55.0, 1.3) + sine(440.0, 1.3, 0.1)
    np.testing.assert_array_equal(cqt(x, chunk_frames=7), cqt(x, chunk_frames=10_000))


def test_transposing_a_cqt_matches_the_transposed_sine(cqt):
    a2, c3 = cqt(sine(110.0, 1.0))[30:-30], cqt(sine(110.0 * 2 ** (3 / 12), 1.0))[30:-30]
    up = transpose_log_cqt(a2, 3)
    assert np.all(up.argmax(axis=1) == c3.argmax(axis=1)) and np.all(c3.argmax(axis=1) == 81)
    assert np.allclose(up[:, :9], np.log(LOG_FLOOR))  # nothing moves into the lowest 9 bins
    down = transpose_log_cqt(a2, -2)
    assert np.all(down.argmax(axis=1) == 66) and np.allclose(down[:, -6:], np.log(LOG_FLOOR))
    assert transpose_log_cqt(a2, 0) is a2


def test_silence_is_at_the_floor(cqt):
    spec = cqt(np.zeros(4000, np.float32))
    assert np.allclose(spec, np.log(LOG_FLOOR))


def test_bin_frequencies_span_88_semitones():
    f = bin_frequencies()
    assert f[0] == 27.5 and f[36] == pytest.approx(55.0)
    assert f[-1] == pytest.approx(27.5 * 2 ** (263 / 36))


def test_the_grouped_cqt_equals_the_dense_one():
    from bassnet.features.cqt import GroupedCQT

    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal(3 * 16000)).astype(np.float32)
    audio += 0.5 * np.sin(2 * np.pi * 55.0 * np.arange(len(audio)) / 16000).astype(np.float32)
    dense, grouped = CQT()(audio), GroupedCQT()(audio)
    assert dense.shape == grouped.shape
    assert np.allclose(dense, grouped, atol=1e-3)  # log magnitudes: float rounding only
