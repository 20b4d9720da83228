"""experiments/exp_table.py on a real `dvc exp show --json`: five tiny gpu-profile experiments
(`dvc exp run --queue train@A1-40-40 -S train.seed=N [-S profiles.gpu.train.learning_rate=...]`,
then `dvc queue start`; trimmed to params.yaml and models/A1/40-40/summary.json) pool into two
configurations, each metric summarised over its seeds."""

import json
import math
import statistics
from pathlib import Path

import pytest

from tests.experiments import load_script

exp_table = load_script("exp_table")
FIXTURE = Path(__file__).parent / "data" / "exp_show_seeds.json"
SUMMARY = "models/A1/40-40/summary.json"


@pytest.fixture(scope="module")
def shown() -> list:
    return json.loads(FIXTURE.read_text())


def _raw(shown: list) -> dict[str, tuple[float, float, float]]:
    """name → (seed, learning rate, best validation f0), read straight from the JSON."""
    out = {}
    for group in shown[1]["experiments"]:
        for rev in group["revs"]:
            params = rev["data"]["params"]["params.yaml"]["data"]
            f0 = rev["data"]["metrics"][SUMMARY]["data"]["best_val"]["f0"]
            lr = params["profiles"]["gpu"]["train"]["learning_rate"]
            out[rev["name"]] = (params["train"]["seed"], lr, f0)
    return out


def test_the_experiments_pool_into_configurations_by_all_params_but_the_seed(shown):
    exps = exp_table.experiments(shown)
    raw = _raw(shown)
    assert sorted(e.name for e in exps) == sorted(raw)  # not the workspace, not the baseline
    groups = exp_table.configurations(exps, "train.seed")
    by_rate = {g[0].params["profiles.gpu.train.learning_rate"]: g for g in groups}
    assert {rate: sorted(e.params["train.seed"] for e in g) for rate, g in by_rate.items()} == {
        0.001: [0, 1], 0.003: [0, 1, 2]}  # fmt: skip
    assert exp_table.varying(exps, "train.seed") == ["profiles.gpu.train.learning_rate"]
    names = [e.name for e in exp_table.experiments(shown, baseline=True)]
    assert "master" in names and len(names) == len(raw) + 1


def test_each_metric_is_mean_sd_and_a_t_interval_over_the_seeds(shown):
    raw = _raw(shown)
    text = exp_table.table(exp_table.experiments(shown), ["profiles.gpu.train.learning_rate"],
                           [f"{SUMMARY}:best_val.f0"], "train.seed", digits=4)  # fmt: skip
    rows = {line.split(" | ")[2]: line for line in text.splitlines()[2:]}
    t95 = {1: 12.706, 2: 4.303}  # two-sided 95 % Student t quantiles, 1 and 2 degrees of freedom
    for rate in (0.001, 0.003):
        values = [f0 for seed, lr, f0 in raw.values() if lr == rate]
        mean, sd = statistics.mean(values), statistics.stdev(values)
        half = t95[len(values) - 1] * sd / math.sqrt(len(values))
        cell = rows[json.dumps(rate)].split(" | ")[3]
        assert cell.startswith(f"{mean:.4f} ± {sd:.4f} [")
        low, high = map(float, cell.split("[")[1].split("]")[0].split(", "))
        assert abs(low - (mean - half)) < 2e-4 and abs(high - (mean + half)) < 2e-4
        assert cell.endswith(f"(n={len(values)}) |")


def test_one_run_shows_its_value_and_none_a_dash():
    assert exp_table.summarise([0.5]).text(2) == "0.50"
    assert exp_table.summarise([None, math.nan]).text(2) == "–"
    s = exp_table.summarise([1.0, 2.0, 3.0])
    assert (s.n, s.mean, s.sd) == (3, 2.0, 1.0)
    assert abs(s.high - (2 + 4.303 / math.sqrt(3))) < 1e-3


def test_a_bare_key_in_two_files_and_a_seed_counted_twice_are_named():
    both = exp_table.Experiment(
        "e", "r", {"train.seed": 0}, {"a.json": {"x": 1}, "b.json": {"x": 2}}
    )
    with pytest.raises(ValueError, match="metric x is in a.json, b.json: name one as FILE:x"):
        exp_table.metric(both, "x")
    assert exp_table.metric(both, "b.json:x") == 2 and exp_table.metric(both, "y") is None
    twin = exp_table.Experiment("f", "s", {"train.seed": 0}, {})
    with pytest.raises(ValueError, match="experiments e, f share params and train.seed"):
        exp_table.configurations([both, twin], "train.seed")


def test_the_command_writes_the_table_and_names_bad_input(tmp_path, capsys):
    out = tmp_path / "table.md"
    code = exp_table.main(["--json", str(FIXTURE), "--metrics", "best_val.f0",
                           "instances_per_s", "--out", str(out)])  # fmt: skip
    assert code == 0
    lines = out.read_text().splitlines()
    assert lines[0] == ("| experiments | train.seed | profiles.gpu.train.learning_rate | "
                        "best_val.f0 | instances_per_s |")  # fmt: skip
    assert len(lines) == 4  # head, rule, two configurations
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"rev": "workspace"}))
    assert exp_table.main(["--json", str(bad), "--metrics", "x"]) == 2
    assert "exp_table: error: not `dvc exp show --json` output" in capsys.readouterr().err
