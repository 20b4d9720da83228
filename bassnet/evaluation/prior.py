"""How good is p(z | x)? Scored on the held-out test songs, with 95 % intervals over songs.

- NLL: the prior's negative log-likelihood of each test window's true µ(x, y), beside two
  baselines that ignore the mix: the training-set density (the prior's own components with
  their training weights π, i.e. λ = 1) and a single Gaussian fitted on the training µ; and
  the per-window difference prior − training-set density, paired by window.
- The pattern at the prior's mode: the QDA regions of the training songs' µ (as the
  song-disjoint QDA fits them) name the pattern at the most probable z of each window; it
  is scored against the true pattern. Chance is the agreement a prediction independent of the
  truth would reach with the same shares of predicted and true patterns (Σ_p q_p s_p). Beside
  it, the most likely pattern: the one whose region (weighted by the QDA's posterior) holds
  most of the prior's mass.
- Entropy of the prior and of the training-set density on the same grid, in nats.

Nothing here picks a setting: the prior's step and λ were chosen on the validation songs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bassnet.config import EvaluateConfig, PriorConfig
from bassnet.evaluation.heldout import disjoint_qda, fit_qda, majority_score, song_score
from bassnet.generation.folded import FoldedBassNet
from bassnet.model import BassNet
from bassnet.model.prior import LatentPrior, entropies, modes, on_grid
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
        "shrink": round(float(prior.shrink), 4),
        "nll": song_score(nll, songs, seed=seed).to_json(),
        "nll_training_density": song_score(nll_density, songs, seed=seed).to_json(),
        "nll_gaussian": song_score(nll_gauss, songs, seed=seed).to_json(),
        "nll_minus_training_density": song_score(nll - nll_density, songs, seed=seed).to_json(),
    }
    density = prior.density()
    w = prior.weights(test.features)
    pi = np.asarray(density["weights"])[None]  # the training-set density's weights (1, K)
    out["entropy"] = round(float(entropies(w, density["means"], density["covariances"]).mean()), 4)
    out["entropy_training_density"] = round(
        float(entropies(pi, density["means"], density["covariances"])[0]), 4
    )
    known = test.patterns >= 1
    if known.sum() and len(np.unique(train.patterns[train.patterns >= 1])) >= 2:
        qda = fit_qda(train.mu, train.patterns, seed)
        predicted = qda.predict(modes(w[known], density["means"], density["covariances"]))
        truth = test.patterns[known]
        # the pattern whose QDA region holds most of the prior's mass (a bimodal prior's mode
        # may lie in one region while most of its mass lies in another)
        dens, points, _ = on_grid(w[known], density["means"], density["covariances"])
        likely = qda.classes_[(dens @ qda.predict_proba(points)).argmax(1)]
        out["likely_pattern"] = song_score(likely == truth, songs[known], seed=seed).to_json()
        out["likely_pattern_chance"] = round(chance_agreement(likely, truth), 4)
        constant = qda.predict(modes(pi, density["means"], density["covariances"]))
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
    model: BassNet,
    features_dir: str | Path,
    test_features_dir: str | Path,
    cfg: PriorConfig,
    batch: int = EvaluateConfig.batch_windows,
) -> tuple[LatentPrior, dict, dict]:
    """Fit the prior of `model` on its training songs (`features_dir`) and score it on the
    test songs (`test_features_dir`): the prior, its metrics ("fit": what the fit chose;
    "test": `score_prior`) and the training windows' µ with their patterns ({"points",
    "labels"}, the pad's map where the evaluation made none). µ is read through the folded
    model (`FoldedBassNet`): the same up to float rounding, ≈4x faster on the CPU, `batch`
    windows a call (params.yaml `evaluate.batch_windows`)."""
    model = FoldedBassNet(model.eval())

    def windows(folder: str | Path, split: str, count: int) -> PriorData:
        return prior_data(model, folder, split, count, cfg.context_frames, batch)

    train = windows(features_dir, "train", cfg.train_windows)
    valid = windows(features_dir, "valid", cfg.valid_windows) if cfg.valid_windows else None
    test = windows(test_features_dir, "test", cfg.test_windows)
    prior, fit = fit_prior(train, valid, cfg)
    latent_map = {"points": np.round(train.mu, 3).tolist(), "labels": train.patterns.tolist()}
    return (
        prior,
        {"fit": _rounded(fit), "test": score_prior(prior, train, test, cfg.seed)},
        latent_map,
    )


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


def read_priors(folder: Path | None) -> dict[str, dict]:
    """The prior stage's metrics (metrics/prior/<dataset>.json) by dataset; {} where none."""
    import json

    if folder is None or not Path(folder).is_dir():
        return {}
    return {p.stem: json.loads(p.read_text()) for p in sorted(Path(folder).glob("*.json"))}


# A dataset whose pattern the mix implies (bassnet.synth.patterns: instrument_rule); in the
# others the pattern is drawn independently of the mix, so the prior should not predict it.
IMPLIED = ("A5",)
MODE_BAR = 0.8  # A5: the pattern at the prior's mode should be right this often
CHANCE_MARGIN = 0.05  # A1–A4: and within this of chance
NLL_MARGIN = 0.01  # nats: "no worse than the training-set density"


def prior_checks(priors: dict[str, dict]) -> list[tuple[str, str, str]]:
    """(claim, verdict, evidence) of the prior's three bars on the test songs."""
    from bassnet.evaluation.heldout import Score, verdict_at_least

    if not priors:
        return []
    rows = []
    diffs = {ds: Score.from_json(m["test"]["nll_minus_training_density"])
             for ds, m in priors.items()}  # fmt: skip
    worse = [ds for ds, d in diffs.items() if d.value > NLL_MARGIN]
    rows.append((
        f"the prior's NLL of the true µ is no worse than the training-set density's "
        f"(within {NLL_MARGIN} nats) on every dataset",
        "met" if not worse else "not met",
        "prior − density: " + "; ".join(f"{ds} {d.text()}" for ds, d in sorted(diffs.items())),
    ))  # fmt: skip
    for ds, m in sorted(priors.items()):
        test = m["test"]
        if "mode_pattern" not in test:
            continue
        mode = Score.from_json(test["mode_pattern"])
        chance = test["mode_pattern_chance"]
        if ds in IMPLIED:
            verdict = {"reproduced": "met", "not reproduced": "not met"}.get(
                verdict_at_least(mode, MODE_BAR), "inconclusive"
            )
            rows.append((f"{ds}: the pattern at the prior's mode is the true one on ≥ "
                         f"{MODE_BAR:.0%} of the test windows", verdict,
                         f"{mode.text()}, chance {chance:.3f}"))  # fmt: skip
        else:
            near = abs(mode.value - chance) <= CHANCE_MARGIN
            claim = (f"{ds}: the pattern at the prior's mode stays within {CHANCE_MARGIN} of "
                     "chance (the pattern is drawn independently of the mix)")  # fmt: skip
            evidence = f"{mode.text()}, chance {chance:.3f}"
            rows.append((claim, "met" if near else "not met", evidence))
    return rows


def prior_table(priors: dict[str, dict]) -> list[str]:
    """The prior's figures per dataset, as Markdown lines."""
    from bassnet.evaluation.heldout import Score

    def text(test: dict, key: str) -> str:
        return Score.from_json(test[key]).text() if key in test else "–"

    lines = [
        "p(z|x) of each dataset's shipped model, fitted on its training songs (length of "
        "training and shrinkage λ toward the training-set density chosen by song-disjoint "
        "cross-validation on them) and scored on the test songs: mean negative log-likelihood "
        "of the true µ in nats (lower is better) beside two densities that ignore the mix, "
        "and the pattern at the prior's mode (the QDA regions of the training µ) against the "
        "true one; chance is Σ_p q_p s_p of the predicted and true shares; the most likely "
        "pattern is the region holding most of the prior's mass. 95 % intervals "
        "over test songs; µ QDA: the song-disjoint QDA of µ itself.",
        "",
        "| dataset | model | NLL: prior | training-set density | one Gaussian "
        "| prior − density | λ | pattern at the mode | chance | most likely pattern "
        "| µ QDA | entropy: prior / density |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for ds, m in sorted(priors.items()):
        t = m["test"]
        chance = f"{t['mode_pattern_chance']:.3f}" if "mode_pattern_chance" in t else "–"
        lines.append(
            f"| {ds} | {m.get('model', '')} | {text(t, 'nll')} | {text(t, 'nll_training_density')} "
            f"| {text(t, 'nll_gaussian')} | {text(t, 'nll_minus_training_density')} "
            f"| {t['shrink']:.1f} | {text(t, 'mode_pattern')} | {chance} "
            f"| {text(t, 'likely_pattern')} | {text(t, 'mu_qda')} "
            f"| {t['entropy']:.2f} / {t['entropy_training_density']:.2f} |"
        )
    return lines
