"""Bad requests fail with a clear, named error before anything is written."""

import dataclasses
import re
import subprocess
import sys

import pytest

from bassnet.cli import main
from bassnet.errors import ConfigError
from bassnet.synth.dataset import render_dataset


def test_unknown_dataset(tmp_path, render_cfg):
    out = tmp_path / "out"
    with pytest.raises(ConfigError, match="unknown dataset 'A6'"):
        render_dataset("A6", out, 2, 1, render_cfg)
    assert not out.exists()


@pytest.mark.parametrize("songs", [0, -3])
def test_non_positive_song_count(tmp_path, render_cfg, songs):
    out = tmp_path / "out"
    with pytest.raises(ConfigError, match="positive integer"):
        render_dataset("A1", out, songs, 1, render_cfg)
    assert not out.exists()


def test_missing_soundfont(tmp_path, render_cfg):
    out = tmp_path / "out"
    cfg = dataclasses.replace(render_cfg, soundfont=str(tmp_path / "nope.sf2"))
    with pytest.raises(ConfigError, match="soundfont not found: .*nope.sf2"):
        render_dataset("A1", out, 1, 1, cfg)
    assert not out.exists()


def test_output_folder_is_a_file(tmp_path, render_cfg):
    out = tmp_path / "file"
    out.write_text("keep me")
    with pytest.raises(ConfigError, match="exists and is not a folder"):
        render_dataset("A1", out, 1, 1, render_cfg)
    assert out.read_text() == "keep me"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("pattern_switch_prob", 1.5, "pattern_switch_prob"),
        ("instrument_rule_prob", 1.5, r"instrument_rule_prob must lie in \[0, 1\]"),
        ("instrument_rule_prob", -0.1, r"instrument_rule_prob must lie in \[0, 1\]"),
        ("instrument_rule_prob", float("nan"), r"instrument_rule_prob must lie in \[0, 1\]"),
        ("tempo_bpm", (200, 100), "tempo_bpm"),
        ("gate", 0, "gate"),
        ("seconds", -1, "seconds"),
    ],
)
def test_bad_params_are_named(render_cfg, field, value, message):
    with pytest.raises(ConfigError, match=message):
        dataclasses.replace(render_cfg, **{field: value})


def test_bad_params_file(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text(
        "profile: default\nrender: {songs: 2, colour: red}\nprofiles: {default: {}}\n"
    )
    code = main(["render", "A1", "--params", str(params), "--out", str(tmp_path / "o")])
    assert code == 2
    params.write_text("profile: fast\nprofiles: {default: {}}\n")
    assert main(["render", "A1", "--params", str(params), "--out", str(tmp_path / "o")]) == 2


@pytest.mark.parametrize("value", [1.5, -0.1])
def test_instrument_rule_prob_outside_0_1_is_named_by_the_cli(tmp_path, capsys, value):
    import yaml

    from bassnet.config import REPO_PARAMS

    raw = yaml.safe_load(REPO_PARAMS.read_text())
    raw["render"]["instrument_rule_prob"] = value
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(raw))
    out = tmp_path / "o"
    assert main(["render", "A5", "--params", str(params), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == "bassnet: error: render: instrument_rule_prob must lie in [0, 1]\n", err
    assert not out.exists()


def test_cli_reports_errors_without_traceback(tmp_path, capsys):
    assert main(["render", "A9", "--songs", "1", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bassnet: error: unknown dataset 'A9'")
    assert "Traceback" not in err
    assert main(["render", "A1", "--songs", "0", "--out", str(tmp_path / "o")]) == 2
    assert "--songs must be a positive integer" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


# `bassnet render` arguments that cannot succeed: (extra arguments, what the error names).
# Each must be `bassnet: error: ...`, exit code 2, and leave no file or folder behind.
RENDER_CASES = [
    (["--seed", "-5"], "--seed must be an integer in 0.."),
    (["--seed", str(2**63)], "--seed must be an integer in 0.."),
    (["--seconds", "inf"], "seconds must be a finite number"),
    (["--seconds=-inf"], "seconds must be a finite number"),
    (["--seconds", "nan"], "seconds must be a finite number"),
    (["--seconds", "0"], "seconds must be a finite number"),
    (["--seconds", "1e9"], "seconds must be a finite number in \\(0, 3600\\]"),
    (["--songs", "0"], "--songs must be a positive integer"),
    (["--songs", "-2"], "--songs must be a positive integer"),
    (["--workers", "-1"], "workers must be >= 0"),
]


@pytest.mark.parametrize(("extra", "message"), RENDER_CASES, ids=lambda v: " ".join(v) if
                         isinstance(v, list) else None)  # fmt: skip
@pytest.mark.parametrize("out", ["explicit", "default"])
def test_bad_render_arguments_are_named_and_write_nothing(
    extra, message, out, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)  # the default output folder is ./datasets/A1
    args = ["render", "A1", "-q", *extra] + (["--out", "o/A1"] if out == "explicit" else [])
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("bassnet: error: ") and re.search(message, err), err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_bad_render_arguments_exit_2_from_the_console_script(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "bassnet.cli", "render", "A1", "--seed", "-5", "--out",
         str(tmp_path / "o")], capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith("bassnet: error: --seed"), done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("seed", "split"),
    [(-1, "trainvalid"), (2**63, "trainvalid"), (True, "trainvalid"), (1, "train")],  # fmt: skip
)
def test_render_dataset_checks_seed_and_split_before_writing(tmp_path, render_cfg, seed, split):
    out = tmp_path / "out"
    with pytest.raises(ConfigError, match="seed|split"):
        render_dataset("A1", out, 1, seed, render_cfg, split=split)
    assert not out.exists()


def test_an_output_below_a_file_is_named(tmp_path, render_cfg):
    (tmp_path / "file").write_text("keep me")
    with pytest.raises(ConfigError, match="cannot be created .*file is not a folder"):
        render_dataset("A1", tmp_path / "file" / "sub" / "out", 1, 1, render_cfg)
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("seconds", float("inf")), ("seconds", float("nan")), ("seconds", 3601.0),
     ("tempo_bpm", (100.0, float("inf"))), ("seeds", {"A1": -1}), ("test_seeds", {"A1": 1.5})],
)  # fmt: skip
def test_non_finite_or_out_of_range_params_are_named(render_cfg, field, value):
    with pytest.raises(ConfigError, match=field):
        dataclasses.replace(render_cfg, **{field: value})
