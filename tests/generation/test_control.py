"""The control check: its scores against known truth, and a run on a tiny trained model."""

import json
from pathlib import Path

import numpy as np
import pytest

from bassnet.constants import FRAME_RATE
from bassnet.generation.control import expected_steps, pitch_score, rhythm_score
from bassnet.generation.curves import BassCurves
from bassnet.generation.notes import BassNote
from bassnet.synth.plan import make_plan


def curves_playing(steps, seconds: float) -> BassCurves:
    """Curves of a bass that plays exactly `steps` (each for its whole length)."""
    n = int(seconds * FRAME_RATE) + 1
    f0 = np.zeros(n, np.float32)
    for s in steps:
        a, b = round(s.start_s * FRAME_RATE), round((s.start_s + s.seconds) * FRAME_RATE)
        f0[a:b] = 440.0 * 2 ** ((s.pitch - 69) / 12)
    voiced = (f0 > 0).astype(np.float32)
    return BassCurves(f0, voiced, np.where(f0 > 0, -20.0, -100.0).astype(np.float32), voiced * 0)


def as_notes(steps):
    return [BassNote(s.start_s, s.start_s + s.seconds, s.pitch, 100, np.zeros(1)) for s in steps]


def test_pitch_score_is_one_for_the_pattern_and_low_for_the_others(render_cfg):
    plan = make_plan("A1", 0, 123, render_cfg)
    played = curves_playing(expected_steps(plan, 2), plan.duration_s)  # the thirds
    assert pitch_score(played, expected_steps(plan, 2)) == 1.0
    assert pitch_score(played, expected_steps(plan, 1)) == 0.0  # a third is never the root
    assert pitch_score(played, expected_steps(plan, 3)) == 0.0
    silent = curves_playing([], plan.duration_s)
    assert pitch_score(silent, expected_steps(plan, 1)) == 0.0


def test_rhythm_score_is_one_for_the_pattern_and_lower_for_the_others(render_cfg):
    plan = make_plan("A4", 0, 123, render_cfg)
    beat_s, beats = plan.tempo_us / 1e6, plan.n_measures * 4
    for p in range(1, 6):
        mine = as_notes(expected_steps(plan, p))
        assert rhythm_score(mine, expected_steps(plan, p), beat_s, beats) == 1.0
    # pattern 4 plays eighths, pattern 5 one quarter per measure: they share no beat
    assert rhythm_score(as_notes(expected_steps(plan, 4)), expected_steps(plan, 5), beat_s,
                        beats) == 0.0  # fmt: skip


@pytest.fixture(scope="module")
def tiny_a1_model(a1_shards, tiny_train_cfg, tmp_path_factory):
    from bassnet.model import ModelConfig
    from bassnet.train import train

    out = tmp_path_factory.mktemp("control_model")
    train(a1_shards, out, ModelConfig(window="8/16", maps=2, blocks=2, head_maps=2),
          tiny_train_cfg, progress=False)  # fmt: skip
    return out / "model.pt"


def test_the_control_command_writes_scores_audio_and_a_figure(tiny_a1_model, tmp_path):
    from bassnet.cli import main

    metrics = tmp_path / "control.json"
    code = main(["control", "--model", str(tiny_a1_model), "--dataset", "A1",
                 "--out", str(tmp_path / "audio"), "--metrics", str(metrics),
                 "--figure", str(tmp_path / "control.png"), "--songs", "2",
                 "--test-songs", "2"])  # fmt: skip
    assert code == 0
    result = json.loads(metrics.read_text())
    assert result["kind"] == "pitch" and set(result["scores"]) <= {"1", "2", "3"}
    assert all(0.0 <= v <= 1.0 for v in result["scores"].values())
    # two different test songs, and each pattern's score is the mean of theirs
    songs = result["songs"]
    assert len(songs) == 2 and songs[0]["index"] != songs[1]["index"]
    for p, v in result["scores"].items():
        assert v == pytest.approx((songs[0]["scores"][p] + songs[1]["scores"][p]) / 2)
    assert len(list((tmp_path / "audio").glob("*.mix.wav"))) == 1  # the first song's only
    assert (tmp_path / "control.png").stat().st_size > 0
    assert list((tmp_path / "audio").glob("A1_control.pattern*.mid"))


def test_the_control_command_refuses_a_bad_song_count(tmp_path, capsys):
    from bassnet.cli import main

    repo_params = (Path(__file__).parents[2] / "params.yaml").read_text()
    params = tmp_path / "params.yaml"
    params.write_text(repo_params.replace("heldout_songs: 10", "heldout_songs: 0", 1))
    args = ["control", "--model", "A1", "--dataset", "A1", "--out", str(tmp_path / "audio"),
            "--metrics", str(tmp_path / "control.json"), "--params", str(params)]  # fmt: skip
    assert main(args) != 0
    assert "control: heldout_songs must be >= 1" in capsys.readouterr().err
    assert main([*args[:-2], "--songs", "-1"]) != 0  # the flag is checked alike (params.yaml)
    assert "heldout_songs must be >= 1" in capsys.readouterr().err
    assert main([*args[:-2], "--test-songs", "0"]) != 0
    assert "test_songs must be >= 1" in capsys.readouterr().err
    assert not (tmp_path / "control.json").exists()


def test_heldout_centroids_cover_the_patterns_of_new_songs(tiny_a1_model, render_cfg):
    from bassnet.generation.control import CONTROL_SONG_INDEX, heldout_centroids
    from bassnet.model import BassNet
    from bassnet.synth.fluidsynth_render import FluidRenderer
    from bassnet.synth.plan import make_plan, song_seed

    model = BassNet.load(tiny_a1_model)
    seed, songs = render_cfg.seeds["A1"], 2
    played = {p for i in range(CONTROL_SONG_INDEX + 1, CONTROL_SONG_INDEX + 1 + songs)
              for p in make_plan("A1", i, song_seed(seed, i), render_cfg).patterns}  # fmt: skip
    renderer = FluidRenderer(render_cfg.soundfont, render_cfg.sample_rate)
    try:
        centroids = heldout_centroids(model, "A1", render_cfg, seed, songs, renderer)
    finally:
        renderer.close()
    assert set(centroids) <= played and len(centroids) >= len(played) - 1
    assert all(z.shape == (model.config.latent_dim,) and np.all(np.isfinite(z))
               for z in centroids.values())  # fmt: skip
