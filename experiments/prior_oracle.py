"""What could a prior p(z|x) of this form name on A5, if it knew the chord instrument?

The prior is the training-set density of µ (a K-Gaussian mixture) reweighted by the mix; its
pattern is read at its mode through the QDA regions of the training µ. An oracle that knows
each test window's chord instrument gives it the weights of that instrument's pattern (the
mean responsibilities of the training windows of that pattern), so its mode is where that
pattern's µ is densest. Its score is the ceiling of any prior of this form on this latent:
below 80 %, the latent (µ), not the network that reads the mix, holds A5 back.

Beside it, for each K, the prior itself under song-disjoint cross-validation over the
training songs (5 folds of whole songs; the density, the feature scale and the network fitted
on the other folds, its steps and λ chosen by the folds' NLL as `fit_prior` chooses them): its
held-out NLL of µ and its pattern at the mode (the QDA fitted on the other folds' µ).

And what the training songs say of why the prior falls short of the oracle: how well the
prior's own input names the chord instrument (a linear classifier over its principal
components, song-disjoint folds), and how much of µ's variance the pattern, the song and the
instrument explain (the share removed by each group's mean).

Nothing here picks a setting: it reads the shipped model and the test songs once.

    python experiments/prior_oracle.py --dataset A5 --model models/A5/control/model.pt
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def window_instruments(labels: pd.DataFrame, data) -> np.ndarray:
    """The GM program of the chord instrument at each window's centre (N,); the labels hold
    it per 10-ms frame."""
    from bassnet.constants import FRAME_RATE

    programs = dict(zip(labels.track_id, labels.chord_instrument, strict=True))
    frames = np.round(data.centres_s * FRAME_RATE).astype(int)
    return np.array([int(programs[s][min(f, len(programs[s]) - 1)])
                     for s, f in zip(data.songs, frames, strict=True)])  # fmt: skip


def instrument_decodability(train, instruments: np.ndarray, inputs: int) -> float:
    """Accuracy of a logistic regression naming the instrument from the prior's input (its
    `inputs` principal components), over song-disjoint folds of the training windows."""
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from bassnet.training.prior import song_folds

    folds, hits = song_folds(train.songs), []
    for f in np.unique(folds):
        fit, held = folds != f, folds == f
        clf = make_pipeline(StandardScaler(), PCA(inputs, random_state=0),
                            LogisticRegression(C=0.1, max_iter=2000))  # fmt: skip
        clf.fit(train.features[fit], instruments[fit])
        hits.append(clf.predict(train.features[held]) == instruments[held])
    return round(float(np.concatenate(hits).mean()), 4)


def variance_explained(train, instruments: np.ndarray) -> dict[str, list[float]]:
    """Share of each coordinate of µ's variance that each grouping's means explain (in
    sample)."""
    frame = pd.DataFrame({"mu0": train.mu[:, 0], "mu1": train.mu[:, 1], "song": train.songs,
                          "pattern": train.patterns, "instrument": instruments})  # fmt: skip
    mu = frame[["mu0", "mu1"]]
    spread = ((mu - mu.mean()) ** 2).sum()
    out = {}
    for by in (["pattern"], ["song"], ["instrument"], ["song", "pattern"]):
        rest = mu - frame.groupby(by)[["mu0", "mu1"]].transform("mean")
        out[" + ".join(by)] = np.round(1 - (rest**2).sum() / spread, 3).tolist()
    return out


def class_modes(train, means, covs, pis, qda) -> dict[int, dict]:
    """pattern → the mode of its class-conditional mixture (the training-set components,
    weighted by the mean responsibility of that pattern's training windows) and the QDA's
    pattern there."""
    from bassnet.model.prior import _gauss_log, modes

    log_r = _gauss_log(means, covs, train.mu).T + np.log(pis)
    r = np.exp(log_r - log_r.max(1, keepdims=True))
    r /= r.sum(1, keepdims=True)
    out = {}
    for p in np.unique(train.patterns[train.patterns >= 1]):
        w = r[train.patterns == p].mean(0)
        z = modes(w[None], means, covs)[0]
        out[int(p)] = {"weights": w, "mode": z, "named": int(qda.predict(z[None])[0])}
    return out


def song_folds_cv(train, cfg, components: int) -> dict:
    """The prior with `components` Gaussians, cross-validated over the training songs as
    `fit_prior` does (`cross_validate`): the held-out NLL (steps and λ chosen on it) and the
    held-out pattern at the mode (the QDA fitted on the other folds' µ)."""
    import dataclasses

    from bassnet.evaluation.heldout import fit_qda
    from bassnet.model.prior import modes
    from bassnet.training.prior import cross_validate, song_folds, train_prior

    cfg = dataclasses.replace(cfg, components=components)
    choice = cross_validate(train, cfg)
    folds = song_folds(train.songs)
    hits = []
    for f in np.unique(folds):
        fit, held = train.subset(folds != f), train.subset(folds == f)
        prior = train_prior(fit, cfg, choice.steps, choice.shrink)
        qda = fit_qda(fit.mu, fit.patterns, cfg.seed)
        means, covs = prior.means.double().numpy(), prior.covariances.double().numpy()
        hits.append(qda.predict(modes(prior.weights(held.features), means, covs)) == held.patterns)
    return {"cv_nll": round(choice.cv_nll, 4),
            "cv_nll_training_density": round(choice.cv_nll_training_density, 4),
            "steps": choice.steps, "shrink": choice.shrink,
            "cv_mode_pattern": round(float(np.concatenate(hits).mean()), 4)}  # fmt: skip


def main(argv: list[str] | None = None) -> dict:
    from bassnet.atomic import write_text
    from bassnet.config import EvaluateConfig, PriorConfig, load_params
    from bassnet.evaluation.heldout import fit_qda, song_score
    from bassnet.evaluation.scoring import load_model
    from bassnet.generation.folded import FoldedBassNet
    from bassnet.synth.patterns import INSTRUMENT_PATTERNS
    from bassnet.training.prior import prior_data, training_density

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="A5")
    parser.add_argument("--model", default="models/A5/control/model.pt")
    parser.add_argument("--components", type=int, nargs="+", default=[8, 16, 32])
    parser.add_argument("--features", default="data/features")
    parser.add_argument("--datasets", default="datasets")
    parser.add_argument("--out", default="experiments/results/prior_oracle.json")
    args = parser.parse_args(argv)

    params = load_params(ROOT / "params.yaml")
    cfg, batch = PriorConfig.from_params(params), EvaluateConfig.from_params(params).batch_windows
    model = FoldedBassNet(load_model(ROOT / args.model).eval())
    feats = ROOT / args.features
    train = prior_data(model, feats / args.dataset, "train", cfg.train_windows,
                       cfg.context_frames, batch)  # fmt: skip
    test = prior_data(model, feats / f"{args.dataset}-test", "test", cfg.test_windows,
                      cfg.context_frames, batch)  # fmt: skip

    def labels(split: str) -> pd.DataFrame:
        return pd.read_parquet(ROOT / args.datasets / split / "labels.parquet")

    # A5's rule: the chord instrument at the window's centre names its pattern (organ root,
    # guitar third, piano fifth)
    test_instruments = window_instruments(labels(f"{args.dataset}-test"), test)
    implied = np.array([INSTRUMENT_PATTERNS[p] for p in test_instruments])
    train_instruments = window_instruments(labels(args.dataset), train)
    known = test.patterns >= 1
    truth, songs = test.patterns[known], test.songs[known]
    qda = fit_qda(train.mu, train.patterns, cfg.seed)
    rule = song_score(implied[known] == truth, songs)
    mu_qda = song_score(qda.predict(test.mu[known]) == truth, songs)
    result = {
        "dataset": args.dataset,
        "model": args.model,
        "test_windows": int(known.sum()),
        "test_songs": int(len(np.unique(songs))),
        "rule_holds": rule.to_json(),
        "mu_qda": mu_qda.to_json(),
        "instrument_from_prior_input": instrument_decodability(
            train, train_instruments, cfg.inputs
        ),
        "mu_variance_explained": variance_explained(train, train_instruments),
        "components": {},
    }
    for k in args.components:
        means, covs, pis = training_density(train.mu, k, cfg.seed)
        per_class = class_modes(train, means, covs, pis, qda)
        named = np.array([per_class[p]["named"] for p in implied[known]])
        oracle = song_score(named == truth, songs)
        modes = {str(p): {"mode": np.round(c["mode"], 3).tolist(), "named": c["named"]}
                 for p, c in per_class.items()}  # fmt: skip
        cv = song_folds_cv(train, cfg, k)
        result["components"][str(k)] = {"class_modes": modes,
                                        "oracle_mode_pattern": oracle.to_json(), **cv}  # fmt: skip
        names = {p: c["named"] for p, c in per_class.items()}
        print(f"K={k}: each pattern's class-conditional mode is named {names}; the "
              f"instrument oracle's pattern at the mode {oracle.text()} (test songs); the prior "
              f"over the training songs' folds: NLL {cv['cv_nll']:.3f} (density "
              f"{cv['cv_nll_training_density']:.3f}), pattern at the mode "
              f"{cv['cv_mode_pattern']:.3f}", flush=True)  # fmt: skip
    print(f"rule holds on {rule.text()} of the test windows; µ QDA {mu_qda.text()}")
    print(f"the prior's input names the instrument on {result['instrument_from_prior_input']:.3f}"
          f" of the training windows (song-disjoint folds); share of µ's variance (µ0, µ1) "
          f"explained by {result['mu_variance_explained']}")  # fmt: skip
    out = ROOT / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text(out, json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
