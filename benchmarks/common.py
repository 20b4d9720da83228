"""What several benchmarks share: the machine they ran on, and one freshly rendered A1 song."""

from __future__ import annotations

import dataclasses
import os
import platform
from pathlib import Path

import torch

from bassnet.config import RenderConfig, load_params


def machine() -> dict:
    """CPU count, torch threads and platform, for the results JSON."""
    return {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "platform": platform.platform()}  # fmt: skip


def render_a1_song(out: Path, seconds: float, seed: int) -> Path:
    """Render one A1 song of about `seconds` (default profile settings, one worker) into the
    dataset folder `out`; returns its mix WAV."""
    from bassnet.synth.dataset import render_dataset

    cfg = dataclasses.replace(RenderConfig.from_params(load_params(profile="default")),
                              seconds=seconds, workers=1, valid_fraction=0.0)  # fmt: skip
    render_dataset("A1", out, 1, seed, cfg, progress=False)
    return next((out / "audio").glob("*.mix.wav"))
