"""experiments/latent_probes.py: the frequency offsets a stack of dilated blocks can bridge, and
the per-pattern f0 score of the decoder probes."""

import pytest

from bassnet.config import REPO_PARAMS, load_params
from bassnet.model.stack import dilations
from bassnet.training.config import model_config
from tests.experiments import load_script

probes = load_script("latent_probes")


def test_offsets_are_the_sums_of_one_tap_per_block():
    assert probes.reachable([1], stacks=1) == {0, 1}
    assert probes.reachable([1, 3], stacks=1) == {0, 1, 2, 3, 4}
    assert probes.reachable([1, 3], stacks=2) == set(range(9))  # two stacks: up to 2·(1 + 3)


@pytest.mark.parametrize("blocks, bridges", [(3, False), (4, True), (5, True)])
def test_three_blocks_cannot_move_the_chord_an_octave_down(blocks, bridges):
    # 264 bins: dilations [1, 11, 120] for 3 blocks leave every offset from 25 to 95 out
    reach = probes.reachable(dilations(264, blocks, 3))
    assert all((b in reach) == bridges for b in probes.CHORD_OFFSETS.values())


@pytest.mark.parametrize("profile", ["default", "paper"])
def test_each_profiles_model_can_bridge_the_octave(profile):
    cfg = model_config(load_params(REPO_PARAMS, profile), "40/40")
    reach = probes.reachable(dilations(cfg.n_bins, cfg.blocks, cfg.kernel))
    assert set(probes.CHORD_OFFSETS.values()) <= reach


def test_f0_hits_count_voiced_frames_per_pattern():
    import torch

    classes = 265  # 264 bins + unvoiced
    true = torch.tensor([[10, 10, 264], [20, 20, 20]])  # (windows, frames); 264 = unvoiced
    predicted = torch.tensor([[11, 9, 50], [23, 20, 17]])  # ±1 hits; the unvoiced frame ignored
    logits = torch.nn.functional.one_hot(predicted, classes).float()[:, None]  # (B, C=1, a, F+1)
    targets = torch.nn.functional.one_hot(true, classes).float()[:, None]
    hits = probes.f0_hits_by_pattern(logits, targets, torch.tensor([1, 2]), 2)
    assert hits["f0_hits_pattern_1"] == 1.0
    assert abs(float(hits["f0_hits_pattern_2"]) - 1 / 3) < 1e-6
