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
