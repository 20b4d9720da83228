"""How good is p(z | x)? Scored on the held-out test songs, with 95 % intervals over songs.

- NLL: the prior's negative log-likelihood of each test window's true µ(x, y), beside two
  baselines that ignore the mix: the training-set density (the prior's own components with
  their training weights π, i.e. λ = 1) and a single Gaussian fitted on the training µ; and
  the per-window difference prior − training-set density, paired by window.
- The pattern at the prior's mode: the QDA regions of the training songs' µ (as the
  song-disjoint QDA fits them) name the pattern at the most probable z of each window; it
  is scored against the true pattern. Chance is the agreement a prediction independent of the
  truth would reach with the same shares of predicted and true patterns (Σ_p q_p s_p).
- Entropy of the prior and of the training-set density on the same grid, in nats.

Nothing here picks a setting: the prior's step and λ were chosen on the validation songs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bassnet.config import PriorConfig
from bassnet.evaluation.heldout import disjoint_qda, fit_qda, majority_score, song_score
from bassnet.model import BassNet
from bassnet.model.prior import LatentPrior, entropies, modes
from bassnet.training.prior import PriorData, fit_prior, prior_data


def gaussian_nll(train_mu: np.ndarray, points: np.ndarray) -> np.ndarray:
    """−log N(point; mean, cov) (N,) of one Gaussian fitted on train_mu (M, 2)."""
    from scipy.stats import multivariate_normal

    cov = np.cov(train_mu.T) + 1e-6 * np.eye(train_mu.shape[1])
    return -multivariate_normal(train_mu.mean(0), cov).logpdf(points)


def chance_agreement(predicted: np.ndarray, truth: np.ndarray) -> float:
    """Σ_p q_p s_p: the share of agreement expected of predictions independent of the truth,
    with predicted shares q and true shares s."""
    classes = np.union1d(predicted, truth)
    q = np.array([np.mean(predicted == c) for c in classes])
    s = np.array([np.mean(truth == c) for c in classes])
    return float(q @ s)


def score_prior(prior: LatentPrior, train: PriorData, test: PriorData, seed: int = 0) -> dict:
    """The figures of the module docstring for a prior, its training windows (for the
    baselines and the QDA regions) and the test songs' windows; JSON-ready."""
    import torch

    x, mu = torch.from_numpy(test.features), torch.from_numpy(test.mu).float()
    with torch.no_grad():
        nll = -prior.log_prob(prior.weights(x), mu).double().numpy()
        nll_density = -prior.log_prob(prior.weights(x, 1.0), mu).double().numpy()
    nll_gauss = gaussian_nll(train.mu, test.mu)
    songs = test.songs
    out = {
        "test_songs": int(len(np.unique(songs))),
        "test_windows": len(test),
        "shrink": float(prior.shrink),
        "nll": song_score(nll, songs, seed=seed).to_json(),
        "nll_training_density": song_score(nll_density, songs, seed=seed).to_json(),
        "nll_gaussian": song_score(nll_gauss, songs, seed=seed).to_json(),
        "nll_minus_training_density": song_score(nll - nll_density, songs, seed=seed).to_json(),
    }
    density = prior.density()
    w = prior.weights(test.features)
    w_density = np.tile(density["weights"], (len(test), 1))
    out["entropy"] = round(float(entropies(w, density["means"], density["covariances"]).mean()), 4)
    out["entropy_training_density"] = round(
        float(entropies(w_density[:1], density["means"], density["covariances"])[0]), 4
    )
    known = test.patterns >= 1
    if known.sum() and len(np.unique(train.patterns[train.patterns >= 1])) >= 2:
        qda = fit_qda(train.mu, train.patterns, seed)
        predicted = qda.predict(modes(w[known], density["means"], density["covariances"]))
        truth = test.patterns[known]
        constant = qda.predict(modes(w_density[:1], density["means"], density["covariances"]))
        out["mode_pattern"] = song_score(predicted == truth, songs[known], seed=seed).to_json()
        out["mode_pattern_chance"] = round(chance_agreement(predicted, truth), 4)
        out["mode_pattern_training_density"] = song_score(
            truth == constant[0], songs[known], seed=seed
        ).to_json()
        out["majority"] = majority_score(test.patterns, songs, seed).to_json()
        out["predicted_shares"] = {str(int(p)): round(float(np.mean(predicted == p)), 4)
                                   for p in np.unique(truth)}  # fmt: skip
        out["mu_qda"] = disjoint_qda(train.mu, train.patterns, test.mu, test.patterns, songs,
                                     seed).to_json()  # fmt: skip
    return out


def train_and_score(
    model: BassNet, features_dir: str | Path, test_features_dir: str | Path, cfg: PriorConfig
) -> tuple[LatentPrior, dict]:
    """Fit the prior of `model` on its training and validation songs (`features_dir`) and
    score it on the test songs (`test_features_dir`): the prior and its metrics ("fit": what
    the fit chose on the validation songs; "test": `score_prior`)."""
    train = prior_data(model, features_dir, "train", cfg.train_windows, cfg.context_frames)
    valid = prior_data(model, features_dir, "valid", cfg.valid_windows, cfg.context_frames)
    test = prior_data(model, test_features_dir, "test", cfg.test_windows, cfg.context_frames)
    prior, fit = fit_prior(train, valid, cfg)
    return prior, {"fit": _rounded(fit), "test": score_prior(prior, train, test, cfg.seed)}


def _rounded(values: dict) -> dict:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in values.items()}


def prior_line(dataset: str, metrics: dict) -> str:
    """One summary line: NLL against the training-set density, and the pattern at the mode."""
    from bassnet.evaluation.heldout import Score

    test = metrics["test"]
    line = (f"prior {dataset}: NLL {Score.from_json(test['nll']).text()} vs training-set density "
            f"{Score.from_json(test['nll_training_density']).text()} nats")  # fmt: skip
    if "mode_pattern" in test:
        line += (f"; pattern at the mode {Score.from_json(test['mode_pattern']).text()} "
                 f"(chance {test['mode_pattern_chance']:.3f})")  # fmt: skip
    return line
