"""The prior p(z|x)'s pure parts: what it hears of a mix, its mixture, its paths."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bassnet.errors import DataError
from bassnet.model.prior import (
    LatentPrior,
    context_features,
    entropies,
    modes,
    sample_path,
    smooth_path,
)

MEANS = np.array([[-2.0, 0.0], [2.0, 0.0], [0.0, 3.0]])
COVS = np.stack([np.eye(2) * 0.2] * 3)


def prior_with(means=MEANS, covs=COVS, weights=(0.5, 0.3, 0.2)) -> LatentPrior:
    prior = LatentPrior(len(means), hidden=4, context_frames=10)
    prior.set_density(means, covs, np.asarray(weights))
    return prior


def test_context_features_are_the_mean_and_spread_of_each_bin_around_the_centre():
    frames = np.random.default_rng(0).normal(size=(50, 264))
    got = context_features(frames, np.array([25, 2, 49]), 10)
    for row, (lo, hi) in zip(got, [(20, 30), (0, 7), (44, 50)], strict=True):
        np.testing.assert_allclose(row[:264], frames[lo:hi].mean(0), atol=1e-5)
        np.testing.assert_allclose(row[264:], frames[lo:hi].std(0), atol=1e-4)


def test_context_features_refuse_a_spectrum_of_the_wrong_shape():
    with pytest.raises(DataError, match="264"):
        context_features(np.zeros((10, 12)), np.array([3]), 4)


def test_an_untrained_prior_is_the_training_set_density_and_shrink_moves_toward_it():
    prior = prior_with()
    features = np.random.default_rng(1).normal(size=(5, 528)).astype(np.float32)
    np.testing.assert_allclose(prior.weights(features), np.tile([0.5, 0.3, 0.2], (5, 1)), 1e-6)
    torch.nn.init.normal_(prior.net[2].weight)  # a network that says something
    learned = prior.weights(features, shrink=0.0)
    assert not np.allclose(learned, [0.5, 0.3, 0.2], atol=1e-3)
    np.testing.assert_allclose(learned.sum(1), 1.0, atol=1e-6)
    half = prior.weights(features, shrink=0.5)
    np.testing.assert_allclose(half, 0.5 * learned + 0.5 * np.array([0.5, 0.3, 0.2]), atol=1e-6)


def test_log_prob_is_the_mixture_density():
    from scipy.stats import multivariate_normal

    prior = prior_with()
    z = np.array([[0.3, -0.2], [2.0, 0.1]])
    w = np.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]])
    got = prior.log_prob(torch.tensor(w, dtype=torch.float32), torch.tensor(z).float()).numpy()
    want = [
        np.log(sum(w[i, k] * multivariate_normal(MEANS[k], COVS[k]).pdf(z[i]) for k in range(3)))
        for i in range(2)
    ]
    np.testing.assert_allclose(got, want, rtol=1e-4)


def test_a_prior_survives_its_file_and_a_broken_one_is_a_named_error(tmp_path):
    from bassnet.model import load_checkpoint, write_checkpoint

    prior = prior_with()
    torch.nn.init.normal_(prior.net[2].weight)
    prior.shrink.fill_(0.3)
    write_checkpoint({"prior": prior.to_state()}, tmp_path / "p.pt")
    back = LatentPrior.from_state(load_checkpoint(tmp_path / "p.pt")["prior"])
    x = np.random.default_rng(2).normal(size=(4, 528)).astype(np.float32)
    np.testing.assert_allclose(back.weights(x), prior.weights(x))
    state = prior.to_state()
    state["state_dict"]["covariances"] = -state["state_dict"]["covariances"]
    with pytest.raises(DataError, match="invalid components"):
        LatentPrior.from_state(state, "m.pt")
    with pytest.raises(DataError, match="m.pt: its prior"):
        LatentPrior.from_state({"config": {"components": 3}}, "m.pt")


def test_the_mode_is_the_heaviest_components_mean():
    w = np.array([[0.8, 0.1, 0.1], [0.1, 0.1, 0.8]])
    got = modes(w, MEANS, COVS, n=121)
    np.testing.assert_allclose(got, MEANS[[0, 2]], atol=0.1)


def test_a_broad_mixture_has_more_entropy_than_one_component():
    one = entropies(np.array([[1.0, 0, 0]]), MEANS, COVS, n=121)[0]
    # one Gaussian of covariance 0.2 I: log(2πe·0.2)
    assert one == pytest.approx(np.log(2 * np.pi * np.e * 0.2), abs=0.02)
    assert entropies(np.array([[1 / 3] * 3]), MEANS, COVS, n=121)[0] > one + 0.9


def test_smoothing_keeps_a_long_jump_and_removes_a_short_one():
    path = np.zeros((40, 2))
    path[20:] = 5.0  # a jump that lasts
    path[8] = 9.0  # and a blip of one window
    got = smooth_path(path, hop_s=0.25, smooth_s=2.0)
    assert got[8, 0] == 0.0 and got[5, 0] == 0.0
    assert (got[24:, 0] == 5.0).all() and (got[:16, 0] == 0.0).all()


def test_a_sampled_path_draws_each_windows_own_mixture_and_repeats_with_its_seed():
    n = 4000
    w = np.tile([0.7, 0.3, 0.0], (n, 1))
    w[n // 2 :] = [0.0, 0.0, 1.0]  # the second half: only the third component
    a = sample_path(w, MEANS, COVS, hop_s=0.25, smooth_s=2.0, seed=3)
    np.testing.assert_array_equal(a, sample_path(w, MEANS, COVS, 0.25, 2.0, seed=3))
    assert not np.array_equal(a, sample_path(w, MEANS, COVS, 0.25, 2.0, seed=4))
    first, second = a[: n // 2], a[n // 2 :]
    share_left = np.mean(first[:, 0] < 0)  # component 0 lies at x = -2, component 1 at +2
    assert 0.55 < share_left < 0.85
    np.testing.assert_allclose(second.mean(0), MEANS[2], atol=0.1)
    # smooth: neighbouring windows mostly stay in one component (a choice lasts ≈ 2 s)
    assert np.mean(np.sign(first[1:, 0]) != np.sign(first[:-1, 0])) < 0.1
