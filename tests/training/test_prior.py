"""Fitting the prior p(z|x): it learns what the mix implies of µ and nothing else."""

from __future__ import annotations

import numpy as np
import pytest

from bassnet.config import PriorConfig
from bassnet.errors import ConfigError
from bassnet.training.prior import PriorData, cross_validate, fit_prior, mean_nll, song_folds

CFG = PriorConfig(components=4, hidden=16, steps=150, train_windows=10, valid_windows=10)


def windows(songs: int, per_song: int, implied: bool, seed: int) -> PriorData:
    """Windows of songs whose µ lies at (−2, 0) or (2, 0) by a 'pattern' that holds for a
    stretch of each song; with `implied`, the mix's first feature says which (as A5's
    chord instrument does), else the features are noise independent of it."""
    rng = np.random.default_rng(seed)
    n = songs * per_song
    pattern = np.repeat(rng.integers(0, 2, size=n // 10), 10)[:n]
    mu = np.stack([np.where(pattern == 1, 2.0, -2.0), np.zeros(n)], 1)
    mu += rng.normal(0, 0.3, size=mu.shape)
    features = rng.normal(size=(n, 528)).astype(np.float32)
    if implied:
        features[:, 0] += np.where(pattern == 1, 1.5, -1.5)
    ids = np.repeat([f"s{i}" for i in range(songs)], per_song)
    return PriorData(features, mu, pattern + 1, ids, np.arange(n) * 0.1)


def test_where_the_mix_implies_the_pattern_the_prior_learns_it_on_unheard_songs():
    train, valid = windows(10, 60, True, 0), windows(3, 60, True, 1)
    test = windows(6, 60, True, 2)
    prior, fit = fit_prior(train, valid, CFG)
    assert fit["shrink"] < 0.5 and fit["steps"] > 0
    assert mean_nll(prior, test) < mean_nll(prior, test, shrink=1.0) - 0.3
    w = prior.weights(test.features)
    heavy = prior.means.numpy()[w.argmax(1)]
    # the feature says which with 93 % accuracy at best (N(±1.5, 1)); chance is 50 %
    assert np.mean(np.sign(heavy[:, 0]) == np.sign(test.mu[:, 0])) > 0.8


def test_where_the_mix_says_nothing_the_prior_stays_the_training_set_density():
    train, valid, test = (
        windows(10, 60, False, 3),
        windows(3, 60, False, 4),
        windows(6, 60, False, 5),
    )
    prior, fit = fit_prior(train, valid, CFG)
    assert fit["shrink"] >= 0.5
    # the cross-validated choice keeps it from fitting songs' noise: no worse on new songs
    assert mean_nll(prior, test) <= mean_nll(prior, test, shrink=1.0) + 0.02


def test_the_fit_repeats_with_its_seed():
    train, valid = windows(6, 40, True, 6), windows(2, 40, True, 7)
    a, fit_a = fit_prior(train, valid, CFG)
    b, fit_b = fit_prior(train, valid, CFG)
    assert fit_a == fit_b
    np.testing.assert_array_equal(a.weights(valid.features), b.weights(valid.features))


def test_cross_validation_holds_out_whole_songs_and_refits_the_density_without_them():
    """Songs whose µ sits at a point of their own: a density fitted on every song would place a
    component on each held-out song and score it as well as the training windows."""
    rng = np.random.default_rng(8)
    songs, per_song = 10, 30
    ids = np.repeat([f"s{i}" for i in range(songs)], per_song)
    mu = np.repeat(rng.uniform(-6, 6, size=(songs, 2)), per_song, axis=0)
    mu += rng.normal(0, 0.05, size=mu.shape)
    data = PriorData(rng.normal(size=(len(ids), 528)).astype(np.float32), mu,
                     np.ones(len(ids), dtype=int), ids, np.zeros(len(ids)))  # fmt: skip
    folds = song_folds(ids)
    assert all(len(np.unique(folds[ids == s])) == 1 for s in np.unique(ids))
    assert len(np.unique(folds)) == 5
    cfg = PriorConfig(components=10, hidden=8, steps=20, train_windows=10, valid_windows=10)
    choice = cross_validate(data, cfg)
    prior, _ = fit_prior(data, None, cfg)
    in_sample = mean_nll(prior, data, shrink=1.0)
    assert choice.cv_nll_training_density > in_sample + 5.0


def test_prior_settings_are_checked():
    with pytest.raises(ConfigError, match="components"):
        PriorConfig(components=0)
    with pytest.raises(ConfigError, match="context_frames"):
        PriorConfig(context_frames=1)
