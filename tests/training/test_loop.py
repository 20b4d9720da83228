"""Training on real shards: overfitting, resuming after a kill, the CLI, the ablation."""

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
import yaml

from bassnet.config import REPO_PARAMS
from bassnet.errors import ConfigError
from bassnet.model import BassNet, ModelConfig
from bassnet.training.data import WindowSampler, WindowSet, shard_paths
from bassnet.training.loop import latent_region, train, training_precision, validate_with_mu
from bassnet.training.losses import train_loss

TINY = dict(maps=4, blocks=2, head_maps=4)


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_a_tiny_model_overfits_one_batch(a1_shards, precision):
    torch.manual_seed(0)
    model = BassNet(ModelConfig(window="8/16", **TINY))
    batch = WindowSampler(shard_paths(a1_shards), model.config.spec, 100,
                          np.random.default_rng(0), -100.0, 4).batch(4)  # fmt: skip
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(120):
        with training_precision(precision, "cpu"):
            terms = train_loss(model, batch["x"], batch["y"], batch["u"], batch["v"],
                               batch["targets"], batch["targets_v"])  # fmt: skip
        optimiser.zero_grad()
        terms["loss"].backward()
        optimiser.step()
        losses.append({k: v.item() for k, v in terms.items()})
    assert losses[-1]["f0"] < 0.3 * losses[0]["f0"]
    assert losses[-1]["mse"] < 0.3 * losses[0]["mse"]


def test_training_writes_model_curves_and_summary(a1_shards, tiny_train_cfg, tmp_path):
    summary = train(a1_shards, tmp_path, ModelConfig(window="8/16", **TINY), tiny_train_cfg,
                    progress=False)  # fmt: skip
    assert summary["mini_epochs"] == 2 and summary["instances"] == 16
    assert set(summary["best_val"]) >= {"f0", "level", "onset", "mse", "kl_prior", "loss"}
    curve = (tmp_path / "live/plots/metrics/val/f0.tsv").read_text().splitlines()
    assert curve[0].split("\t") == ["step", "f0"] and len(curve) == 1 + 3  # steps 0, 1, 2
    assert (tmp_path / "live/plots/metrics/train/kl_cross.tsv").exists()
    assert BassNet.load(tmp_path / "model.pt").config.window == "8/16"
    assert not (tmp_path / "checkpoint").exists()
    # where the training µ's lie: the default z of generation and the trained region
    region = torch.load(tmp_path / "model.pt", weights_only=True)["latent_region"]
    assert region == summary["latent_region"]
    low, centre, high = (np.array(region[k]) for k in ("low", "centre", "high"))
    assert low.shape == (2,) and np.all(low < centre) and np.all(centre < high)


def test_bfloat16_steps_compute_the_loss_in_bf16_and_near_float32(a1_shards, tiny_train_cfg,
                                                                  tmp_path):  # fmt: skip
    torch.manual_seed(0)
    model = BassNet(ModelConfig(window="8/16", **TINY))
    batch = WindowSampler(shard_paths(a1_shards), model.config.spec, 100,
                          np.random.default_rng(0), -100.0, 4).batch(4)  # fmt: skip
    args = (batch["x"], batch["y"], batch["u"], batch["v"], batch["targets"], batch["targets_v"])
    torch.manual_seed(1)
    full = train_loss(model, *args)["loss"].item()
    with training_precision("bfloat16", "cpu"):
        torch.manual_seed(1)
        half = train_loss(model, *args)["loss"].item()
        assert model.enc_x.blocks[0].encode(batch["x"]).dtype == torch.bfloat16
    assert half != full and half == pytest.approx(full, rel=0.02)
    cfg = dataclasses.replace(tiny_train_cfg, precision="bfloat16")
    summary = train(a1_shards, tmp_path, ModelConfig(window="8/16", **TINY), cfg, progress=False)
    assert summary["train"]["precision"] == "bfloat16" and np.isfinite(summary["best_val"]["loss"])
    # weights stay float32: the model file is the same kind as a float32 run's
    assert BassNet.load(tmp_path / "model.pt").enc_x.blocks[0].weight.dtype == torch.float32


def test_validation_does_not_depend_on_the_windows_per_call(a1_shards, tiny_train_cfg):
    """`train.valid_batch` is a speed setting: the terms and µ are the same in any batches."""
    torch.manual_seed(0)
    model = BassNet(ModelConfig(window="8/16", **TINY))
    valid = WindowSet(shard_paths(a1_shards), model.config.spec, 24, -100.0)
    (one, mu_one), (all_, mu_all) = (validate_with_mu(model, valid, "cpu", b) for b in (1, 64))
    assert set(one) == set(all_) and len(mu_one) == 24
    for term, value in one.items():
        assert value == pytest.approx(all_[term], rel=1e-5), term
    np.testing.assert_allclose(mu_one, mu_all, rtol=1e-5, atol=1e-6)
    with pytest.raises(ConfigError, match="valid_batch"):
        dataclasses.replace(tiny_train_cfg, valid_batch=0)


def test_latent_region_spans_the_bulk_of_the_points():
    mu = np.random.default_rng(0).normal([1.0, -2.0], [0.5, 0.1], size=(1000, 2))
    region = latent_region(mu)
    assert np.allclose(region["centre"], [1.0, -2.0], atol=0.05)
    inside = np.all((mu >= region["low"]) & (mu <= region["high"]), axis=1)
    assert 0.97 < inside.mean() < 1.0


def test_the_ablation_trains_without_neighbours(a1_shards, tiny_train_cfg, tmp_path):
    summary = train(a1_shards, tmp_path, ModelConfig(window="8/16", **TINY), tiny_train_cfg,
                    ablation=True, progress=False)  # fmt: skip
    assert summary["objective"] == "Eq. (10) (ablation)"
    assert not (tmp_path / "live/plots/metrics/train/kl_cross.tsv").exists()


def _params_file(tmp_path, max_mini_epochs):
    params = yaml.safe_load(REPO_PARAMS.read_text())
    params["profiles"]["default"]["model"] = TINY
    params["profiles"]["default"]["train"] = {
        "batch_size": 4, "mini_epoch": 40, "max_mini_epochs": max_mini_epochs,
        "valid_windows": 8, "threads": 1, "device": "cpu", "learning_rate": 3e-3,
    }  # fmt: skip
    path = tmp_path / f"params{max_mini_epochs}.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


def _cli(params, out, shards):
    return [sys.executable, "-m", "bassnet.cli", "train", "--features", str(shards),
            "--window", "8-16", "--out", str(out), "--params", str(params), "-q"]  # fmt: skip


def test_a_killed_run_resumes_and_ends_where_an_uninterrupted_one_does(a1_shards, tmp_path):
    params = _params_file(tmp_path, 4)
    whole = subprocess.run(_cli(params, tmp_path / "whole", a1_shards), capture_output=True,
                           text=True, timeout=300)  # fmt: skip
    assert whole.returncode == 0, whole.stderr
    assert "4 mini-epochs" in whole.stdout

    out = tmp_path / "killed"
    proc = subprocess.Popen(_cli(params, out, a1_shards), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 240
    while not (out / "checkpoint").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert (out / "checkpoint").exists()
    resumed = subprocess.run(_cli(params, out, a1_shards), capture_output=True, text=True,
                             timeout=300)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stdout
    a = torch.load(tmp_path / "whole/model.pt", weights_only=True)
    b = torch.load(out / "model.pt", weights_only=True)
    assert a["mini_epoch"] == b["mini_epoch"]
    for name, tensor in a["state_dict"].items():
        assert torch.equal(tensor, b["state_dict"][name]), name
    assert (tmp_path / "whole/model.pt").read_bytes() == (out / "model.pt").read_bytes()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["mini_epochs"] == 4


def test_the_cli_trains_with_the_models_own_settings_and_records_them(a1_shards, tmp_path):
    from bassnet.cli import main

    params = yaml.safe_load(_params_file(tmp_path, 2).read_text())
    # the model's folder: the features folder's name (the dataset) and the window
    params["profiles"]["default"]["train"]["models"] = {
        f"{a1_shards.name}/8-16": {"max_mini_epochs": 1, "transpose": 2, "model": {"maps": 16}},
        f"{a1_shards.name}/8-16-ablation": {"max_mini_epochs": 3},
    }
    path = tmp_path / "models.yaml"
    path.write_text(yaml.safe_dump(params))
    shared_maps = params["profiles"]["default"]["model"]["maps"]
    for ablation, mini_epochs, transpose, maps in ((False, 1, 2, 16), (True, 3, 0, shared_maps)):
        out = tmp_path / f"model{ablation}"
        argv = ["train", "--features", str(a1_shards), "--window", "8/16", "--out", str(out),
                "--params", str(path), "-q"] + ["--ablation"] * ablation  # fmt: skip
        assert main(argv) == 0
        summary = json.loads((out / "summary.json").read_text())
        assert summary["mini_epochs"] == summary["train"]["max_mini_epochs"] == mini_epochs
        assert summary["train"]["transpose"] == transpose
        assert summary["train"]["learning_rate"] == 3e-3  # shared
        assert torch.load(out / "model.pt", weights_only=True)["config"]["maps"] == maps


def test_a_checkpoint_of_other_settings_is_not_resumed(a1_shards, tiny_train_cfg, tmp_path,
                                                       capsys):  # fmt: skip
    torch.save({"fingerprint": "other settings"}, tmp_path / "checkpoint")
    cfg = dataclasses.replace(tiny_train_cfg, max_mini_epochs=1)
    summary = train(a1_shards, tmp_path, ModelConfig(window="8/16", **TINY), cfg, progress=False)
    assert "starting afresh" in capsys.readouterr().out
    assert summary["mini_epochs"] == 1


@pytest.mark.parametrize("flag", ["--window=40/30", "--window=abc"])
def test_cli_reports_a_bad_window(flag, a1_shards, capsys):
    from bassnet.cli import main

    assert main(["train", "--features", str(a1_shards), flag]) == 2
    assert "window" in capsys.readouterr().err


def test_the_fingerprint_changes_with_the_training_code(tmp_path, monkeypatch):
    # a checkpoint written by an older objective must not be resumed by the new one
    import shutil

    import bassnet.training.loop as training

    for name in training.TRAINING_CODE:
        src = training.PACKAGE / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    monkeypatch.setattr(training, "PACKAGE", tmp_path)
    before = training.code_hash()
    assert training.code_hash() == before  # deterministic
    with open(tmp_path / "training" / "losses.py", "a") as handle:
        handle.write("\n# a change\n")
    assert training.code_hash() != before


def test_the_cli_trains_a_datasets_control_model_at_its_own_window_and_settings(
    a1_shards, tmp_path, capsys
):
    from bassnet.cli import main

    params = yaml.safe_load(_params_file(tmp_path, 2).read_text())
    own = {"window": "8-8", "max_mini_epochs": 1, "posterior_noise": 0, "model": {"maps": 16}}
    params["profiles"]["default"]["control"] = {"models": {a1_shards.name: own}}
    path = tmp_path / "control.yaml"
    path.write_text(yaml.safe_dump(params))
    out = tmp_path / "control"
    assert main(["train", "--control", "--features", str(a1_shards), "--out", str(out),
                 "--params", str(path), "-q"]) == 0  # fmt: skip
    summary = json.loads((out / "summary.json").read_text())
    assert summary["window"] == "8/8" and summary["mini_epochs"] == 1
    assert summary["train"]["posterior_noise"] == 0
    assert summary["train"]["learning_rate"] == 3e-3  # shared
    assert torch.load(out / "model.pt", weights_only=True)["config"]["maps"] == 16
    # a window as well, or a dataset without an entry, is a named error
    assert main(["train", "--control", "--window", "8/16", "--features", str(a1_shards),
                 "--params", str(path)]) == 2  # fmt: skip
    assert "--control takes its window" in capsys.readouterr().err
    other = tmp_path / "A9"
    other.symlink_to(a1_shards)
    assert main(["train", "--control", "--features", str(other), "--params", str(path)]) == 2
    assert "control.models has no model for 'A9'" in capsys.readouterr().err
