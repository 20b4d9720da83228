"""Bad requests fail with a clear, named error before anything is written."""

import dataclasses

import pytest

from bassnet.cli import main
from bassnet.errors import ConfigError
from bassnet.synth.dataset import render_dataset


def test_unknown_dataset(tmp_path, render_cfg):
    out = tmp_path / "out"
    with pytest.raises(ConfigError, match="unknown dataset 'A5'"):
        render_dataset("A5", out, 2, 1, render_cfg)
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


def test_cli_reports_errors_without_traceback(tmp_path, capsys):
    assert main(["render", "A9", "--songs", "1", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bassnet: error: unknown dataset 'A9'")
    assert "Traceback" not in err
    assert main(["render", "A1", "--songs", "0", "--out", str(tmp_path / "o")]) == 2
    assert "--songs must be a positive integer" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
