import numpy as np
import pytest

from bassnet.features.f0 import Crepe
from tests.features.signals import sine


@pytest.fixture(scope="module")
def crepe():
    return Crepe("tiny")


@pytest.mark.parametrize(("freq", "fmax"), [(110.0, 500.0), (55.0, 500.0), (330.0, 1000.0)])
def test_sine_f0(crepe, freq, fmax):
    f0, confidence = crepe(sine(freq, 1.0), fmax_hz=fmax)
    assert len(f0) == 1 + 16000 // 160
    cents = 1200 * np.log2(np.median(f0[10:-10]) / freq)
    assert abs(cents) < 20
    assert np.median(confidence[10:-10]) > 0.5


def test_silence_has_no_f0_and_no_confidence(crepe):
    f0, confidence = crepe(np.zeros(8000, np.float32))
    assert not f0.any() and not confidence.any()


def test_crepe_floor_is_enforced(crepe):
    with pytest.raises(ValueError, match="32"):
        crepe(sine(110, 0.5), fmin_hz=20.0)


def test_decode_is_the_weighted_mean_around_the_peak_and_has_no_dither():
    import torch

    from bassnet.features.f0 import BIN_CENTS, decode

    probs = torch.zeros(2, 360)
    probs[0, 100] = 0.9  # a single bin: exactly its centre
    probs[1, 200], probs[1, 201] = 0.8, 0.8  # two equal bins: halfway between
    probs[1, 300] = 0.99  # outside the range: ignored
    f0, conf = decode(probs, 32.0, 1000.0)
    assert f0[0].item() == pytest.approx(10 * 2 ** (BIN_CENTS[100] / 1200), rel=1e-6)
    assert f0[1].item() == pytest.approx(10 * 2 ** ((BIN_CENTS[200] + 10) / 1200), rel=1e-6)
    assert conf.tolist() == pytest.approx([0.9, 0.8])
    assert torch.equal(decode(probs, 32.0, 1000.0)[0], f0)


def test_stride_two_is_exact_at_note_changes(crepe):
    # 110 Hz, then 147 Hz, then silence, then 98 Hz: every change must be found
    x = np.concatenate(
        [sine(110.0, 0.5), sine(146.8, 0.53), np.zeros(4000, np.float32), sine(98.0, 0.47)]
    )
    f0_1, conf_1 = crepe(x, fmax_hz=500.0, stride=1)
    f0_2, conf_2 = crepe(x, fmax_hz=500.0, stride=2)
    voiced = (f0_1 > 0) & (f0_2 > 0)
    np.testing.assert_array_equal(f0_1 > 0, f0_2 > 0)
    cents = 1200 * np.abs(np.log2(f0_2[voiced] / f0_1[voiced]))
    assert np.percentile(cents, 99) < 10 and cents.max() < 50  # RPA tolerance is 50
    with pytest.raises(ValueError, match="stride"):
        crepe(x, stride=3)


def test_onnxruntime_is_the_cpu_default_and_agrees_with_torch(crepe):
    # the feature job's CREPE runs through ONNX Runtime on the CPU; torch is the reference
    assert crepe.runtime == "onnxruntime"
    reference = Crepe("tiny", runtime="torch")
    x = np.concatenate([sine(61.7, 0.6), sine(92.5, 0.6), sine(207.7, 0.6)])
    f0_ort, conf_ort = crepe(x, fmax_hz=500.0)
    f0_torch, conf_torch = reference(x, fmax_hz=500.0)
    np.testing.assert_array_equal(f0_ort > 0, f0_torch > 0)
    np.testing.assert_allclose(f0_ort, f0_torch, rtol=1e-5)
    np.testing.assert_allclose(conf_ort, conf_torch, atol=1e-5)
    again, _ = crepe(x, fmax_hz=500.0)
    np.testing.assert_array_equal(again, f0_ort)  # same input, same bytes


def test_unknown_runtime_is_refused():
    with pytest.raises(ValueError, match="runtime"):
        Crepe("tiny", runtime="tensorflow")
