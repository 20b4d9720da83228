"""Song-disjoint scores with intervals over songs, their nulls, and verdicts. Pure.

Windows cut from one song overlap and share its patterns' stretches, so a classifier scored on
windows of the songs it was fitted on learns where in a song a window sits as well as what the
latent says. Here a classifier is fitted on the windows of one set of songs (the training
split) and scored on the windows of other songs (the test split); the interval is a bootstrap
over test songs, the unit that is drawn independently, so overlapping windows of one song
never count as independent evidence.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from bassnet.errors import DataError

BOOTSTRAP_REPS = 2000
LEVEL = 0.95


@dataclass(frozen=True)
class Score:
    """A share of test windows scored correct: the pooled share over all windows, its 95 %
    bootstrap interval over songs (NaN where fewer than 2 songs make it undefined), the
    numbers of songs and windows."""

    value: float
    low: float
    high: float
    songs: int
    windows: int

    @property
    def defined(self) -> bool:
        """Whether the interval is defined (at least 2 songs)."""
        return not (math.isnan(self.low) or math.isnan(self.high))

    def to_json(self) -> dict:
        """Rounded to 4 decimals; NaN becomes None (JSON has no NaN)."""
        return {
            k: (None if isinstance(v, float) and math.isnan(v) else round(v, 4))
            if isinstance(v, float)
            else v
            for k, v in asdict(self).items()
        }

    @classmethod
    def from_json(cls, data: dict) -> Score:
        """The inverse of `to_json` (None back to NaN)."""
        nan = float("nan")
        return cls(*(nan if data[k] is None else float(data[k]) for k in ("value", "low", "high")),
                   int(data["songs"]), int(data["windows"]))  # fmt: skip

    def text(self) -> str:
        """e.g. "0.812 [0.741, 0.873]"; "–" when undefined."""
        if math.isnan(self.value):
            return "–"
        interval = f" [{self.low:.3f}, {self.high:.3f}]" if self.defined else " [undefined]"
        return f"{self.value:.3f}{interval}"


UNDEFINED = Score(math.nan, math.nan, math.nan, 0, 0)


def song_score(
    correct: np.ndarray, songs: np.ndarray, reps: int = BOOTSTRAP_REPS, seed: int = 0
) -> Score:
    """The share of `correct` (N,) windows, and a percentile bootstrap interval that resamples
    the songs (`songs` (N,), one id per window) with replacement, each song's windows whole."""
    correct = np.asarray(correct, dtype=np.float64)
    songs = np.asarray(songs)
    if len(correct) == 0:
        return UNDEFINED
    ids, index = np.unique(songs, return_inverse=True)
    hits = np.bincount(index, weights=correct, minlength=len(ids))
    counts = np.bincount(index, minlength=len(ids)).astype(np.float64)
    value = float(hits.sum() / counts.sum())
    if len(ids) < 2:
        return Score(value, math.nan, math.nan, len(ids), len(correct))
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(ids), size=(reps, len(ids)))
    shares = hits[draws].sum(1) / counts[draws].sum(1)
    tail = (1 - LEVEL) / 2
    low, high = np.quantile(shares, [tail, 1 - tail])
    return Score(value, float(low), float(high), len(ids), len(correct))


def _labelled(points: np.ndarray, labels: np.ndarray, what: str):
    points, labels = np.asarray(points, dtype=np.float64), np.asarray(labels)
    if points.ndim != 2 or len(points) != len(labels):
        raise DataError(f"{what}: points {points.shape} do not match labels {labels.shape}")
    if not np.isfinite(points).all():
        raise DataError(f"{what}: µ has NaN or infinite values (a diverged model?)")
    known = labels >= 1  # pattern 0 / -1: no bass pattern at the window's centre
    return points[known], labels[known], known


def disjoint_qda(
    train_points: np.ndarray, train_labels: np.ndarray, test_points: np.ndarray,
    test_labels: np.ndarray, test_songs: np.ndarray, seed: int = 0, reg: float = 1e-3,
) -> Score:  # fmt: skip
    """QDA p(pattern | µ) fitted on the training songs' windows, scored on the test songs'
    windows (points (N, D), labels (N,) patterns ≥ 1, songs (N,) ids); patterns the training
    windows lack count as misses. A collapsed latent (constant µ) scores as the training
    majority class does, not an error; NaN µ is a DataError."""
    test_points, test_labels, known = _labelled(test_points, test_labels, "test windows")
    test_songs = np.asarray(test_songs)[known]
    if len(test_labels) == 0:
        return UNDEFINED
    model = fit_qda(train_points, train_labels, seed, reg)
    predicted = model.predict(test_points)
    return song_score(predicted == test_labels, test_songs, seed=seed)


def fit_qda(train_points: np.ndarray, train_labels: np.ndarray, seed: int = 0, reg: float = 1e-3):
    """QDA p(pattern | µ) fitted on points (N, D) with labels (N,) (patterns ≥ 1; others are
    left out): sklearn's QuadraticDiscriminantAnalysis, fitted."""
    from sklearn.discriminant_analysis import QuadraticDiscriminantAnalysis

    train_points, train_labels, _ = _labelled(train_points, train_labels, "training windows")
    classes, counts = np.unique(train_labels, return_counts=True)
    fit = np.isin(train_labels, classes[counts >= 2])
    if len(np.unique(train_labels[fit])) < 2:
        raise DataError("training windows hold fewer than 2 patterns: nothing to separate")
    # A tiny jitter relative to µ's scale keeps QDA's covariances defined when µ collapsed to a
    # point; it moves no decision of a latent that varies at all.
    scale = float(np.abs(train_points).max()) or 1.0
    jitter = np.random.default_rng(seed).normal(0, 1e-6 * scale, train_points.shape)
    model = QuadraticDiscriminantAnalysis(reg_param=reg)
    return model.fit(train_points[fit] + jitter[fit], train_labels[fit])


def majority_score(test_labels: np.ndarray, test_songs: np.ndarray, seed: int = 0) -> Score:
    """The null of always answering the test windows' most frequent pattern (labels ≥ 1)."""
    labels = np.asarray(test_labels)
    known = labels >= 1
    if not known.any():
        return UNDEFINED
    values, counts = np.unique(labels[known], return_counts=True)
    return song_score(labels[known] == values[counts.argmax()], np.asarray(test_songs)[known],
                      seed=seed)  # fmt: skip


def verdict_at_least(score: Score, threshold: float) -> str:
    """ "reproduced" where the interval lies at or above `threshold`, "not reproduced" where it
    lies below, else "inconclusive" (also where it is undefined)."""
    if not score.defined:
        return "inconclusive"
    if score.low >= threshold:
        return "reproduced"
    if score.high < threshold:
        return "not reproduced"
    return "inconclusive"


def verdict_worse(better: Score, worse: Score) -> str:
    """ "reproduced" where `worse`'s interval lies wholly below `better`'s, "not reproduced"
    where it lies wholly above, else "inconclusive": overlapping intervals settle nothing."""
    if not (better.defined and worse.defined):
        return "inconclusive"
    if worse.high < better.low:
        return "reproduced"
    if worse.low > better.high:
        return "not reproduced"
    return "inconclusive"


def combine(verdicts: list[str], need: int | None = None) -> str:
    """Verdicts of one finding over datasets → one: all (or at least `need`) reproduced →
    reproduced; so many not reproduced that `need` cannot be met → not reproduced; else
    inconclusive."""
    need = len(verdicts) if need is None else need
    yes = verdicts.count("reproduced")
    no = verdicts.count("not reproduced")
    if yes >= need:
        return "reproduced"
    if len(verdicts) - no < need:
        return "not reproduced"
    return "inconclusive"
