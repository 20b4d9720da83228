"""Fixtures for the pad: two rendered A1 songs in a datasets folder, a small model with a
latent map and a prior p(z|x) and one with neither, a Studio over them, and the app running on
a real local port."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

# the dataset of the songs the pad offers (`make screenshot SCREENSHOT_DATASET=A5`)
SONGS_DATASET = os.environ.get("BASSNET_SCREENSHOT_DATASET") or "A1"


@pytest.fixture(scope="session")
def datasets_dir(tmp_path_factory, render_cfg):
    """datasets/A1 with two rendered songs of ≈8 s (audio/*.mix.wav and manifest.csv)."""
    from bassnet.synth.dataset import render_dataset

    root = tmp_path_factory.mktemp("datasets")
    cfg = dataclasses.replace(render_cfg, seconds=8, valid_fraction=0.5)
    render_dataset(SONGS_DATASET, root / SONGS_DATASET, 2, 7, cfg, progress=False)
    return root


# the model the browser test's screenshot shows (`make screenshot SCREENSHOT_MODEL=...`): a
# shipped model's name, a model of `models_dir` ("A1 10-40") or a model file
SHOWN = os.environ.get("BASSNET_SCREENSHOT_MODEL") or "A1"


def shown_name() -> str:
    """The name the pad offers the screenshot's model under (a file's: no "/" in a route)."""
    return f"screenshot: {Path(SHOWN).name}" if Path(SHOWN).is_file() else SHOWN


# the components of the test model's prior p(z|x): one Gaussian on each cluster of its map
PRIOR_MEANS = np.array([[-0.5, -0.5], [0.5, -0.5], [0.0, 0.6]])
PRIOR_SD = 0.2


def song_features(datasets_dir) -> np.ndarray:
    """What a prior with 0.2 s of context hears of the first rendered song (N, 528)."""
    from tests.conftest import mix_context_features

    mix = sorted((datasets_dir / SONGS_DATASET / "audio").glob("*.mix.wav"))[0]
    return mix_context_features(mix, 20)


def tiny_prior(features: np.ndarray, seed: int = 0):
    """A prior p(z|x) (3 components on `PRIOR_MEANS`, 4 hidden units, 0.2 s of context) whose
    weights follow the mix: its input scaled by these `features`, as a fit scales it, and its
    last layer random, not zero as an unfitted prior's is."""
    from bassnet.model.prior import LatentPrior

    torch.manual_seed(seed)
    prior = LatentPrior(components=3, hidden=4, context_frames=20)
    prior.set_feature_scale(features)
    prior.set_density(PRIOR_MEANS, np.tile(PRIOR_SD**2 * np.eye(2), (3, 1, 1)), [0.5, 0.3, 0.2])
    with torch.no_grad():
        prior.net[2].weight.normal_(0.0, 4.0)
    return prior.eval()


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory, datasets_dir):
    """models/A1/10-40/model.pt (untrained, small, with a prior p(z|x)) and the evaluation's
    latent points for it: three labelled clusters, as the evaluate stage writes them; and
    models/A2/10-40/model.pt, the same without a prior or a map."""
    from tests.conftest import save_tiny_model

    root = tmp_path_factory.mktemp("models")
    for folder in ("A1/10-40", "A2/10-40"):
        (root / folder).mkdir(parents=True)
    prior = tiny_prior(song_features(datasets_dir))
    save_tiny_model(root / "A1/10-40/model.pt", seed=0, prior=prior.to_state())
    save_tiny_model(root / "A2/10-40/model.pt", seed=1)
    rng = np.random.default_rng(0)
    centres = PRIOR_MEANS
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
    from bassnet.serve.studio import ModelEntry, shipped_and_trained

    studio = make_studio(datasets_dir, models_dir, tmp_path_factory.mktemp("serve"),
                         max_upload_mb=100, max_song_minutes=5)  # fmt: skip
    if Path(SHOWN).is_file():  # a model file for the screenshot, offered under `shown_name`
        studio.models[shown_name()] = ModelEntry(shown_name(), Path(SHOWN), shown_name())
    # a model given by its path (`bassnet serve --model DIR/model.pt`) is named by it
    studio.models.update(shipped_and_trained(None, [str(models_dir / "A2/10-40/model.pt")]))
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
