"""Evaluation: the QDA protocol, figures, the report stage and `bassnet encode`."""

import csv
import dataclasses
import json

import numpy as np
import pytest
import yaml

from bassnet.config import find_params
from bassnet.errors import DataError
from bassnet.evaluation.figures import figure5
from bassnet.evaluation.report import run_evaluation, stage_minutes
from bassnet.evaluation.scoring import (
    ModelEvaluation,
    evaluate_model,
    folded_mu,
    latent,
    qda_accuracy,
)
from bassnet.generation.encode import COLUMNS, encode_files
from bassnet.model import BassNet, ModelConfig
from bassnet.training.data import WindowSet, shard_paths
from bassnet.training.loop import train

TINY = dict(maps=4, blocks=2, head_maps=4)


def clusters(seed=0, spread=0.3):
    rng = np.random.default_rng(seed)
    centres = [(0, 0), (3, 0), (0, 3)]
    points = np.concatenate([rng.normal(c, spread, (60, 2)) for c in centres])
    return points, np.repeat([1, 2, 3], 60)


def test_qda_separates_well_separated_clusters():
    points, labels = clusters()
    assert qda_accuracy(points, labels) > 0.99


def test_qda_on_shuffled_labels_is_near_chance():
    points, labels = clusters()
    shuffled = np.random.default_rng(1).permutation(labels)
    assert abs(qda_accuracy(points, shuffled) - 1 / 3) < 0.12


def test_qda_needs_two_classes():
    points, _ = clusters()
    assert np.isnan(qda_accuracy(points, np.ones(len(points), dtype=int)))


def test_figure5_writes_a_png(tmp_path):
    points, labels = clusters()
    e = ModelEvaluation("A1", "40/40", False, {}, 1.0, 0.33, len(points), points, labels)
    figure5([e, dataclasses.replace(e, ablation=True)], tmp_path / "fig5.png")
    assert (tmp_path / "fig5.png").read_bytes()[:4] == b"\x89PNG"


@pytest.fixture(scope="module")
def tiny_models(a1_shards, a1_test_shards, tiny_train_cfg, tmp_path_factory):
    """A tiny A1 model (8/16) and its ablation, one mini-epoch each, in models/A1/…, beside
    features/A1 and its test split features/A1-test."""
    root = tmp_path_factory.mktemp("run")
    (root / "features").mkdir()
    (root / "features" / "A1").symlink_to(a1_shards)
    (root / "features" / "A1-test").symlink_to(a1_test_shards)
    cfg = dataclasses.replace(tiny_train_cfg, max_mini_epochs=1)
    model_cfg = ModelConfig(window="8/16", **TINY)
    train(a1_shards, root / "models/A1/8-16", model_cfg, cfg, progress=False)
    train(a1_shards, root / "models/A1/8-16-ablation", model_cfg, cfg, ablation=True,
          progress=False)  # fmt: skip
    return root


def test_the_evaluation_stage_writes_report_figures_and_metrics(tiny_models):
    root = tiny_models
    # a model of a dataset this stage does not evaluate (as A5's): its time still counts
    (root / "models/A5/control").mkdir(parents=True)
    (root / "models/A5/control/summary.json").write_text(json.dumps({"minutes": 2.04}))
    metrics = run_evaluation(root / "models", root / "features", root / "reports",
                             root / "metrics.json", ["8/16"], ["8/16"], ["A1"], 40, 3, 0,
                             "test", {"features": {"A1": 1.25}},
                             own_settings={"A1/8-16": {"max_mini_epochs": 1}}, train_windows=40,
                             test_windows=30, results=root / "results.md")  # fmt: skip
    assert set(metrics) == {"A1/8-16", "A1/8-16-ablation", "findings"}
    assert 0 <= metrics["A1/8-16"]["qda_accuracy"] <= 1
    assert metrics["A1/8-16"]["f0_cce"] > 0
    # song-disjoint QDA on the test split's two songs, with its nulls and intervals
    for key in ("test_qda", "test_majority", "test_untrained"):
        score = metrics["A1/8-16"][key]
        assert score["songs"] == 2 and 0 <= score["low"] <= score["value"] <= score["high"] <= 1
    report = (root / "reports/report.md").read_text()
    assert "## Table 1" in report and "| 8/16 |" in report and "Profile `test`" in report
    assert "test QDA [95 % CI]" in report and "| 8/16 ablation | A1 |" in report
    results = (root / "results.md").read_text()
    assert "# Results" in results and "song-disjoint QDA" in results
    for name in ("fig5_latent_maps.png",):
        assert (root / "reports/figures" / name).stat().st_size > 1000
    # the stage table: the features time passed in, the training time from summary.json
    assert "| features A1 | 1.2 |" in report and "| train A1 8-16 |" in report
    assert "| train A5 control | 2.0 |" in report
    assert "| evaluate (all models, figures) |" in report
    # a model trained with its own settings is named beside the tables
    assert "`train.models`): A1/8-16 (max_mini_epochs 1). Their rows" in report
    # validation µ per model, for the serve pad: one point and one label per window
    points = json.loads((root / "reports/latent_points.json").read_text())
    assert set(points) == set(metrics) - {"findings"}
    entry = points["A1/8-16"]
    assert len(entry["points"]) == len(entry["labels"]) == metrics["A1/8-16"]["windows"]
    assert all(len(p) == 2 for p in entry["points"]) and set(entry["labels"]) <= {1, 2, 3}


def test_the_evaluated_points_are_the_posterior_means(tiny_models):
    # µ comes from the validation pass (one pass for Table 1 and the QDA points)
    path = tiny_models / "models/A1/8-16/model.pt"
    result = evaluate_model(path, tiny_models / "features/A1", 40, 3, 0, "A1", False)
    model = BassNet.load(path)
    valid = WindowSet(shard_paths(tiny_models / "features/A1"), model.config.spec, 40,
                      model.config.level_floor_db)  # fmt: skip
    assert np.allclose(result.points, latent(model, valid.x, valid.y)[0], atol=1e-5)
    assert len(result.points) == len(valid) == len(result.labels)


def test_the_song_disjoint_qda_reads_the_models_own_mu_through_its_folded_encoders(tiny_models):
    # folded_mu (the held-out QDA, the control's centroids) is the model's µ up to float
    # rounding, whatever the windows per call, and leaves a model in training mode as it was
    path = tiny_models / "models/A1/8-16/model.pt"
    model = BassNet.load(path)
    windows = WindowSet(shard_paths(tiny_models / "features/A1"), model.config.spec, 24,
                        model.config.level_floor_db, "train")  # fmt: skip
    model.eval()
    expected, _ = latent(model, windows.x, windows.y)
    model.train()
    for batch in (1, 4, 64):
        got = folded_mu(model, windows, batch)
        assert got.shape == expected.shape and np.abs(got - expected).max() < 1e-4
    assert model.training
    assert not np.allclose(expected, expected.mean(0), atol=1e-3)  # µ varies: the check has teeth


def test_stage_minutes_reads_what_render_and_features_recorded(tmp_path):
    (tmp_path / "datasets/A1").mkdir(parents=True)
    (tmp_path / "datasets/A1/stats.json").write_text(json.dumps({"wall_minutes": 0.4}))
    (tmp_path / "metrics/features").mkdir(parents=True)
    (tmp_path / "metrics/features/A1.json").write_text(json.dumps({"tracks": 3}))  # older run
    assert stage_minutes(["A1", "A2"], tmp_path) == {"render": {"A1": 0.4}}


def test_a_missing_model_is_a_clear_error(tmp_path, a1_shards):
    with pytest.raises(DataError, match="no trained model"):
        evaluate_model(tmp_path / "model.pt", a1_shards, 10, 3, 0, "A1", False)


def test_features_too_short_for_the_model_are_a_clear_error(tmp_path, a1_shards):
    BassNet(ModelConfig(window="10/2560", **TINY)).save(tmp_path / "model.pt")
    with pytest.raises(DataError, match="shorter than the window"):
        evaluate_model(tmp_path / "model.pt", a1_shards, 10, 3, 0, "A1", False)


def test_encode_writes_the_documented_columns(tiny_models, a1_shards, tmp_path):
    audio = a1_shards.parent / "data" / "audio"
    mix, bass = sorted(audio.glob("*.mix.wav"))[0], sorted(audio.glob("*.bass.wav"))[0]
    out = tmp_path / "mu.csv"
    rows = encode_files(tiny_models / "models/A1/8-16/model.pt", mix, bass, out)
    table = list(csv.reader(out.open()))
    assert tuple(table[0]) == COLUMNS and len(table) == rows + 1
    times = np.array([float(r[0]) for r in table[1:]])
    assert np.allclose(np.diff(times), 0.08)  # a window every b/2 = 8 frames
    assert all(float(r[3]) > 0 and float(r[4]) > 0 for r in table[1:])


def test_encode_without_a_model_is_a_clear_error(tmp_path, a1_shards):
    audio = sorted((a1_shards.parent / "data" / "audio").glob("*.wav"))[0]
    with pytest.raises(DataError, match="no such model"):
        encode_files(tmp_path / "none.pt", audio, audio, tmp_path / "mu.csv")


def test_interval_histogram_by_hand():
    from bassnet.evaluation.scoring import INTERVALS, interval_histogram

    # bass on bin 72 (110 Hz) under a mix at 220 Hz: −12; bin 75 (≈116.5 Hz) under 110 Hz: +1;
    # unvoiced bass (class 264) and an unvoiced mix (0 Hz) do not count
    hist = interval_histogram(np.array([72, 72, 75, 264, 72]), np.array([220.0, 220, 110, 110, 0]))
    assert hist[list(INTERVALS).index(-12)] == pytest.approx(2 / 3)
    assert hist[list(INTERVALS).index(1)] == pytest.approx(1 / 3)
    assert hist.sum() == pytest.approx(1)


def test_relative_pitch_grid_and_figure8(a1_shards, tmp_path):
    from bassnet.evaluation.figures import figure8
    from bassnet.evaluation.scoring import mix_f0, relative_pitch_grid, validation_tracks

    model = BassNet(ModelConfig(window="40/40", **TINY)).eval()
    tracks = validation_tracks(a1_shards, -100.0)
    grid = np.array([(-1.0, 0.0), (1.0, 0.0)])
    data, generated = relative_pitch_grid(model, tracks, mix_f0(a1_shards), grid, 20)
    assert 0.95 < data.sum() <= 1 + 1e-9  # the bass sounds under the mix, within 3 octaves
    assert set(generated) == {(-1.0, 0.0), (1.0, 0.0)}
    assert all(0 <= h.sum() <= 1 + 1e-9 for h in generated.values())
    figure8(data, generated, "test", tmp_path / "fig8.png")
    assert (tmp_path / "fig8.png").read_bytes()[:4] == b"\x89PNG"


def test_the_report_names_a_models_own_model_settings_by_their_dotted_keys():
    from bassnet.evaluation.report import own_settings_note

    note = " ".join(own_settings_note({"A1/40-40": {"transpose": 3, "model": {"maps": 16},
                                                    "loss_weights": {"onset": 2}}}))  # fmt: skip
    assert "A1/40-40 (transpose 3, model.maps 16, loss_weights.onset 2)" in note
    assert own_settings_note({}) == []


def test_a_missing_test_split_is_a_named_error_not_a_silent_gap(tiny_models, tmp_path):
    (tmp_path / "features").mkdir()
    (tmp_path / "features" / "A1").symlink_to(tiny_models / "features" / "A1")
    with pytest.raises(DataError, match="no test split; run `dvc repro features-test`"):
        run_evaluation(tiny_models / "models", tmp_path / "features", tmp_path / "reports",
                       tmp_path / "metrics.json", ["8/16"], [], ["A1"], 40, 3, 0, "test",
                       train_windows=40, test_windows=30)  # fmt: skip
    assert not (tmp_path / "metrics.json").exists()


def test_every_trained_seed_of_a_model_is_evaluated_and_aggregated(
    tiny_models, a1_shards, tiny_train_cfg, tmp_path
):
    from bassnet.cli import main

    (tmp_path / "models/A1").mkdir(parents=True)
    (tmp_path / "models/A1/8-16").symlink_to(tiny_models / "models/A1/8-16")
    # another seed, trained by the CLI into <folder>-seed1 beside the model
    params = yaml.safe_load(find_params(None).read_text())
    tiny = {"learning_rate": 3e-3, "batch_size": 4, "mini_epoch": 8, "max_mini_epochs": 1,
            "valid_windows": 8, "free_bits": 0.5, "neighbourhood_s": 1.0}  # fmt: skip
    params["profiles"]["default"]["train"].update(tiny)
    params["profiles"]["default"]["model"].update(TINY)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    assert main(["train", "--features", str(a1_shards), "--window", "8/16", "--seed", "1",
                 "--out", str(tmp_path / "models/A1/8-16-seed1"), "--params",
                 str(tmp_path / "params.yaml"), "-q"]) == 0  # fmt: skip
    metrics = run_evaluation(tmp_path / "models", tiny_models / "features", tmp_path / "reports",
                             tmp_path / "metrics.json", ["8/16"], [], ["A1"], 40, 3, 0, "test",
                             train_windows=40, test_windows=30)  # fmt: skip
    assert {"A1/8-16", "A1/8-16-seed1"} <= set(metrics)
    values = [metrics[k]["test_qda"]["value"] for k in ("A1/8-16", "A1/8-16-seed1")]
    report = (tmp_path / "reports/report.md").read_text()
    assert f"| 2: {np.mean(values):.3f} ± {np.std(values, ddof=1):.3f}" in report


def test_the_evaluation_and_control_devices_are_checked_before_any_work(tmp_path, capsys):
    """`evaluate.device` and `control.device` (params.yaml; cpu where absent): a value that is no
    device, or cuda where torch sees no GPU, is a named error before any model or data is read."""
    import torch
    import yaml

    from bassnet.cli import main
    from bassnet.config import REPO_PARAMS, checked_device

    assert checked_device("cpu", "evaluate.device") == "cpu"
    assert checked_device("auto", "evaluate.device") == ("cuda" if torch.cuda.is_available()
                                                         else "cpu")  # fmt: skip
    raw = yaml.safe_load(REPO_PARAMS.read_text())
    cases = [("evaluate", "tpu", "evaluate: device must be cpu, cuda or auto"),
             ("control", "tpu", "control: device must be cpu, cuda or auto")]  # fmt: skip
    if not torch.cuda.is_available():
        cases += [("evaluate", "cuda", "evaluate.device is cuda, but torch sees no GPU"),
                  ("control", "cuda", "control.device is cuda, but torch sees no GPU")]  # fmt: skip
    for section, device, message in cases:
        params = tmp_path / f"{section}-{device}.yaml"
        raw["profiles"]["default"].setdefault(section, {})["device"] = device
        params.write_text(yaml.safe_dump(raw))
        del raw["profiles"]["default"][section]["device"]
        command = {"evaluate": ["evaluate", "--models", tmp_path / "none"],
                   "control": ["control", "--dataset", "A1", "--models", tmp_path / "none",
                               "--metrics", tmp_path / "control.json"]}[section]  # fmt: skip
        code = main([str(a) for a in [*command, "--params", params, "--profile", "default"]])
        err = capsys.readouterr().err
        assert code == 2 and f"bassnet: error: {message}" in err, err
        assert not (tmp_path / "control.json").exists()
