"""experiments/note_segmentation.py scores the bass generated at each centroid as the control
test does, under each note setting."""

import dataclasses

import numpy as np
import pytest

from bassnet.evaluation.control_test import control_songs, score_songs
from bassnet.evaluation.scoring import load_model
from bassnet.generation.config import GenerateConfig
from bassnet.generation.folded import FoldedBassNet
from tests.conftest import save_tiny_model
from tests.experiments import load_script

note_segmentation = load_script("note_segmentation")


def test_scores_pool_the_songs_as_the_control_test_and_pitch_ignores_the_notes(
    a1_test_shards, render_cfg, tmp_path
):
    cfg = dataclasses.replace(render_cfg, seconds=8)
    songs = control_songs(a1_test_shards, "test", a1_test_shards.parent / "data-test", "A1", cfg,
                          -60.0)  # fmt: skip
    model = FoldedBassNet(load_model(save_tiny_model(tmp_path / "model.pt", seed=3)).eval())
    centroids = {1: np.array([0.5, 0.0]), 2: np.array([-0.5, 0.5])}
    gen = GenerateConfig()
    scores = note_segmentation.split_scores(model, songs, centroids, gen, (0.0, 0.3), (0.5,))
    reference = score_songs(model, songs, centroids, gen)
    for legato in (0.0, 0.3):  # A1 is scored on pitch, from the curves: notes change nothing
        assert scores[(0.5, legato)]["mean"] == pytest.approx(reference["mean"].value, abs=1e-4)
        for p, score in reference["patterns"].items():
            assert scores[(0.5, legato)]["patterns"][str(p)] == pytest.approx(score.value, abs=1e-4)
    rows = note_segmentation.as_rows(scores)
    assert {(r["onset_threshold"], r["legato_onset"]) for r in rows} == {(0.5, 0.0), (0.5, 0.3)}
