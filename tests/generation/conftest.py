"""Fixtures for generation: a short rendered A1 song and a small model to generate with."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest


@pytest.fixture(scope="session")
def a1_song(tmp_path_factory, render_cfg):
    """One rendered A1 song of ≈8 s: (mix WAV, bass WAV, its label row)."""
    import pyarrow.parquet as pq

    from bassnet.synth.dataset import render_dataset

    root = tmp_path_factory.mktemp("song")
    cfg = dataclasses.replace(render_cfg, seconds=8, valid_fraction=0.0)
    render_dataset("A1", root, 1, 5, cfg, progress=False)
    row = pq.read_table(root / "labels.parquet").to_pylist()[0]
    audio = root / "audio"
    return audio / f"{row['track_id']}.mix.wav", audio / f"{row['track_id']}.bass.wav", row


def tone(f0_hz: float, seconds: float, sr: int, amplitude: float = 0.5) -> np.ndarray:
    """A sine (samples,) float32."""
    t = np.arange(int(seconds * sr)) / sr
    return (amplitude * np.sin(2 * np.pi * f0_hz * t)).astype(np.float32)
