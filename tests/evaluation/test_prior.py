"""Scoring the prior p(z|x) on test songs, the `bassnet prior` command, and its shipping."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import yaml

from bassnet.config import find_params
from bassnet.errors import DataError
from bassnet.evaluation.prior import chance_agreement, prior_checks
from bassnet.model import BassNet, ModelConfig, load_checkpoint, write_checkpoint
from bassnet.model.prior import LatentPrior


def test_chance_is_the_agreement_of_independent_predictions():
    truth = np.array([1] * 6 + [2] * 4)
    assert chance_agreement(np.full(10, 1), truth) == pytest.approx(0.6)
    # predicted shares (0.5, 0.5), true shares (0.6, 0.4): 0.5·0.6 + 0.5·0.4
    assert chance_agreement(np.array([1, 2] * 5), truth) == pytest.approx(0.5)


def test_the_checks_judge_each_bar():
    def score(value, low, high):
        return {"value": value, "low": low, "high": high, "songs": 20, "windows": 500}

    base = {"nll_minus_training_density": score(0.0, -0.01, 0.01)}
    priors = {
        "A1": {"test": {**base, "mode_pattern": score(0.36, 0.3, 0.42),
                        "mode_pattern_chance": 0.34}},
        "A5": {"test": {**base, "mode_pattern": score(0.85, 0.81, 0.9),
                        "mode_pattern_chance": 0.33}},
    }  # fmt: skip
    verdicts = [v for _, v, _ in prior_checks(priors)]
    assert verdicts == ["met", "met", "met"]
    priors["A1"]["test"]["mode_pattern"] = score(0.5, 0.45, 0.55)
    priors["A5"]["test"]["mode_pattern"] = score(0.7, 0.6, 0.75)
    priors["A5"]["test"]["nll_minus_training_density"] = score(0.2, 0.1, 0.3)
    assert [v for _, v, _ in prior_checks(priors)] == ["not met", "not met", "not met"]


@pytest.fixture(scope="module")
def tiny_model_tree(a1_shards, tiny_train_cfg, tmp_path_factory):
    """models/A1/40-40: a tiny A1 model (8/16 windows, seconds to train)."""
    from bassnet.training.loop import train

    root = tmp_path_factory.mktemp("models")
    model_cfg = ModelConfig(window="8/16", maps=2, blocks=2, head_maps=2)
    train(a1_shards, root / "A1" / "40-40", model_cfg, tiny_train_cfg, progress=False)
    return root


def test_the_prior_command_fits_scores_and_writes_the_prior(
    tiny_model_tree, a1_shards, a1_test_shards, tmp_path, capsys
):
    from bassnet.cli import main

    params = tmp_path / "params.yaml"
    raw = yaml.safe_load(find_params(None).read_text())
    raw["prior"].update(train_windows=60, valid_windows=20, test_windows=40, steps=20,
                        components=3, hidden=8, inputs=8)  # fmt: skip
    params.write_text(yaml.safe_dump(raw))
    (tmp_path / "features").mkdir()
    (tmp_path / "features/A1").symlink_to(a1_shards)
    (tmp_path / "features/A1-test").symlink_to(a1_test_shards)
    out, metrics = tmp_path / "priors" / "A1.pt", tmp_path / "metrics" / "A1.json"
    code = main([
        "prior", "--dataset", "A1", "--models", str(tiny_model_tree),
        "--features", str(tmp_path / "features"), "--control", str(tmp_path / "none"),
        "--out", str(out), "--metrics", str(metrics), "--params", str(params),
    ])  # fmt: skip
    assert code == 0
    assert "prior A1: NLL" in capsys.readouterr().out
    result = json.loads(metrics.read_text())
    assert result["model"] == "40-40" and result["fit"]["train_songs"] == 3
    test = result["test"]
    assert test["test_songs"] == 2 and test["nll"]["songs"] == 2
    assert 0 <= test["mode_pattern"]["value"] <= 1 and 0 < test["mode_pattern_chance"] <= 1
    saved = load_checkpoint(out)
    assert saved["model"] == "A1/40-40" and saved["metrics"]["test"] == test
    # the training windows' µ and patterns: the pad's map of a model the evaluation has none of
    points, labels = np.array(saved["latent_map"]["points"]), saved["latent_map"]["labels"]
    assert points.shape == (result["fit"]["train_windows"], 2) and set(labels) <= {1, 2, 3}
    prior = LatentPrior.from_state(saved["prior"])
    assert prior.components <= 3 and 0.0 <= float(prior.shrink) <= 1.0


def test_ship_bundles_the_prior_fitted_for_the_model_it_ships(tiny_model_tree, tmp_path):
    from bassnet.pretrained.ship import ship

    prior = LatentPrior(2, hidden=4, context_frames=20, inputs=4)
    prior.set_density(np.array([[0.0, 0.0], [1.0, 1.0]]), np.stack([np.eye(2)] * 2), [0.5, 0.5])
    test = {"nll": {"value": 1.0, "low": 0.9, "high": 1.1, "songs": 2, "windows": 40}}
    (tmp_path / "priors").mkdir()
    latent_map = {"points": [[0.0, 0.1], [1.0, 0.9]], "labels": [1, 2]}
    write_checkpoint({"prior": prior.to_state(), "model": "A1/40-40", "metrics": {"test": test},
                      "latent_map": latent_map}, tmp_path / "priors" / "A1.pt")  # fmt: skip
    cards = ship(tiny_model_tree, ["A1"], "40-40", "default", out_dir=tmp_path / "out",
                 priors=tmp_path / "priors")  # fmt: skip
    shipped = BassNet.load(tmp_path / "out" / "A1.pt")
    assert LatentPrior.from_state(shipped.extra["prior"]).components == 2
    assert cards["A1"]["prior"] == {"nll": test["nll"]}
    assert shipped.extra["latent_map"] == latent_map  # no evaluation's map: the prior's
    assert "prior p(z" in (tmp_path / "out" / "MODEL_CARD.md").read_text()
    # a prior fitted for another model of the dataset is refused, not shipped with this one
    write_checkpoint({"prior": prior.to_state(), "model": "A1/control"},
                     tmp_path / "priors" / "A1.pt")  # fmt: skip
    with pytest.raises(DataError, match="fitted for A1/control"):
        ship(tiny_model_tree, ["A1"], "40-40", "default", out_dir=tmp_path / "out2",
             priors=tmp_path / "priors")  # fmt: skip


def test_a_prior_setting_of_the_wrong_type_names_its_key(tmp_path):
    from bassnet.config import PriorConfig, load_params

    raw = yaml.safe_load(find_params(None).read_text())
    raw["prior"]["components"] = "eight"
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(raw))
    with pytest.raises(Exception, match="prior.components"):
        PriorConfig.from_params(load_params(params))
    assert dataclasses.is_dataclass(PriorConfig)
