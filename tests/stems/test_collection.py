"""A stem collection end to end: manifest → features (stems kept) → training with re-mixing."""

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch

from bassnet.features.schema import stems_from_store
from bassnet.model.multires import WindowSpec
from bassnet.stems.layouts import scan, write_manifest
from bassnet.training.data import WindowSampler, read_tracks, shard_paths
from bassnet.training.remix import Remixer
from tests.pipelines.conftest import run_features
from tests.stems.conftest import slakh_layout


@pytest.fixture(scope="module")
def collection_features(stem_audio, tmp_path_factory):
    """Features of a Slakh-layout collection of two songs (bass in two parts), one in Slakh's
    train folder and one in its validation folder."""
    songs, sr = stem_audio
    root = tmp_path_factory.mktemp("collection")
    rows, _, _ = scan("slakh2100", slakh_layout(root / "slakh", songs, sr))
    write_manifest(rows, root / "manifest.csv")
    run_features(root / "manifest.csv", root / "features")
    return root / "features", songs, sr


def test_features_keep_the_stems_and_sum_the_bass_parts(collection_features):
    features, songs, sr = collection_features
    table = pq.read_table(shard_paths(features)[0]).to_pylist()
    row = next(r for r in table if r["track_id"] == "Track00001")
    assert row["stems"] == ["drums", "piano", "bass"]
    stems = stems_from_store(np.array(row["stem_audio"], np.int16), np.array(row["stem_scale"]))
    assert stems.shape[0] == 2 and stems.shape[1] == round(row["duration_s"] * 16000)
    # the bass of two halves is the whole bass: its CQT is louder than either half would be
    assert row["n_frames"] == len(row["cqt_bass"])


def test_remixing_with_unit_coefficients_reproduces_the_stored_mix_cqt(collection_features):
    features, _, _ = collection_features
    track = read_tracks(shard_paths(features)[0], "train", -100.0, with_stems=True)[0]
    remixer = Remixer(0.5, 1.0)
    start, frames = 150, 64
    span = track.stem_span(remixer, start, frames)
    ones = np.ones(len(track.stems), np.float32)
    got = remixer.mix_cqt([span], [ones])[0].numpy()
    want = track.mix[start : start + frames].astype(np.float32)
    assert np.mean(np.abs(got - want)) < 0.01  # float16 CQT and int16 stems in the shard
    assert np.percentile(np.abs(got - want), 99) < 0.05
    # other coefficients change the balance: a different CQT at about the same level
    other = remixer.mix_cqt([span], [np.array([1.0, 0.5], np.float32)])[0].numpy()
    assert np.mean(np.abs(other - want)) > 0.05


def test_coefficients_lie_within_bounds():
    remixer = Remixer(0.5, 1.0)
    c = remixer.coefficients(np.random.default_rng(0), 10_000)
    assert c.min() >= 0.5 and c.max() <= 1.0 and 0.7 < c.mean() < 0.8
    with pytest.raises(ValueError):
        Remixer(0.0, 1.0)


def test_the_sampler_remixes_stem_tracks(collection_features):
    features, _, _ = collection_features
    spec = WindowSpec.parse("10/40")
    shards = shard_paths(features)

    def sampler(remixer):
        return WindowSampler(shards, spec, 100, np.random.default_rng(0), -100.0, 4,
                             remixer=remixer)  # fmt: skip

    plain, remixed = sampler(None).batch(4), sampler(Remixer(0.5, 1.0)).batch(4)
    assert torch.equal(plain["y"], remixed["y"])  # the bass is the bass
    assert not torch.allclose(plain["x"], remixed["x"], atol=0.05)  # the mix is re-mixed
    assert (plain["x"] - remixed["x"]).abs().mean() < 1.0  # … at about the same level


def test_a_transposed_remix_is_transposed_like_its_window(collection_features):
    features, _, _ = collection_features
    spec = WindowSpec.parse("10/40")

    def batch(remixer):  # the same seed: the same windows and semitones
        return WindowSampler(shard_paths(features), spec, 100, np.random.default_rng(0), -100.0,
                             4, remixer=remixer, transpose=3).batch(8)  # fmt: skip

    stored, unit = batch(None), batch(Remixer(1.0, 1.0))  # unit coefficients: the stored mix
    assert torch.equal(stored["y"], unit["y"])
    for key in ("x", "u"):  # float16 CQT and int16 stems in the shard (see above)
        assert (stored[key] - unit[key]).abs().mean() < 0.01


def test_training_on_the_collection_remixes(collection_features, tiny_train_cfg, tmp_path):
    from bassnet.model import ModelConfig
    from bassnet.training.loop import train

    features, _, _ = collection_features
    summary = train(features, tmp_path, ModelConfig(window="10/40", maps=2, blocks=2,
                    head_maps=2), tiny_train_cfg, progress=False)  # fmt: skip
    assert summary["mini_epochs"] == 2 and summary["remix"] == [0.5, 1.0]


def test_the_evaluation_reports_a_collection_model(collection_features, tiny_train_cfg, tmp_path):
    import json

    from bassnet.evaluation.report import run_evaluation
    from bassnet.model import ModelConfig
    from bassnet.training.loop import train

    features, _, _ = collection_features
    (tmp_path / "features").mkdir()
    (tmp_path / "features" / "mysongs").symlink_to(features, target_is_directory=True)
    train(features, tmp_path / "models" / "mysongs" / "10-40",
          ModelConfig(window="10/40", maps=2, blocks=2, head_maps=2), tiny_train_cfg,
          progress=False)  # fmt: skip
    out = tmp_path / "reports"
    metrics = run_evaluation(tmp_path / "models", tmp_path / "features", out,
                             tmp_path / "evaluation.json", [], [], [], 16, 2, 0, "test",
                             collections=["mysongs"], collection_window="10-40")  # fmt: skip
    entry = metrics["mysongs/10-40"]
    assert "qda_accuracy" not in entry and entry["windows"] > 0 and entry["f0_cce"] > 0
    report = (out / "report.md").read_text()
    assert "## Stem collections" in report
    assert f"| mysongs | 10/40 | {entry['f0_cce']:.3f} / " in report
    # the pad's map (bassnet serve) finds the model's validation µ under its models/ key
    points = json.loads((out / "latent_points.json").read_text())["mysongs/10-40"]
    assert len(points["points"]) == entry["windows"] and set(points["labels"]) == {-1}
    assert (out / "figures" / "fig5_latent_maps.png").stat().st_size > 0
    assert (out / "figures" / "fig8_relative_pitch_mysongs.png").stat().st_size > 0
