"""Fixtures for the pad: two rendered A1 songs in a datasets folder, a small model with a
latent map, a Studio over them, and the app running on a real local port."""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
import time

import numpy as np
import pytest
import torch


@pytest.fixture(scope="session")
def datasets_dir(tmp_path_factory, render_cfg):
    """datasets/A1 with two rendered songs of ≈8 s (audio/*.mix.wav and manifest.csv)."""
    from bassnet.synth.dataset import render_dataset

    root = tmp_path_factory.mktemp("datasets")
    cfg = dataclasses.replace(render_cfg, seconds=8, valid_fraction=0.5)
    render_dataset("A1", root / "A1", 2, 7, cfg, progress=False)
    return root


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory):
    """models/A1/10-40/model.pt (untrained, small) and the evaluation's latent points for it:
    three labelled clusters, as the evaluate stage writes them."""
    from bassnet.model import BassNet, ModelConfig

    root = tmp_path_factory.mktemp("models")
    torch.manual_seed(0)
    model = BassNet(ModelConfig(window="10/40", maps=2, blocks=2, head_maps=2)).eval()
    region = {"centre": [0.0, 0.0], "low": [-1.0, -1.0], "high": [1.0, 1.0]}
    (root / "A1/10-40").mkdir(parents=True)
    model.save(root / "A1/10-40/model.pt", latent_region=region)
    rng = np.random.default_rng(0)
    centres = np.array([[-0.5, -0.5], [0.5, -0.5], [0.0, 0.6]])
    labels = np.repeat([1, 2, 3], 40)
    points = centres[labels - 1] + 0.15 * rng.standard_normal((120, 2))
    latent = {"A1/10-40": {"points": points.round(3).tolist(), "labels": labels.tolist()}}
    (root / "latent_points.json").write_text(json.dumps(latent))
    return root


def make_studio(datasets_dir, models_dir, tmp_path, **cfg):
    from bassnet.serve.config import ServeConfig
    from bassnet.serve.studio import Studio, dataset_songs, shipped_and_trained

    models = shipped_and_trained(models_dir)
    return Studio(models, dataset_songs(datasets_dir), tmp_path / "uploads", ServeConfig(**cfg),
                  latent_points=models_dir / "latent_points.json")  # fmt: skip


@pytest.fixture
def studio(datasets_dir, models_dir, tmp_path):
    return make_studio(datasets_dir, models_dir, tmp_path)


@pytest.fixture(scope="module")
def server(datasets_dir, models_dir, tmp_path_factory):
    """The app on a free local port in a background thread: yields its base URL."""
    import uvicorn

    from bassnet.serve.app import create_app

    studio = make_studio(datasets_dir, models_dir, tmp_path_factory.mktemp("serve"),
                         max_upload_mb=100, max_song_minutes=5)  # fmt: skip
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(create_app(studio), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started, "the pad server did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
