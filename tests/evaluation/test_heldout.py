"""Song-disjoint scoring: no leak through a window's position in its song, intervals over songs,
nulls, verdicts and the bad inputs that must not become silent numbers."""

import math

import numpy as np
import pytest

from bassnet.errors import DataError
from bassnet.evaluation.heldout import (
    Score,
    combine,
    disjoint_qda,
    majority_score,
    song_score,
    verdict_at_least,
    verdict_worse,
)
from bassnet.evaluation.scoring import qda_accuracy


def positional_songs(n_songs: int, windows: int, seed: int):
    """Songs whose pattern follows the window's position (first third 1, then 2, then 3) while
    µ knows nothing of the pattern: a smooth random walk of each song's own, so overlapping
    windows of a song have nearly the same µ (as a latent of position would)."""
    rng = np.random.default_rng(seed)
    points, labels, songs = [], [], []
    for s in range(n_songs):
        walk = np.cumsum(rng.normal(0, 0.05, (windows, 2)), axis=0) + rng.normal(0, 1, 2)
        points.append(walk)
        labels.append(1 + np.minimum(np.arange(windows) * 3 // windows, 2))
        songs += [f"song{s}"] * windows
    return np.concatenate(points), np.concatenate(labels), np.array(songs)


def test_position_alone_fools_the_shuffled_protocol_but_not_the_song_disjoint_one():
    train_mu, train_labels, _ = positional_songs(10, 60, seed=0)
    test_mu, test_labels, test_songs = positional_songs(20, 60, seed=1)
    majority = majority_score(test_labels, test_songs)
    disjoint = disjoint_qda(train_mu, train_labels, test_mu, test_labels, test_songs)
    shuffled = qda_accuracy(test_mu[:120], test_labels[:120], folds=5)  # two songs, as before
    assert abs(disjoint.value - majority.value) < 0.05
    assert shuffled > majority.value + 0.25  # 0.63 against 0.33


def test_a_latent_that_holds_the_pattern_scores_near_one_with_a_tight_interval():
    def songs(n, seed):
        r = np.random.default_rng(seed)
        labels = r.integers(1, 4, n * 30)
        return (np.eye(3)[labels - 1][:, :2] * 4 + r.normal(0, 0.3, (len(labels), 2)), labels,
                np.repeat(np.arange(n), 30))  # fmt: skip

    score = disjoint_qda(*songs(10, 0)[:2], *songs(20, 1))
    assert score.value > 0.98 and score.low > 0.95 and score.high <= 1.0
    assert score.songs == 20 and score.windows == 600


def test_the_interval_is_over_songs_not_windows():
    # 20 songs: half always right, half always wrong. Windows alone would give a tiny interval.
    correct = np.repeat([1, 0] * 10, 50)
    songs = np.repeat(np.arange(20), 50)
    score = song_score(correct, songs)
    assert score.value == pytest.approx(0.5)
    assert score.high - score.low > 0.3  # per-window binomial: ±0.03
    # the same windows split over 1,000 songs give a narrow interval
    narrow = song_score(correct, np.arange(1000))
    assert narrow.high - narrow.low < 0.1


def test_fewer_than_two_test_songs_leave_the_interval_undefined():
    score = song_score(np.array([1, 0, 1]), np.array(["a", "a", "a"]))
    assert score.value == pytest.approx(2 / 3) and not score.defined
    assert score.to_json()["low"] is None and "undefined" in score.text()
    assert verdict_at_least(score, 0.5) == "inconclusive"


def test_a_collapsed_latent_scores_as_the_majority_class_not_a_crash():
    rng = np.random.default_rng(0)
    train_labels = rng.choice([1, 2, 3], 300, p=[0.6, 0.2, 0.2])
    test_labels = rng.choice([1, 2, 3], 300, p=[0.6, 0.2, 0.2])
    songs = np.repeat(np.arange(10), 30)
    constant = np.ones((300, 2))
    score = disjoint_qda(constant, train_labels, constant, test_labels, songs)
    assert score.value == pytest.approx(np.mean(test_labels == 1))


def test_nan_latent_is_a_named_error():
    points = np.zeros((10, 2))
    points[3, 0] = np.nan
    labels = np.array([1, 2] * 5)
    with pytest.raises(DataError, match="NaN"):
        disjoint_qda(points, labels, np.zeros((4, 2)), labels[:4], np.arange(4))


def test_a_pattern_missing_from_training_counts_as_a_miss():
    train = np.array([[0, 0]] * 10 + [[5, 5]] * 10, dtype=float)
    train += np.random.default_rng(0).normal(0, 0.1, train.shape)
    train_labels = np.array([1] * 10 + [2] * 10)
    test = np.array([[0, 0], [5, 5], [9, 9]], dtype=float)
    score = disjoint_qda(train, train_labels, test, np.array([1, 2, 3]), np.arange(3))
    assert score.value == pytest.approx(2 / 3)


def test_a_single_training_pattern_is_a_named_error():
    with pytest.raises(DataError, match="fewer than 2 patterns"):
        disjoint_qda(np.zeros((5, 2)), np.ones(5), np.zeros((2, 2)), np.ones(2), np.arange(2))


def test_no_labelled_test_window_is_undefined():
    train = np.random.default_rng(0).normal(size=(20, 2))
    score = disjoint_qda(train, np.array([1, 2] * 10), np.zeros((3, 2)), np.zeros(3), np.arange(3))
    assert math.isnan(score.value) and score.text() == "–"


def s(value, low, high):
    return Score(value, low, high, 20, 400)


def test_verdicts_follow_the_intervals():
    assert verdict_at_least(s(0.97, 0.955, 0.99), 0.95) == "reproduced"
    assert verdict_at_least(s(0.97, 0.90, 0.99), 0.95) == "inconclusive"
    assert verdict_at_least(s(0.80, 0.70, 0.90), 0.95) == "not reproduced"
    assert verdict_worse(s(0.9, 0.85, 0.95), s(0.5, 0.4, 0.6)) == "reproduced"
    assert verdict_worse(s(0.9, 0.85, 0.95), s(0.8, 0.7, 0.9)) == "inconclusive"
    assert verdict_worse(s(0.5, 0.4, 0.6), s(0.9, 0.85, 0.95)) == "not reproduced"
    assert combine(["reproduced"] * 4) == "reproduced"
    assert combine(["reproduced", "inconclusive", "reproduced", "reproduced"]) == "inconclusive"
    assert combine(["reproduced", "not reproduced", "inconclusive"], need=2) == "inconclusive"
    assert combine(["not reproduced", "not reproduced", "reproduced", "x"], need=3) == (
        "not reproduced"
    )
