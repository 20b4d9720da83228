"""The control test on real rendered songs: centroids from training songs, scores on the
validation songs (selection) and the test split (report), with intervals over songs."""

import dataclasses
import json

import numpy as np
import pytest
import yaml

from bassnet.config import find_params
from bassnet.errors import DataError
from bassnet.evaluation.control_rules import expected_steps, pattern_hits
from bassnet.evaluation.control_test import (
    control_songs,
    generate_at,
    score_songs,
    training_centroids,
)
from bassnet.evaluation.scoring import load_model
from bassnet.generation.config import GenerateConfig
from bassnet.generation.folded import FoldedBassNet
from bassnet.model import ModelConfig


@pytest.fixture(scope="module")
def tiny_models(a1_shards, tiny_train_cfg, tmp_path_factory):
    """Two tiny A1 models in models/A1/{40-40,control} (8/16 windows, seconds to train)."""
    from bassnet.training.loop import train

    root = tmp_path_factory.mktemp("models")
    model_cfg = ModelConfig(window="8/16", maps=2, blocks=2, head_maps=2)
    for name, seed in (("40-40", 0), ("control", 1)):
        cfg = dataclasses.replace(tiny_train_cfg, seed=seed)
        train(a1_shards, root / "A1" / name, model_cfg, cfg, progress=False)
    return root


def test_control_songs_carry_the_plans_that_play_them(a1_shards, a1_test_shards, render_cfg):
    cfg = dataclasses.replace(render_cfg, seconds=8)
    songs = control_songs(a1_test_shards, "test", a1_test_shards.parent / "data-test", "A1", cfg,
                          -60.0)  # fmt: skip
    assert [s.track_id for s in songs] == ["A1_90000", "A1_90001"]
    for song in songs:
        assert song.cqt.dtype == np.float32 and song.cqt.shape[1] == 264
        assert len(song.silent) == len(song.cqt) and not song.silent[50:-50].any()
    # plans drawn with other render params than the data's are refused, not scored
    other = dataclasses.replace(cfg, pattern_switch_prob=1.0)
    with pytest.raises(DataError, match="does not play the song's patterns"):
        control_songs(a1_test_shards, "test", a1_test_shards.parent / "data-test", "A1", other,
                      -60.0)  # fmt: skip


def test_scores_pool_each_songs_units_and_the_interval_spans_songs(
    tiny_models, a1_shards, a1_test_shards, render_cfg
):
    cfg = dataclasses.replace(render_cfg, seconds=8)
    model = load_model(tiny_models / "A1/40-40/model.pt").eval()
    centroids = training_centroids(model, a1_shards, 40)
    assert set(centroids) <= {1, 2, 3} and len(centroids) >= 2
    songs = control_songs(a1_test_shards, "test", a1_test_shards.parent / "data-test", "A1", cfg,
                          -60.0)  # fmt: skip
    folded = FoldedBassNet(model)
    result = score_songs(folded, songs, centroids, GenerateConfig())
    # each pattern's score is the share of its steps over both songs, recomputed here by hand
    for p, score in result["patterns"].items():
        hits = []
        for song in songs:
            curves, notes = generate_at(folded, song, {p: centroids[p]}, GenerateConfig())[p]
            hits.append(pattern_hits(song.plan, p, curves, notes, expected_steps(song.plan, p)))
        assert score.value == pytest.approx(np.concatenate(hits).mean())
        assert score.songs == 2 and score.windows == sum(len(h) for h in hits)
        assert score.low <= score.value <= score.high
    assert [s["track_id"] for s in result["songs"]] == ["A1_90000", "A1_90001"]


def test_the_control_command_scores_each_candidate_and_selects_on_validation(
    tiny_models, a1_shards, a1_test_shards, tmp_path
):
    from bassnet.cli import main

    params = tmp_path / "params.yaml"
    raw = yaml.safe_load(find_params(None).read_text())
    raw["profiles"]["default"]["render"]["seconds"] = 8
    params.write_text(yaml.safe_dump(raw))
    root = a1_shards.parent
    (tmp_path / "features").mkdir()
    (tmp_path / "features/A1").symlink_to(a1_shards)
    (tmp_path / "features/A1-test").symlink_to(a1_test_shards)
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets/A1").symlink_to(root / "data")
    (tmp_path / "datasets/A1-test").symlink_to(root / "data-test")
    metrics, figure = tmp_path / "control.json", tmp_path / "control.png"
    code = main(["control", "--dataset", "A1", "--models", str(tiny_models), "--features",
                 str(tmp_path / "features"), "--datasets", str(tmp_path / "datasets"),
                 "--metrics", str(metrics), "--figure", str(figure), "--params", str(params),
                 "-q"])  # fmt: skip
    assert code == 0
    result = json.loads(metrics.read_text())
    assert result["kind"] == "pitch" and set(result["models"]) == {"40-40", "control"}
    assert result["selection_songs"] == 1 and result["test_songs"] == 2
    best = max(result["models"], key=lambda m: result["models"][m]["selection"]["mean"]["value"])
    assert result["selected"] == best
    for m in result["models"].values():
        test = m["test"]["mean"]
        assert test["songs"] == 2 and 0 <= test["value"] <= 1
        # one validation song: its interval is undefined, said as such, not a number
        assert m["selection"]["mean"]["low"] is None
    assert figure.stat().st_size > 1000


def test_the_control_command_without_trained_candidates_is_a_named_error(tmp_path, capsys):
    from bassnet.cli import main

    code = main(["control", "--dataset", "A1", "--models", str(tmp_path), "--metrics",
                 str(tmp_path / "m.json")])  # fmt: skip
    assert code != 0
    assert "none of control.candidates" in capsys.readouterr().err
    assert not (tmp_path / "m.json").exists()
