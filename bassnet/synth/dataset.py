"""Render an artificial dataset to disk: MIDI, mix and bass WAVs, labels, manifest, stats.

Layout of `out/`:
    midi/<id>.mid             chords, drums and bass tracks
    audio/<id>.mix.wav        chords + drums (no bass), 16-bit mono
    audio/<id>.bass.wav       the bass alone
    labels.parquet            one row per song: metadata + per-frame arrays (`LABEL_SCHEMA`)
    manifest.csv              track_id,stem,path,split (paths relative to the manifest)
    stats.json                counts (songs, splits, pattern shares), shown by `dvc metrics`

Songs render in parallel, one FluidSynth renderer per worker process. Every file is written
atomically, so an interrupted run leaves no partial file behind.
"""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import soundfile as sf
from mido import MidiFile
from tqdm import tqdm

from bassnet import atomic
from bassnet.config import MAX_SEED, RenderConfig, is_seed
from bassnet.errors import ConfigError
from bassnet.synth.fluidsynth_render import FluidRenderer
from bassnet.synth.labels import frame_labels
from bassnet.synth.midi import MIX_TRACKS, midi_to_bytes, plan_to_midi
from bassnet.synth.patterns import DATASETS
from bassnet.synth.plan import SongPlan, make_plan, song_seed

LABEL_SCHEMA = pa.schema(
    [
        ("track_id", pa.string()),
        ("dataset", pa.string()),
        ("index", pa.int32()),
        ("seed", pa.int64()),
        ("split", pa.string()),  # "train", "valid" or "test"
        ("tonic", pa.int8()),  # pitch class, 0 = C
        ("mode", pa.string()),  # "major" or "minor"
        ("tempo_bpm", pa.float64()),
        ("chord_programs", pa.list_(pa.int16())),  # GM programs (0-based) of the chord instruments
        ("chord_volumes", pa.list_(pa.int16())),  # (2; A5: 3), their MIDI channel volumes (CC 7)
        ("proportion", pa.float64()),  # share of chord instrument 0; null in A3 and A5
        ("bass_program", pa.int16()),
        ("n_measures", pa.int32()),
        ("duration_s", pa.float64()),
        ("sample_rate", pa.int32()),  # Hz of the WAVs
        ("pattern", pa.list_(pa.int8())),  # per-frame arrays at 100 frames/s from here on
        ("chord_root", pa.list_(pa.int8())),
        ("chord_quality", pa.list_(pa.int8())),
        ("chord_instrument", pa.list_(pa.int16())),
        ("bass_pitch", pa.list_(pa.int8())),
        ("bass_onset", pa.list_(pa.uint8())),
    ]
)


@dataclass(frozen=True)
class RenderSummary:
    """What a render produced."""

    dataset: str
    out: Path
    songs: int
    valid: int
    audio_seconds: float
    wall_seconds: float
    split: str = "trainvalid"

    def line(self) -> str:
        """One closing line for the user."""
        speed = self.audio_seconds / max(self.wall_seconds, 1e-9)
        parts = (f"{self.songs} test" if self.split == "test"
                 else f"{self.songs - self.valid} train / {self.valid} valid")  # fmt: skip
        return (
            f"{self.dataset}: {self.songs} songs ({parts}), {self.audio_seconds / 60:.1f} min of "
            f"audio in {self.wall_seconds:.1f} s ({speed:.0f}x real time) -> {self.out}"
        )


# Song indices of the test split start here, so that a test song's id (e.g. `A1_90000`) never
# names a training or validation song, whatever the dataset's size.
TEST_FIRST_INDEX = 90_000
SPLITS = ("trainvalid", "test")


def valid_indices(songs: int, seed: int, valid_fraction: float) -> set[int]:
    """Song indices of the validation split: round(fraction * songs), drawn from the seed."""
    n_valid = round(valid_fraction * songs) if songs > 1 else 0
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2**32 - 1,)))
    return {int(i) for i in rng.permutation(songs)[:n_valid]}


def _to_pcm16(audio: np.ndarray) -> np.ndarray:
    """Stereo float → mono 16-bit PCM: the features are mono (paper §5.3), and mono halves the
    datasets' size."""
    mono = (audio[:, 0] + audio[:, 1]) * 0.5  # 10x faster than audio.mean(axis=1)
    return np.clip(np.round(mono * 32767.0), -32768, 32767).astype(np.int16)


def _write_wav(path: Path, audio: np.ndarray, sample_rate: int) -> None:
    with atomic.atomic_path(path) as tmp:
        sf.write(tmp, _to_pcm16(audio), sample_rate, format="WAV", subtype="PCM_16")


# One renderer per worker process, created by the pool initializer (or once in-process).
_WORKER: dict = {}


def _init_worker(cfg: RenderConfig, out: Path) -> None:
    if "renderer" in _WORKER:
        _WORKER["renderer"].close()
    _WORKER["renderer"] = FluidRenderer(cfg.soundfont, cfg.sample_rate, cfg.gain, cfg.effects)
    _WORKER["cfg"], _WORKER["out"] = cfg, out


STEMS = {"mix": MIX_TRACKS, "bass": ("bass",)}  # the WAV files of a song: their MIDI tracks


def render_song(
    dataset: str, index: int, seed: int, cfg: RenderConfig, renderer: FluidRenderer,
    stems: Iterable[tuple[str, ...]],
) -> tuple[SongPlan, MidiFile, list[np.ndarray]]:  # fmt: skip
    """Song `index` of `dataset` (its plan from the dataset's `seed`) as MIDI, and each of
    `stems` (MIDI track names, e.g. MIX_TRACKS) rendered by `renderer`: (plan, midi,
    [(samples,) or (samples, channels) audio at cfg.sample_rate per stem])."""
    plan = make_plan(dataset, index, song_seed(seed, index), cfg)
    midi, n_samples = plan_to_midi(plan), round(plan.duration_s * cfg.sample_rate)
    return plan, midi, [renderer.render(midi, tracks, n_samples) for tracks in stems]


def _render_song(job: tuple[str, int, int]) -> tuple[SongPlan, dict[str, np.ndarray]]:
    """Write one song's MIDI and WAVs; return its plan and frame labels."""
    dataset, index, seed = job
    cfg, out, renderer = _WORKER["cfg"], _WORKER["out"], _WORKER["renderer"]
    plan, midi, audio = render_song(dataset, index, seed, cfg, renderer, STEMS.values())
    atomic.write_bytes(out / "midi" / f"{plan.track_id}.mid", midi_to_bytes(midi))
    for stem, samples in zip(STEMS, audio, strict=True):
        _write_wav(out / "audio" / f"{plan.track_id}.{stem}.wav", samples, cfg.sample_rate)
    return plan, frame_labels(plan)


def _label_row(plan: SongPlan, labels: dict[str, np.ndarray], split: str, sample_rate: int) -> dict:
    return {
        "track_id": plan.track_id,
        "dataset": plan.dataset,
        "index": int(plan.track_id.rsplit("_", 1)[1]),
        "seed": plan.seed,
        "split": split,
        "tonic": plan.tonic,
        "mode": plan.mode,
        "tempo_bpm": plan.tempo_bpm,
        "chord_programs": list(plan.programs),
        "chord_volumes": list(plan.volumes),
        "proportion": None if np.isnan(plan.proportion) else plan.proportion,
        "bass_program": plan.bass_program,
        "n_measures": plan.n_measures,
        "duration_s": plan.duration_s,
        "sample_rate": sample_rate,
        **labels,
    }


def _stats(dataset: str, rows: list[dict]) -> dict:
    n_patterns = DATASETS[dataset].n_patterns
    frames = np.concatenate([r["pattern"] for r in rows])
    return {
        "songs": len(rows),
        "train": sum(r["split"] == "train" for r in rows),
        "valid": sum(r["split"] == "valid" for r in rows),
        **({"test": n_test} if (n_test := sum(r["split"] == "test" for r in rows)) else {}),
        "hours": round(sum(r["duration_s"] for r in rows) / 3600, 4),
        "tempo_bpm_min": round(min(r["tempo_bpm"] for r in rows), 2),
        "tempo_bpm_max": round(max(r["tempo_bpm"] for r in rows), 2),
        "pattern_share": {
            str(p): round(float(np.mean(frames == p)), 4) for p in range(1, n_patterns + 1)
        },
    }


def _manifest(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["track_id", "stem", "path", "split"])
    for row in rows:
        for stem in ("mix", "bass"):
            writer.writerow(
                [row["track_id"], stem, f"audio/{row['track_id']}.{stem}.wav", row["split"]]
            )
    return buffer.getvalue()


def check_dataset(dataset: str) -> None:
    """Raise ConfigError unless `dataset` names an artificial dataset."""
    if dataset not in DATASETS:
        raise ConfigError(f"unknown dataset {dataset!r}; known: {', '.join(DATASETS)}")


def check_request(
    dataset: str, songs: int, out: Path, cfg: RenderConfig, seed: int | None = None,
    split: str = "trainvalid",
) -> None:  # fmt: skip
    """Raise ConfigError for a request that cannot succeed, before anything is written: an
    unknown dataset or split, a song count that is not a positive integer, a seed outside
    0..MAX_SEED (when given), an output that is not a folder or cannot be one, a missing
    soundfont. (`cfg` itself is checked when it is built: seconds finite in (0, 3600], ...)"""
    check_dataset(dataset)
    if split not in SPLITS:
        raise ConfigError(f"split must be one of {SPLITS}, got {split!r}")
    if isinstance(songs, bool) or not isinstance(songs, int) or songs <= 0:
        raise ConfigError(f"--songs must be a positive integer, got {songs!r}")
    if seed is not None and not is_seed(seed):
        raise ConfigError(f"--seed must be an integer in 0..{MAX_SEED}, got {seed!r}")
    if out.exists() and not out.is_dir():
        raise ConfigError(f"output folder {out} exists and is not a folder")
    parent = out.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent  # mkdir creates the missing ones; the nearest existing must allow it
    if not parent.is_dir():
        raise ConfigError(f"output folder {out} cannot be created ({parent} is not a folder)")
    if not Path(cfg.soundfont).is_file():
        raise ConfigError(
            f"soundfont not found: {cfg.soundfont} (on Debian: apt-get install fluid-soundfont-gm;"
            " or set render.soundfont in params.yaml)"
        )


def render_dataset(
    dataset: str, out: str | Path, songs: int, seed: int, cfg: RenderConfig, progress: bool = True,
    split: str = "trainvalid",
) -> RenderSummary:  # fmt: skip
    """Render songs 0..songs-1 of `dataset` from `seed` into `out` (layout in module doc), split
    into train and validation songs; with `split="test"`, songs TEST_FIRST_INDEX… from `seed`
    (the dataset's test seed), every one in the test split."""
    out = Path(out)
    check_request(dataset, songs, out, cfg, seed, split)  # before any folder is made
    cfg = replace(cfg, songs=songs)
    started = time.perf_counter()
    for sub in ("midi", "audio"):
        (out / sub).mkdir(parents=True, exist_ok=True)

    first = TEST_FIRST_INDEX if split == "test" else 0
    jobs = [(dataset, first + i, seed) for i in range(songs)]
    workers = min(cfg.workers or os.cpu_count() or 1, songs)
    bar = tqdm(total=songs, desc=f"render {dataset}", unit="song", disable=not progress)
    results = []
    if workers == 1:
        _init_worker(cfg, out)
        for job in jobs:
            results.append(_render_song(job))
            bar.update()
    else:
        # "spawn": forking a process that already holds FluidSynth state (or threads such as
        # tqdm's monitor) can deadlock the children in FluidSynth's locks.
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(workers, initializer=_init_worker, initargs=(cfg, out)) as pool:
            for result in pool.imap_unordered(_render_song, jobs):
                results.append(result)
                bar.update()
    bar.close()

    valid = valid_indices(songs, seed, cfg.valid_fraction) if split != "test" else set()
    results.sort(key=lambda r: r[0].track_id)
    rows = [
        _label_row(
            plan,
            labels,
            split if split == "test" else "valid" if i in valid else "train",
            cfg.sample_rate,
        )  # fmt: skip
        for i, (plan, labels) in enumerate(results)
    ]
    table = pa.Table.from_pylist(rows, schema=LABEL_SCHEMA)
    with atomic.atomic_path(out / "labels.parquet") as tmp:
        pq.write_table(table, tmp)
    atomic.write_text(out / "manifest.csv", _manifest(rows))
    wall_minutes = round((time.perf_counter() - started) / 60, 2)  # the report's stage table
    stats = {**_stats(dataset, rows), "wall_minutes": wall_minutes}
    atomic.write_text(out / "stats.json", json.dumps(stats, indent=2) + "\n")
    return RenderSummary(
        dataset=dataset,
        out=out,
        songs=songs,
        valid=len(valid),
        audio_seconds=sum(r["duration_s"] for r in rows),
        wall_seconds=time.perf_counter() - started,
        split=split,
    )
