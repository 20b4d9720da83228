"""experiments/control_sweep.py: configs are checked, each run's params carry its overrides,
and a sweep trains each config and scores it with `bassnet control`, a failing run named."""

import json

import pytest
import yaml

from tests.experiments import load_script

sweep = load_script("control_sweep")


@pytest.mark.parametrize(
    ("configs", "message"),
    [
        ([], "non-empty list"),
        ([{"train": {}}], "needs a name"),
        ([{"name": "a", "optimiser": "sgd"}], "unknown keys ['optimiser']"),
        ([{"name": "a"}, {"name": "a"}], "unique"),
        ([{"name": "a", "model": [16]}], "model must be a mapping"),
    ],
)
def test_bad_configs_are_refused(configs, message):
    with pytest.raises(ValueError) as err:
        sweep.check_configs(configs)
    assert message in str(err.value)


def test_a_runs_params_hold_its_overrides_and_the_cap():
    base = yaml.safe_load(open(sweep.ROOT / "params.yaml"))
    config = {"name": "m16", "train": {"seed": 2, "max_minutes": 9.0}, "model": {"maps": 16}}

    params = sweep.config_params(base, config, "cpu", max_minutes=4.0)

    train, model = params["profiles"]["default"]["train"], params["profiles"]["default"]["model"]
    assert (train["seed"], train["threads"], train["device"], train["max_minutes"]) == (
        2, 1, "cpu", 4.0)  # fmt: skip
    assert model["maps"] == 16 and model["blocks"] == base["profiles"]["default"]["model"]["blocks"]
    assert base["profiles"]["default"]["model"]["maps"] == 8  # the base is left as it was


def test_a_sweep_trains_and_scores_each_config(a1_shards, a1_test_shards, tmp_path):
    base = yaml.safe_load(open(sweep.ROOT / "params.yaml"))
    base["profiles"]["default"]["render"]["seconds"] = 8  # the fixtures' songs
    for split, features, songs in (("A1", a1_shards, "data"), ("A1-test", a1_test_shards,
                                                                 "data-test")):  # fmt: skip
        (tmp_path / "features").mkdir(exist_ok=True)
        (tmp_path / "features" / split).symlink_to(features)
        (tmp_path / "datasets").mkdir(exist_ok=True)
        (tmp_path / "datasets" / split).symlink_to(a1_shards.parent / songs)
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(base))
    tiny = {"max_mini_epochs": 1, "mini_epoch": 8, "batch_size": 4, "valid_windows": 4}
    configs = [
        {"name": "tiny", "window": "8-16", "train": tiny,
         "model": {"maps": 2, "blocks": 2, "head_maps": 2}},
        {"name": "bad", "window": "8-12", "train": tiny},  # 12/8 is not a power of 2
    ]  # fmt: skip
    (tmp_path / "configs.json").write_text(json.dumps(configs))
    out = tmp_path / "out"

    summary = sweep.main(["--dataset", "A1", "--configs", str(tmp_path / "configs.json"),
                          "--out", str(out), "--data", str(tmp_path / "features"), "--datasets",
                          str(tmp_path / "datasets"), "--params", str(params)])  # fmt: skip

    assert summary["tiny"]["train"].startswith("trained") and " 8/16 " in summary["tiny"]["train"]
    # the patterns the training songs play, scored on the two 8-s test songs
    assert summary["tiny"]["scores"] and set(summary["tiny"]["scores"]) <= {"1", "2", "3"}
    assert all(0 <= v <= 1 for v in summary["tiny"]["scores"].values())
    assert summary["bad"]["train"].startswith("failed") and "8/12" in summary["bad"]["train"]
    assert summary["bad"]["scores"] == "no model to score"
    assert json.loads((out / "summary.json").read_text()) == summary
    run = yaml.safe_load((out / "tiny" / "params.yaml").read_text())
    assert run["profiles"]["default"]["model"]["maps"] == 2
    # what the run left beside its test scores: its training's cost and the validation songs'
    # control, the figure a recipe is chosen by; --collect-only reads it again
    assert summary["tiny"]["precision"] == "float32" and summary["tiny"]["minutes"] > 0
    assert 0 <= summary["tiny"]["validation_mean"] <= 1
    assert "validation_mean" not in summary["bad"]
    again = sweep.main(["--dataset", "A1", "--configs", str(tmp_path / "configs.json"), "--out",
                        str(out), "--params", str(params), "--collect-only"])  # fmt: skip
    assert again == summary
