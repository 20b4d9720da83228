"""Targets from descriptors: f0 classes, level scaling, compressed soft targets."""

import numpy as np
import torch

from bassnet.model.multires import WindowSpec
from bassnet.training.targets import f0_classes, level_unit, transpose_f0_classes, window_targets


def test_f0_classes_are_cqt_bins_and_unvoiced_is_the_last_class():
    classes = f0_classes(np.array([27.5, 55.0, 110.0, 0.0, np.nan, 20.0, 1e5]))
    assert classes.tolist() == [0, 36, 72, 264, 264, 0, 263]


def test_transposed_f0_classes_move_3_bins_a_semitone_and_unvoiced_stays():
    classes = f0_classes(np.array([110.0, 0.0, 27.5, 5000.0]))  # bins 72, unvoiced, 0, 263 (top)
    assert transpose_f0_classes(classes, 2).tolist() == [78, 264, 6, 263]
    assert transpose_f0_classes(classes, -1).tolist() == [69, 264, 0, 260]
    assert transpose_f0_classes(classes, 0).tolist() == classes.tolist()


def test_level_unit_maps_floor_to_0_and_full_scale_to_1():
    unit = level_unit(np.array([-100.0, -50.0, 0.0, -120.0, 6.0]), floor_db=-100.0)
    assert np.allclose(unit, [0.0, 0.5, 1.0, 0.0, 1.0])


def test_window_targets_are_soft_distributions_per_resolution():
    spec = WindowSpec(2, 8)  # 3 channels of 2 frames
    f0 = torch.tensor([[5, 5, 5, 5, 6, 6, 264, 264]])
    out = window_targets(f0, torch.zeros(1, 8), torch.ones(1, 8), spec)
    assert out["f0"].shape == (1, 3, 2, 265)
    assert torch.allclose(out["f0"].sum(-1), torch.ones(1, 3, 2))
    assert out["f0"][0, 0, 0, 5] == 1  # centre frames at full resolution: classes 5, 6
    assert out["f0"][0, 0, 1, 6] == 1
    assert torch.allclose(out["f0"][0, 2, 1, [6, 264]], torch.tensor([0.5, 0.5]))  # coarsest
    assert torch.equal(out["onset"], torch.ones(1, 3, 2))
