"""Temporal multi-resolution (paper §4.3): sizes, exactness, overlap-add, arrays and tensors."""

import numpy as np
import pytest
import torch

from bassnet.model.multires import WindowSpec, compress, expand, frame_track, hann, overlap_add

PAPER_WINDOWS = ["10/10", "20/20", "40/40", "10/20", "10/40", "20/40", "10/640", "20/640", "40/640"]


def test_channel_counts_and_the_papers_element_counts():
    assert WindowSpec.parse("4/16").channels == 3
    assert WindowSpec.parse("2/16").channels == 4 and WindowSpec.parse("8/16").channels == 2
    for text, elements in (("4/16", 12), ("4/128", 24)):
        spec = WindowSpec.parse(text)
        assert compress(np.zeros(spec.expanded), spec).size == elements


@pytest.mark.parametrize("text", PAPER_WINDOWS)
def test_compress_then_expand_is_exact_on_the_centre(text):
    spec = WindowSpec.parse(text)
    rng = np.random.default_rng(0)
    window = rng.standard_normal((spec.expanded, 264)).astype(np.float32)
    packed = compress(window, spec)
    assert packed.shape == (spec.channels, spec.compressed, 264)
    restored = expand(packed, spec)
    assert restored.shape == window.shape
    a, b = spec.compressed, spec.expanded
    centre = slice((b - a) // 2, (b + a) // 2)
    np.testing.assert_allclose(restored[centre], window[centre], rtol=1e-6)
    np.testing.assert_allclose(expand(compress(np.full((b, 3), 2.5), spec), spec), 2.5)


def test_the_outer_parts_are_block_averages():
    spec = WindowSpec.parse("2/8")
    window = np.arange(8.0)
    np.testing.assert_allclose(compress(window, spec), [[3, 4], [2.5, 4.5], [1.5, 5.5]])
    np.testing.assert_allclose(
        expand(compress(window, spec), spec), [1.5, 1.5, 2.5, 3, 4, 4.5, 5.5, 5.5]
    )


def test_overlap_add_of_constant_windows_gives_a_constant_track():
    spec = WindowSpec.parse("10/40")
    windows = np.full((9, 40, 2), 3.0)
    np.testing.assert_allclose(overlap_add(windows, spec, 150), 3.0, rtol=1e-6)
    np.testing.assert_allclose(hann(40)[:20] + hann(40)[20:], 1.0, atol=1e-6)


@pytest.mark.parametrize("n_frames", [1, 39, 40, 41, 333])
def test_frame_track_then_overlap_add_is_the_identity(n_frames):
    spec = WindowSpec.parse("10/40")
    track = np.random.default_rng(n_frames).standard_normal((n_frames, 5)).astype(np.float32)
    windows = frame_track(track, spec)
    assert windows.shape[1:] == (40, 5)
    np.testing.assert_allclose(overlap_add(windows, spec, n_frames), track, atol=1e-5)


def test_batched_tensors_on_another_axis_match_arrays():
    spec = WindowSpec.parse("20/640")
    batch = torch.randn(3, 640, 264)
    packed = compress(batch, spec, axis=1)
    assert isinstance(packed, torch.Tensor) and packed.shape == (3, spec.channels, 20, 264)
    np.testing.assert_allclose(packed[1].numpy(), compress(batch[1].numpy(), spec), atol=1e-6)
    restored = expand(packed, spec, axis=1)
    assert restored.shape == batch.shape
    torch.testing.assert_close(restored[:, 310:330], batch[:, 310:330])


@pytest.mark.parametrize("text", ["40/30", "3/16", "5/15", "abc", "0/16", "3/3"])
def test_bad_window_specs_are_errors(text):
    with pytest.raises(ValueError, match="window"):
        WindowSpec.parse(text)
