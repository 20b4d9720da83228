"""Evaluation (paper §6): validation cross-entropies (Table 1), pattern disentanglement by
quadratic discriminant analysis on µ(x, y) (Tables 2–3), latent trajectories (Fig. 7).

QDA protocol: µ of evenly spaced validation windows, labelled with the ground-truth bass
pattern at the window's centre frame; accuracy is that of stratified k-fold cross-validation
(each point is predicted by a classifier fitted without it), with a small covariance
regularisation so that a tight cluster does not make the fit singular.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from sklearn.discriminant_analysis import QuadraticDiscriminantAnalysis
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from bassnet.constants import FRAME_RATE
from bassnet.data import Track, WindowSet, cut, read_tracks, shard_paths
from bassnet.errors import DataError
from bassnet.model import BassNet
from bassnet.train import validate

QDA_REGULARISATION = 1e-3


def qda(reg: float = QDA_REGULARISATION) -> QuadraticDiscriminantAnalysis:
    """The quadratic classifier p(c | z) of §6.2."""
    return QuadraticDiscriminantAnalysis(reg_param=reg)


def qda_accuracy(points: np.ndarray, labels: np.ndarray, folds: int = 5, seed: int = 0) -> float:
    """Cross-validated accuracy of QDA predicting `labels` (N,) from `points` (N, D).

    Classes with fewer than two points are left out; the number of folds shrinks to the
    smallest class size when needed. NaN when fewer than two classes remain."""
    labels = np.asarray(labels)
    values, counts = np.unique(labels, return_counts=True)
    keep = np.isin(labels, values[counts >= 2])
    points, labels = np.asarray(points)[keep], labels[keep]
    counts = counts[counts >= 2]
    if len(counts) < 2:
        return float("nan")
    k = int(min(folds, counts.min()))
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    predicted = cross_val_predict(qda(), points, labels, cv=splitter)
    return float((predicted == labels).mean())


@torch.no_grad()
def latent(model: BassNet, x: torch.Tensor, y: torch.Tensor, batch: int = 64):
    """µ and σ of N(x,y) for compressed windows x, y: two (N, latent_dim) arrays."""
    device = next(model.parameters()).device
    mus, logvars = [], []
    for i in range(0, len(x), batch):
        fx = model.mix_factors(x[i : i + batch].to(device))
        mu, logvar = model.posterior(fx, y[i : i + batch].to(device))
        mus.append(mu.cpu())
        logvars.append(logvar.cpu())
    mu, logvar = torch.cat(mus).numpy(), torch.cat(logvars).numpy()
    return mu, np.exp(0.5 * logvar)


@dataclass
class ModelEvaluation:
    """What §6 reports for one trained model."""

    dataset: str
    window: str
    ablation: bool
    terms: dict  # Eq. (10) terms on the validation windows (f0, level, onset, mse, kl_prior)
    qda_accuracy: float
    chance: float  # accuracy of always guessing the most frequent pattern
    n_windows: int
    points: np.ndarray = field(repr=False)  # µ (N, 2)
    labels: np.ndarray = field(repr=False)  # pattern at each window's centre (N,)


def evaluate_model(
    model_path: str | Path, features_dir: str | Path, windows: int, folds: int, seed: int,
    dataset: str, ablation: bool,
) -> ModelEvaluation:  # fmt: skip
    """Table 1–3 figures of one model on the validation split of `features_dir`."""
    path = Path(model_path)
    if not path.is_file():
        raise DataError(f"{path}: no trained model; run `dvc repro` (the train stages)")
    model = BassNet.load(path)
    spec = model.config.spec
    valid = WindowSet(shard_paths(features_dir), spec, windows, model.config.level_floor_db)
    terms = validate(model, valid, "cpu")
    mu, _ = latent(model, valid.x, valid.y)
    labels = np.asarray(valid.patterns)
    if (labels < 0).all():
        accuracy, chance = float("nan"), float("nan")
    else:
        accuracy = qda_accuracy(mu, labels, folds, seed)
        chance = float(np.bincount(labels[labels >= 0]).max() / (labels >= 0).sum())
    return ModelEvaluation(dataset, str(spec), ablation, terms, accuracy, chance, len(valid),
                           mu, labels)  # fmt: skip


@torch.no_grad()
def trajectory(model: BassNet, track: Track, hop: int | None = None, with_sigma: bool = False):
    """µ over time for a whole track: windows every `hop` frames (default: the compressed
    size a). Returns times of the window centres in s (N,) and µ (N, latent_dim) [and σ]."""
    spec = model.config.spec
    hop = hop or spec.compressed
    if len(track) < spec.expanded:
        raise DataError(f"track {track.track_id} is shorter than the window {spec}")
    starts = np.arange(0, len(track) - spec.expanded + 1, hop)
    batch = cut([track], np.zeros(len(starts), dtype=int), starts, spec)
    mu, sigma = latent(model, batch["x"], batch["y"])
    times = (starts + spec.expanded / 2) / FRAME_RATE
    return (times, mu, sigma) if with_sigma else (times, mu)


def validation_track(features_dir: str | Path, level_floor_db: float, index: int = 0) -> Track:
    """The `index`-th validation track of a feature folder."""
    tracks = [t for p in shard_paths(features_dir) for t in read_tracks(p, "valid", level_floor_db)]
    if not tracks:
        raise DataError(f"{features_dir}: no validation tracks")
    return tracks[index % len(tracks)]
