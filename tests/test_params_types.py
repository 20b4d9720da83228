"""A value of the wrong type in params.yaml is one named `bassnet: error:` line from every
command that reads it: its file, section and key, what was expected and what was found."""

import pytest
import yaml

from bassnet.cli import main
from bassnet.config import REPO_PARAMS, type_problem


def params_with(folder, key, value):
    """The repository's params with `key` (dotted, e.g. "render.seconds") set to `value`."""
    raw = yaml.safe_load(REPO_PARAMS.read_text())
    *parents, last = key.split(".")
    node = raw
    for part in parents:
        node = node[part]
    node[last] = value
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


RENDER = ["render", "A1", "--out", "{tmp}/out"]
TRAIN = ["train", "--features", "{tmp}/features", "--window", "40/40"]
GENERATE = ["generate", "{tmp}/song.wav", "-o", "{tmp}/out"]

CASES = [
    ("profiles.default.render.seconds", "30", RENDER,
     "render.seconds: expected a number, got '30' (a string)"),
    ("render.velocity", {"chords": 80, "bass": "loud", "drums": 100}, RENDER,
     "render.velocity.bass: expected an integer, got 'loud' (a string)"),
    ("render.instrument_rule_prob", "0.9", RENDER,
     "render.instrument_rule_prob: expected a number, got '0.9' (a string)"),
    ("render.tempo_bpm", [100, "fast"], RENDER,
     "render.tempo_bpm: expected a list of 2 numbers, got [100, 'fast']"),
    ("profiles.default.train.batch_size", "8", TRAIN,
     "train.batch_size: expected an integer, got '8' (a string)"),
    ("profiles.default.train.learning_rate", "3e-3", TRAIN,
     "train.learning_rate: expected a number, got '3e-3' (a string: YAML reads an exponent "
     "without a decimal point as text; write 1.0e-4)"),
    ("train.loss_weights", [1, 2], TRAIN, "train.loss_weights: expected a mapping, got [1, 2]"),
    ("train.models", {"A1/40-40": {"transpose": "3"}}, TRAIN,
     "train.models[A1/40-40]: train.transpose: expected an integer, got '3' (a string)"),
    ("profiles.default.model.maps", "8", TRAIN,
     "model.maps: expected an integer, got '8' (a string)"),
    ("generate.segment_s", "60", GENERATE,
     "generate.segment_s: expected a number, got '60' (a string)"),
    ("generate.max_hours", True, GENERATE, "generate.max_hours: expected a number, got True"),
    ("profiles.default.evaluate.windows", "500", ["evaluate", "--out", "{tmp}/reports"],
     "evaluate.windows: expected an integer, got '500' (a string)"),
    ("control.candidates", "40-40", ["control", "--dataset", "A1", "--metrics", "{tmp}/c.json"],
     "control.candidates: expected a list of strings, got '40-40' (a string)"),
    ("serve.port", "8000", ["serve"], "serve.port: expected an integer, got '8000' (a string)"),
    ("serve", [1, 2], ["serve"], "serve: expected a mapping, got [1, 2]"),
    ("features.crepe_model", ["tiny"], ["features", "--manifest", "{tmp}/m.csv", "--out",
                                        "{tmp}/out"],
     "features.crepe_model: expected a string, got ['tiny']"),
    ("stems.length_tolerance_s", "2", ["manifest", "flat", "{tmp}", "-o", "{tmp}/m.csv"],
     "stems.length_tolerance_s: expected a number, got '2' (a string)"),
]  # fmt: skip


@pytest.mark.parametrize("key, value, argv, message", CASES, ids=[c[0] for c in CASES])
def test_a_value_of_the_wrong_type_is_a_named_error(key, value, argv, message, tmp_path, capsys):
    params = params_with(tmp_path, key, value)
    argv = [a.format(tmp=tmp_path) for a in argv] + ["--params", str(params)]
    assert main(argv) == 2
    assert capsys.readouterr().err == f"bassnet: error: {params}: {message}\n"


def test_what_fits_a_field():
    assert type_problem(30, float, "s") is None  # YAML's 30 is a number
    assert type_problem(None, int | None, "s") is None
    assert type_problem([0.5, 1], tuple[float, float] | None, "s") is None
    assert type_problem(True, int, "s") == "s: expected an integer, got True"
    assert type_problem([1, 2, 3], tuple[float, float], "s") == (
        "s: expected a list of 2 numbers, got [1, 2, 3]"
    )
    assert type_problem({"a": "x"}, dict[str, float], "s") == (
        "s.a: expected a number, got 'x' (a string)"
    )
