import numpy as np
import pytest

from bassnet.features.accuracy import onset_f_measure, pick_onsets, raw_pitch_accuracy
from bassnet.features.level import level_db
from bassnet.features.onset import OnsetDetector
from tests.features.signals import bursts, sine

TIMES = [0.5, 1.0, 1.73, 2.4]


@pytest.fixture(scope="module")
def detector():
    return OnsetDetector()


def test_bursts_at_known_times_give_onsets_there(detector):
    strength = detector(bursts(TIMES, 3.0))
    assert len(strength) == 1 + 48000 // 160
    picked = pick_onsets(strength)
    assert len(picked) == len(TIMES)
    np.testing.assert_allclose(picked, TIMES, atol=0.02)


def test_silence_gives_no_onsets(detector):
    assert len(pick_onsets(detector(np.zeros(32000, np.float32)))) == 0


def test_onset_strength_at_another_sample_rate(detector):
    x = bursts(TIMES, 3.0)
    x44 = np.repeat(x, 3)  # crude 48 kHz version: same onset times
    picked = pick_onsets(detector(x44, sr=48_000))
    np.testing.assert_allclose(picked, TIMES, atol=0.02)


def test_level_of_known_signals():
    assert level_db(sine(110, 1.0, amplitude=1.0))[20:-20] == pytest.approx(-3.01, abs=0.05)
    assert level_db(sine(110, 1.0, amplitude=0.1))[20:-20] == pytest.approx(-23.01, abs=0.05)
    silent = level_db(np.zeros(1600, np.float32))
    assert len(silent) == 11 and np.all(silent == -100)


@pytest.mark.parametrize(("n_fft", "chunk_frames"), [(1024, 4096), (1024, 37), (2048, 500)])
def test_level_equals_librosas_stft_power_bit_for_bit(n_fft, chunk_frames):
    """The feature shards' level was librosa's; generation computes it without librosa."""
    librosa = pytest.importorskip("librosa")  # the pipeline extra
    from bassnet.features.framing import chunks

    rng = np.random.default_rng(3)
    x = bursts(TIMES, 3.0) + sine(82.4, 3.0, 0.3) + 0.01 * rng.standard_normal(48000)
    x = x.astype(np.float32)
    scale = 2.0 / (n_fft * np.sum(np.hanning(n_fft + 1)[:-1] ** 2))
    expected = np.concatenate([
        librosa.power_to_db(
            scale * np.sum(np.abs(librosa.stft(seg, n_fft=n_fft, hop_length=160,
                                               center=False)) ** 2, axis=0),
            ref=1.0, amin=1e-10, top_db=None,
        )
        for _, _, seg in chunks(x, n_fft, chunk_frames)
    ]).astype(np.float32)  # fmt: skip
    got = level_db(x, n_fft=n_fft, chunk_frames=chunk_frames)
    assert got.dtype == np.float32 and len(got) == 1 + len(x) // 160
    np.testing.assert_array_equal(got, expected)


def test_accuracy_measures_on_known_answers():
    truth = np.array([45, 45, -1, 57, 57])
    f0 = np.array([110.0, 112.0, 0.0, 220.0, 250.0])  # 112 Hz is 31 cents off; 250 Hz is not
    assert raw_pitch_accuracy(f0, truth) == pytest.approx(3 / 4)
    onsets = np.zeros(300)
    onsets[[50, 100]] = 1
    strength = np.zeros(300)
    strength[[52, 100, 200]] = 0.9  # one hit within 50 ms, one exact, one false
    assert onset_f_measure(strength, onsets) == pytest.approx(0.8)


def test_chunked_onsets_equal_one_pass(detector):
    x = bursts([0.3, 1.1, 2.05, 2.9, 3.5], 4.0)
    whole = detector(x, chunk_frames=10_000)
    chunked = detector(x, chunk_frames=70, margin_frames=100)
    assert len(chunked) == len(whole)
    np.testing.assert_allclose(chunked, whole, atol=1e-4)
