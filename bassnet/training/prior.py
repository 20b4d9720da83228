"""Fitting p(z | x) (`bassnet.model.prior`) after the VGAE: (mix, µ) pairs of the training
songs' windows, the training-set density as a Gaussian mixture, then the network that moves
its weights, early-stopped and shrunk toward the training-set density on the validation songs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from bassnet.config import EvaluateConfig, PriorConfig
from bassnet.constants import FRAME_RATE
from bassnet.errors import DataError
from bassnet.model.latent import Encoder, latent
from bassnet.model.prior import LatentPrior, context_features
from bassnet.training.data import cut, even_starts, read_tracks, shard_paths

SHRINKS = np.round(np.linspace(0.0, 1.0, 11), 2)  # λ tried in the cross-validation
CHECK_EVERY = 10  # steps between held-out checks
FOLDS = 5  # cross-validation folds over the training songs (`song_folds`)


@dataclass
class PriorData:
    """Windows of one split: the prior's input, the model's µ(x, y) and what is known of them."""

    features: np.ndarray  # (N, 528) float32, `context_features` at the window centres
    mu: np.ndarray  # (N, 2) µ of N(x, y) of the model
    patterns: np.ndarray  # (N,) int, the pattern at the window centre (-1: unknown)
    songs: np.ndarray  # (N,) str, track ids
    centres_s: np.ndarray  # (N,) window centres in s

    def __len__(self) -> int:
        return len(self.mu)

    def subset(self, keep: np.ndarray) -> PriorData:
        """The windows where `keep` (N,) bool is true."""
        return PriorData(self.features[keep], self.mu[keep], self.patterns[keep],
                         self.songs[keep], self.centres_s[keep])  # fmt: skip


def prior_data(
    model: Encoder, features_dir: str | Path, split: str, count: int, context_frames: int,
    batch: int = EvaluateConfig.batch_windows,
) -> PriorData:  # fmt: skip
    """About `count` windows spread evenly over the songs of `split` in a feature folder, with
    the model's µ (the model, or its folded form: the same µ up to float rounding, faster),
    read `batch` windows at a time, and the prior's input features."""
    spec = model.config.spec
    tracks = [t for p in shard_paths(features_dir)
              for t in read_tracks(p, split, model.config.level_floor_db)]  # fmt: skip
    tracks = [t for t in tracks if len(t) >= spec.expanded]
    if not tracks:
        raise DataError(f"{features_dir}: no {split} songs as long as the window {spec}")
    positions = even_starts([len(t) for t in tracks], spec, count)
    index = np.array([i for i, _ in positions])
    start = np.array([s for _, s in positions])
    windows = cut(tracks, index, start, spec)
    mu, _ = latent(model, windows["x"], windows["y"], batch)
    centres = start + spec.expanded // 2
    # even_starts lists the windows track by track, so the tracks' rows concatenate in order
    feats = np.concatenate([context_features(tracks[i].mix, centres[index == i], context_frames)
                            for i in np.unique(index)])  # fmt: skip
    patterns = np.array([
        int(tracks[i].pattern[c]) if tracks[i].pattern is not None else -1
        for i, c in zip(index, centres, strict=True)
    ])  # fmt: skip
    songs = np.array([tracks[i].track_id for i in index])
    return PriorData(feats, mu.astype(np.float64), patterns, songs, centres / FRAME_RATE)


def training_density(mu: np.ndarray, components: int, seed: int):
    """A Gaussian mixture of µ (N, 2): means (K, 2), covariances (K, 2, 2), weights (K,);
    fewer components where µ has fewer distinct points."""
    from sklearn.mixture import GaussianMixture

    k = max(1, min(components, len(np.unique(np.round(mu, 6), axis=0)) // 2))
    scale = float(np.var(mu, axis=0).mean()) or 1.0
    gmm = GaussianMixture(k, covariance_type="full", reg_covar=1e-4 * scale, n_init=2,
                          random_state=seed).fit(mu)  # fmt: skip
    return gmm.means_, gmm.covariances_, gmm.weights_


def mean_nll(prior: LatentPrior, data: PriorData, shrink: float | None = None) -> float:
    """The prior's mean negative log-likelihood of µ over the windows, in nats."""
    with torch.no_grad():
        w = prior.weights(torch.from_numpy(data.features), shrink)
        return float(-prior.log_prob(w, torch.from_numpy(data.mu).float()).mean())


@dataclass
class _Fixed:
    """What stays fixed while the network trains, computed once: the projected features
    (N, inputs) and the components' log densities at µ (N, K)."""

    x: torch.Tensor
    log_n: torch.Tensor

    @classmethod
    def of(cls, prior: LatentPrior, data: PriorData) -> _Fixed:
        with torch.no_grad():
            return cls(prior.project(torch.from_numpy(data.features)),
                       prior.component_log_prob(torch.from_numpy(data.mu).float()))  # fmt: skip


def _train_net(prior: LatentPrior, data: _Fixed, steps: int, cfg: PriorConfig,
               held_out: _Fixed | None = None) -> np.ndarray:  # fmt: skip
    """`steps` full-batch Adam steps of the network on `data`'s NLL (λ = 0), from a fresh
    start (`LatentPrior.reset`); with `held_out`, its mean NLL at each λ of SHRINKS every
    CHECK_EVERY steps: (checks, len(SHRINKS))."""
    torch.manual_seed(cfg.seed)
    prior.reset()
    optimiser = torch.optim.Adam(prior.net.parameters(), lr=cfg.learning_rate,
                                 weight_decay=cfg.weight_decay)  # fmt: skip
    curve = []
    for step in range(1, steps + 1):
        prior.train()
        w = prior.learned(data.x)
        loss = -prior.log_prob(w, component_log_prob=data.log_n).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if held_out is not None and step % CHECK_EVERY == 0:
            prior.eval()
            with torch.no_grad():
                learned = prior.learned(held_out.x)
                curve.append([
                    float(-prior.log_prob(prior.shrunk(learned, float(lam)),
                                          component_log_prob=held_out.log_n).mean())
                    for lam in SHRINKS
                ])  # fmt: skip
    prior.eval()
    return np.array(curve)


def fresh_prior(data: PriorData, cfg: PriorConfig) -> LatentPrior:
    """An untrained prior (g = 0) whose training-set density and feature scale are fitted on
    `data`'s windows."""
    means, covs, pis = training_density(data.mu, cfg.components, cfg.seed)
    prior = LatentPrior(len(means), cfg.hidden, cfg.context_frames, inputs=cfg.inputs)
    prior.set_density(means, covs, pis)
    prior.set_feature_scale(data.features)
    return prior


def song_folds(songs: np.ndarray, folds: int = FOLDS) -> np.ndarray:
    """The fold (N,) of each window: songs dealt in sorted order to `folds` folds, so all of
    a song's windows share one."""
    names = np.unique(songs)
    fold_of = dict(zip(names, np.arange(len(names)) % min(folds, len(names)), strict=True))
    return np.array([fold_of[s] for s in songs], dtype=np.int64)


@dataclass(frozen=True)
class FoldChoice:
    """What song-disjoint cross-validation chose, and the held-out NLL (nats) it saw."""

    steps: int
    shrink: float
    cv_nll: float
    cv_nll_training_density: float


def cross_validate(train: PriorData, cfg: PriorConfig) -> FoldChoice:
    """The network's length of training and its shrinkage λ, chosen by the held-out NLL of
    song-disjoint folds of the training windows (`song_folds`). Each fold's prior is fitted on
    the other folds only, density and feature scale included, so a held-out song is new to all
    of it; with the density fitted on every song, finer mixtures look better than they are on
    songs never heard. Fewer than two songs: the training-set density (0 steps, λ = 1)."""
    folds = song_folds(train.songs)
    checks = cfg.steps // CHECK_EVERY
    if len(np.unique(folds)) < 2 or not checks:
        return FoldChoice(0, 1.0, float("nan"), float("nan"))
    total = np.zeros((checks, len(SHRINKS)))
    for f in np.unique(folds):
        fit, held = train.subset(folds != f), train.subset(folds == f)
        prior = fresh_prior(fit, cfg)
        total += _train_net(prior, _Fixed.of(prior, fit), cfg.steps, cfg,
                            _Fixed.of(prior, held)) * len(held)  # fmt: skip
    total /= len(train)
    check, shrink_at = np.unravel_index(np.argmin(total), total.shape)
    return FoldChoice(int((check + 1) * CHECK_EVERY), float(SHRINKS[shrink_at]),
                      float(total[check, shrink_at]), float(total[0, -1]))  # fmt: skip


def train_prior(data: PriorData, cfg: PriorConfig, steps: int, shrink: float) -> LatentPrior:
    """The prior fitted on `data`: its density, then `steps` steps of the network, shrunk by λ."""
    prior = fresh_prior(data, cfg)
    _train_net(prior, _Fixed.of(prior, data), steps, cfg)
    prior.shrink.fill_(shrink)
    return prior


def fit_prior(
    train: PriorData, valid: PriorData | None, cfg: PriorConfig
) -> tuple[LatentPrior, dict]:
    """The prior of a model from its training windows: the training-set density (a GMM of µ),
    then the network, trained with full-batch Adam on the windows' NLL.

    How long to train it and how far to shrink it toward the training-set density (λ) are
    chosen by cross-validation over the training songs (`cross_validate`): a network that
    learns only which song a window is from scores worse on songs it has not heard, and λ = 1
    is always among the choices, so where the mix says nothing of µ the prior is the
    training-set density. The validation songs' NLL is reported, not used.
    Returns the prior and what was chosen and measured."""
    choice = cross_validate(train, cfg)
    prior = train_prior(train, cfg, choice.steps, choice.shrink)
    return prior, {
        "components": prior.components,
        "steps": choice.steps,
        "shrink": choice.shrink,
        "cv_nll": choice.cv_nll,
        "cv_nll_training_density": choice.cv_nll_training_density,
        "train_nll": mean_nll(prior, train),
        **(
            {
                "valid_nll": mean_nll(prior, valid),
                "valid_nll_training_density": mean_nll(prior, valid, 1.0),
                "valid_windows": len(valid),
            }
            if valid is not None
            else {}
        ),
        "train_windows": len(train),
        "train_songs": len(np.unique(train.songs)),
    }
