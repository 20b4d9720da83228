"""The switches (bassnet/switches.py): the paper profile runs the paper, the default profile
departs only through them, and docs/design.md's table has one row per switch."""

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from bassnet.config import REPO_PARAMS, load_params
from bassnet.errors import ConfigError
from bassnet.model import BassNet, ModelConfig
from bassnet.switches import SWITCHES, lookup
from bassnet.training.config import TrainConfig, control_model, model_config

DESIGN = Path(__file__).resolve().parents[1] / "docs" / "design.md"
TABLE_HEADER = "| switch | paper | default | evidence |"


def spell(value) -> str:
    """A value as the switch table writes it (YAML's flow style, unquoted)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(spell(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {spell(v)}" for k, v in value.items()) + "}"
    return str(value)


def table_rows() -> dict[str, list[str]]:
    """docs/design.md's switch table: switch key → its cells (paper, default, evidence); a key
    listed twice fails here."""
    lines = DESIGN.read_text().splitlines()
    start = lines.index(TABLE_HEADER) + 2  # past the header and its rule
    rows: dict[str, list[str]] = {}
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        key = cells[0].strip("`")
        assert key not in rows, f"{key} has two rows in docs/design.md's switch table"
        rows[key] = cells[1:]
    return rows


def test_the_paper_profile_sets_every_switch_to_the_papers_value():
    params = load_params(REPO_PARAMS, "paper")
    for switch in SWITCHES:
        value = lookup(params, switch.key)
        assert value == switch.paper, f"{switch.key}: {value!r}, the paper {switch.paper!r}"
    # and the typed configs the stages build read them so
    train, model = TrainConfig.from_params(params), model_config(params, "40-40")
    for switch in SWITCHES:
        section, name = switch.key.split(".")
        typed = {"train": train, "model": model}.get(section)
        if typed is not None:
            value = getattr(typed, name)
            assert (list(value) if isinstance(value, tuple) else value) == switch.paper


def test_the_method_switches_take_the_papers_value_from_the_shared_sections():
    # the paper's value is the shared one; a profile that names none of them runs the paper.
    # The sizes that the DVC stages read from the shared sections as the default profile's
    # (train.windows, features.*) or that only profiles set (render) the paper profile sets.
    raw = yaml.safe_load(REPO_PARAMS.read_text())
    profiles = raw.pop("profiles")
    for switch in SWITCHES:
        try:
            shared = lookup(raw, switch.key)
        except ConfigError:
            assert lookup(profiles["paper"], switch.key) == switch.paper, switch.key
            continue
        if shared != switch.paper:
            assert lookup(profiles["paper"], switch.key) == switch.paper, switch.key
    method = [s for s in SWITCHES if s.kind == "method"]
    assert {s.key for s in method} >= {"model.latent_input", "train.reconstruction",
                                       "model.unvoiced_class", "train.free_bits"}  # fmt: skip
    for switch in method:
        assert lookup(raw, switch.key) == switch.paper, switch.key
        with pytest.raises(ConfigError):
            lookup(profiles["paper"], switch.key)


def test_design_md_has_one_row_per_switch_with_the_paper_and_default_values():
    rows = table_rows()
    assert sorted(rows) == sorted(s.key for s in SWITCHES)
    default = load_params(REPO_PARAMS, "default")
    for switch in SWITCHES:
        paper, default_cell, evidence = rows[switch.key]
        assert paper == f"`{spell(switch.paper)}`", switch.key
        first = re.match(r"`([^`]*)`", default_cell)
        assert first and first.group(1) == spell(lookup(default, switch.key)), switch.key
        assert evidence, switch.key


def test_the_default_profile_keeps_the_models_it_trained():
    # the pooled latent, the unvoiced class and the window sum, for the matrix models and
    # the control models alike
    params = load_params(REPO_PARAMS, "default")
    configs = [(model_config(params, "40-40"), TrainConfig.from_params(params))]
    for dataset in params["control"]["models"]:
        merged, key, window = control_model(params, dataset)
        configs.append((model_config(merged, window, key), TrainConfig.from_params(merged, key)))
    for model, train in configs:
        assert (model.latent_input, model.unvoiced_class, train.reconstruction) == (
            "pooled", True, "sum")  # fmt: skip
        # their files name none of the switches: the bytes a config without them gives
        assert "latent_input" not in model.to_dict() and "unvoiced_class" not in model.to_dict()


def test_bad_switch_values_are_named_errors():
    params = load_params(REPO_PARAMS, "default")
    with pytest.raises(ConfigError, match="latent_input must be one of"):
        model_config({**params, "model": {**params["model"], "latent_input": "mean"}}, "40-40")
    with pytest.raises(ConfigError, match="unvoiced_class must be true or false"):
        ModelConfig(window="40/40", unvoiced_class="yes")
    with pytest.raises(ConfigError, match="reconstruction must be one of"):
        TrainConfig.from_params({**params, "train": {**params["train"], "reconstruction": "max"}})
    with pytest.raises(ConfigError, match="precision must be one of"):
        TrainConfig.from_params({**params, "train": {**params["train"], "precision": "float16"}})
    with pytest.raises(ConfigError, match="params have no train.nothing"):
        lookup(params, "train.nothing")


def test_the_paper_switches_train_and_save_a_model_that_loads_as_such(
    a1_shards, tiny_train_cfg, tmp_path
):
    from bassnet.training.loop import train

    config = ModelConfig(window="8/16", maps=4, blocks=2, head_maps=4, latent_input="full",
                         unvoiced_class=False)  # fmt: skip
    cfg = dataclasses.replace(tiny_train_cfg, reconstruction="mean", max_mini_epochs=1)
    summary = train(a1_shards, tmp_path, config, cfg, progress=False)
    assert summary["mini_epochs"] == 1 and summary["train"]["reconstruction"] == "mean"
    stored = torch.load(tmp_path / "model.pt", weights_only=True)
    assert stored["config"]["latent_input"] == "full"
    assert stored["config"]["unvoiced_class"] is False
    model = BassNet.load(tmp_path / "model.pt")
    assert model.config == config
    assert model.latent_weight.shape == (4, 4 * 8 * 264)  # [µ, log σ²] of the whole mapping
    # Eq. (10)'s validation loss is the plain sum of KL and per-frame terms
    best = summary["best_val"]
    terms = best["kl_prior"] + best["mse"] + best["f0"] + best["level"] + best["onset"]
    assert np.isclose(best["loss"], terms, rtol=1e-5)


def test_generation_voices_the_papers_f0_by_the_generated_level():
    # without an unvoiced class a frame sounds where its generated level reaches silence_db;
    # with it, the class decides and silence_db plays no part
    from bassnet.generation.curves import segment_curves

    rng = np.random.default_rng(0)
    for unvoiced_class in (False, True):
        torch.manual_seed(0)
        config = ModelConfig(window="10/40", maps=2, blocks=2, head_maps=2,
                             unvoiced_class=unvoiced_class)  # fmt: skip
        model = BassNet(config).eval()
        spec, n = config.spec, 60
        cqt = rng.normal(-7.5, 1.0, (n + 4 * spec.expanded, 264)).astype(np.float32)
        z = np.zeros((-(-n // spec.hop) + 1, 2), dtype=np.float32)
        loud, quiet = (segment_curves(model, cqt, z, n, silence_db=db) for db in (-101.0, 1.0))
        assert np.array_equal(loud.level_db, quiet.level_db)
        if unvoiced_class:
            assert np.array_equal(loud.voicing, quiet.voicing)
            assert np.array_equal(loud.f0_hz, quiet.f0_hz)
        else:
            assert np.all(loud.voicing == 1) and np.all(loud.f0_hz > 0)
            assert np.all(quiet.voicing == 0) and np.all(quiet.f0_hz == 0)
