"""Shared fixtures: parameters from the repository's params.yaml, shrunk for fast tests."""

from __future__ import annotations

import dataclasses

import pytest

from bassnet.config import RenderConfig, load_params


@pytest.fixture(scope="session")
def render_cfg() -> RenderConfig:
    """The default profile's render settings with short songs and one worker."""
    cfg = RenderConfig.from_params(load_params(profile="default"))
    return dataclasses.replace(cfg, seconds=8.0, workers=1)


@pytest.fixture(scope="session")
def a1_shards(tmp_path_factory, render_cfg):
    """Feature shards of A1, 4 songs of ≈8 s (one in 'valid'): real FluidSynth audio through
    the real Beam feature job."""
    from bassnet.synth.dataset import render_dataset
    from tests.pipelines.conftest import run_features

    root = tmp_path_factory.mktemp("A1")
    cfg = dataclasses.replace(render_cfg, seconds=8, valid_fraction=0.25)
    render_dataset("A1", root / "data", 4, 11, cfg, progress=False)
    run_features(root / "data" / "manifest.csv", root / "features")
    return root / "features"


@pytest.fixture(scope="session")
def a1_test_shards(a1_shards, render_cfg):
    """The test split beside `a1_shards`: 2 songs of ≈8 s from another seed, rendered to
    <root>/data-test and featurised to <root>/features-test by the same job."""
    from bassnet.synth.dataset import render_dataset
    from tests.pipelines.conftest import run_features

    root = a1_shards.parent
    cfg = dataclasses.replace(render_cfg, seconds=8)
    render_dataset("A1", root / "data-test", 2, 12, cfg, progress=False, split="test")
    run_features(root / "data-test" / "manifest.csv", root / "features-test")
    return root / "features-test"


@pytest.fixture(scope="session")
def tiny_train_cfg():
    """Training settings for a model that trains in seconds."""
    from bassnet.training.config import TrainConfig

    return TrainConfig(
        windows=("8/16",),
        ablation_windows=("8/16",),
        learning_rate=3e-3,
        batch_size=4,
        mini_epoch=8,
        patience=50,
        max_mini_epochs=2,
        max_minutes=None,
        neighbourhood_s=1.0,
        free_bits=0.5,
        valid_windows=8,
        max_shards_in_memory=4,
        seed=0,
        device="cpu",
        threads=1,
    )


def save_tiny_model(path, seed: int, **extra):
    """An untrained 10/40 model (2 blocks of 2 maps, seeded) saved at `path` with a latent
    region, as training writes it, and any other `extra` the file should hold."""
    import torch

    from bassnet.model import BassNet, ModelConfig

    torch.manual_seed(seed)
    model = BassNet(ModelConfig(window="10/40", maps=2, blocks=2, head_maps=2)).eval()
    region = {"centre": [0.0, 0.0], "low": [-1.0, -1.0], "high": [1.0, 1.0]}
    model.save(path, latent_region=region, **extra)
    return path


@pytest.fixture(scope="session")
def small_model(tmp_path_factory):
    """An untrained 10/40 model saved with a latent region, as training writes it."""
    return save_tiny_model(tmp_path_factory.mktemp("model") / "model.pt", seed=0)


def mix_context_features(mix_path, context: int, every: int = 5):
    """What a prior with `context` frames hears of a mix file, every `every` frames: (N, 528),
    for scaling a test prior's input as a fit scales it."""
    import numpy as np

    from bassnet.audio_io import read_mono
    from bassnet.features.audio import resample
    from bassnet.features.cqt import GroupedCQT
    from bassnet.model.prior import context_features

    audio, sr = read_mono(mix_path)
    spectrum = GroupedCQT()(resample(audio, sr, 16000))
    return context_features(spectrum, np.arange(0, len(spectrum), every), context)
