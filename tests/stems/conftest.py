"""Multitrack collections made in the test: a small A1 song rendered to separate stems with
FluidSynth, laid out as Slakh2100, MUSDB18 and flat folders."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml


@pytest.fixture(scope="session")
def stem_audio(render_cfg) -> tuple[dict[str, np.ndarray], int]:
    """Stems of two rendered songs: {song: {"keys", "drums", "bass": (samples,)}} and the rate."""
    from bassnet.synth.fluidsynth_render import FluidRenderer
    from bassnet.synth.midi import plan_to_midi
    from bassnet.synth.plan import make_plan

    cfg = dataclasses.replace(render_cfg, seconds=6)
    renderer = FluidRenderer(cfg.soundfont, cfg.sample_rate, cfg.gain, cfg.effects)
    songs = {}
    try:
        for index in range(2):
            plan = make_plan("A1", index, 40 + index, cfg)
            midi, n = plan_to_midi(plan), round(plan.duration_s * cfg.sample_rate)
            songs[f"song{index}"] = {
                stem: renderer.render(midi, (track,), n).mean(axis=1)
                for stem, track in (("keys", "chords"), ("drums", "drums"), ("bass", "bass"))
            }
    finally:
        renderer.close()
    return songs, cfg.sample_rate


def write(path: Path, audio: np.ndarray, sr: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, audio, sr)
    return path


def musdb_layout(root: Path, songs: dict, sr: int) -> Path:
    for song, stems in songs.items():
        for stem, audio in stems.items():
            name = "other" if stem == "keys" else stem
            write(root / song / f"{name}.wav", audio, sr)
        write(root / song / "mixture.wav", sum(stems.values()), sr)  # ignored: remade
    return root


def flat_layout(root: Path, songs: dict, sr: int) -> Path:
    for song, stems in songs.items():
        for stem, audio in stems.items():
            write(root / song / f"{stem}.flac", audio, sr)
    return root


def slakh_layout(root: Path, songs: dict, sr: int) -> Path:
    """Slakh2100: the bass split into two Bass-class parts (merged back into `bass`)."""
    for i, stems in enumerate(songs.values()):
        folder = root / ("train" if i == 0 else "validation") / f"Track{i + 1:05d}"
        half = stems["bass"] / 2
        parts = {"S00": ("Bass", half), "S01": ("Piano", stems["keys"]),
                 "S02": ("Drums", stems["drums"]), "S03": ("Bass", half)}  # fmt: skip
        meta = {"stems": {}}
        for name, (inst_class, audio) in parts.items():
            write(folder / "stems" / f"{name}.flac", audio, sr)
            meta["stems"][name] = {"inst_class": inst_class, "audio_rendered": True}
        meta["stems"]["S04"] = {"inst_class": "Guitar", "audio_rendered": False}
        write(folder / "mix.flac", sum(stems.values()), sr)
        (folder / "metadata.yaml").write_text(yaml.safe_dump(meta))
    return root
