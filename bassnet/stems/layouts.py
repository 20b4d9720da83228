"""Multitrack folder layouts → manifest rows `track_id,stem,path,split`, and what was skipped.

Stem vocabulary: `bass` (required) and any of STEMS; several files of one stem in a song (e.g.
Slakh2100's bass parts) are listed as several rows with the same stem, which the feature job
sums. A song is skipped, with its reason, when it has no bass stem, an unreadable or empty file,
stems at different sample rates or of lengths further apart than a tolerance (the feature job
needs them sample-aligned, and pads stems that end within the tolerance with silence: a release
tail, stems exported one by one), a file outside the collection's root (e.g. through a
symlink), or an id already taken. A song whose stems the feature job pads is noted.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import soundfile as sf
import yaml

STEMS = ("bass", "drums", "vocals", "guitar", "keys", "piano", "strings", "other")
AUDIO_SUFFIXES = (".wav", ".flac", ".aif", ".aiff", ".ogg")
FORMATS = ("slakh2100", "musdb18", "flat")
# Slakh2100's `inst_class` (MIDI program families) → our stems
SLAKH_CLASSES = {
    "Bass": "bass",
    "Drums": "drums",
    "Guitar": "guitar",
    "Piano": "piano",
    "Organ": "keys",
    "Chromatic Percussion": "keys",
    "Strings": "strings",
    "Strings (continued)": "strings",
    "Ensemble": "strings",
}
SLAKH_SPLITS = {"train": "train", "validation": "valid", "test": "test"}


@dataclass(frozen=True)
class Row:
    """One manifest row; `path` is absolute until written."""

    track_id: str
    stem: str
    path: Path
    split: str | None = None


@dataclass(frozen=True)
class Skipped:
    """A song (or file) left out of the manifest, and why."""

    song: str
    reason: str


@dataclass(frozen=True)
class Padded:
    """A song kept whose stems end apart, within the tolerance: the feature job pads the
    shorter ones with silence at the end to the longest."""

    song: str
    shortest: int  # samples of its shortest stem file
    longest: int  # samples of its longest
    sample_rate: int  # Hz

    @property
    def note(self) -> str:
        seconds = (self.longest - self.shortest) / self.sample_rate
        return (f"stems of {self.shortest}–{self.longest} samples ({seconds:.3g} s apart): the "
                "shorter ones are padded with silence to the longest")  # fmt: skip


def track_id(name: str) -> str:
    """A folder name → an id the feature job accepts
    (`bassnet.pipelines.manifest.TRACK_ID_PATTERN`):
    letters, digits, `_`, `-` and `.` (others become `_`), starting with a letter or digit,
    without `..`, at most 128 characters."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    safe = re.sub(r"\.{2,}", ".", safe).lstrip("_.-").rstrip("_")[:128]
    return safe or "track"


def _draw(track: str, seed: int) -> float:
    """A stable number in [0, 1) for a track id and seed (a hash: the same on every machine)."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{track}".encode()).digest()[:8], "big") / 2**64


def split_of(track: str, seed: int, valid_fraction: float) -> str:
    """'valid' for a stable `valid_fraction` of ids, else 'train': a hash of seed and id, so a
    song keeps its split when others are added."""
    return "valid" if _draw(track, seed) < valid_fraction else "train"


def assign_splits(tracks: list[str], seed: int, valid_fraction: float) -> dict[str, str]:
    """`split_of` for each track, except that a collection of two or more songs always gets at
    least one 'valid' song (the one with the smallest draw): training needs validation windows."""
    splits = {t: split_of(t, seed, valid_fraction) for t in tracks}
    if len(splits) >= 2 and "valid" not in splits.values():
        splits[min(splits, key=lambda t: _draw(t, seed))] = "valid"
    return splits


def _audio_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)


def _slakh(root: Path) -> tuple[list[tuple[str, Path, list[tuple[str, Path]]]], list[Skipped]]:
    songs, skipped = [], []
    for meta in sorted(root.rglob("metadata.yaml")):
        folder = meta.parent
        if not meta.is_file():  # a FIFO would block the read forever
            skipped.append(Skipped(folder.name, "metadata.yaml is not a regular file"))
            continue
        try:
            stems = (yaml.safe_load(meta.read_text()) or {}).get("stems") or {}
        except (yaml.YAMLError, UnicodeDecodeError, AttributeError) as err:
            skipped.append(Skipped(folder.name, f"unreadable metadata.yaml ({err})"))
            continue
        files = []
        for name, info in sorted(stems.items()):
            if not (info or {}).get("audio_rendered", True):
                continue
            candidates = [folder / "stems" / f"{name}{s}" for s in AUDIO_SUFFIXES]
            path = next((c for c in candidates if c.exists()), None)
            if path is None:
                skipped.append(Skipped(folder.name, f"stem {name}: no audio file (skipped)"))
                continue
            files.append((SLAKH_CLASSES.get(info.get("inst_class", ""), "other"), path))
        songs.append((folder.name, folder, files))
    return songs, skipped


def _by_name(root: Path, known_only: bool) -> tuple[list, list[Skipped]]:
    songs, skipped = [], []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        files = []
        for path in _audio_files(folder):
            stem = path.stem.lower()
            if stem in ("mixture", "mix"):
                continue  # the mix is remade from the stems
            if stem not in STEMS:
                if known_only:
                    skipped.append(Skipped(folder.name, f"{path.name}: not a stem name (skipped)"))
                    continue
                stem = "other"
            files.append((stem, path))
        songs.append((folder.name, folder, files))
    return songs, skipped


def _check_song(
    name: str, root: Path, files: list[tuple[str, Path]], length_tolerance_s: float
) -> str | Padded | None:
    """Why a song cannot be used; or, for a usable song whose stems end apart by at most
    `length_tolerance_s` seconds, its Padded note; else None."""
    if not any(stem == "bass" for stem, _ in files):
        return "no bass stem"
    rates: set[int] = set()
    lengths: list[int] = []
    for _, path in files:
        if not path.resolve().is_relative_to(root):
            return f"{path.name}: outside the collection's root ({path.resolve()})"
        if not path.is_file():  # a FIFO or device would block the read below forever
            return f"{path.name}: not a regular file"
        try:
            info = sf.info(path)
        except (sf.LibsndfileError, RuntimeError, ValueError) as err:
            return f"{path.name}: unreadable audio ({err})"
        if info.frames == 0:
            return f"{path.name}: empty stem"
        rates.add(info.samplerate)
        lengths.append(info.frames)
    if len(rates) > 1:
        return f"stems at different sample rates: {sorted(rates)} Hz"
    shortest, longest, rate = min(lengths), max(lengths), rates.pop()
    if longest - shortest > length_tolerance_s * rate:
        return (f"stems of different lengths: {shortest}–{longest} samples "
                f"({(longest - shortest) / rate:.3g} s apart; stems.length_tolerance_s: "
                f"{length_tolerance_s:g} s)")  # fmt: skip
    if all(stem == "bass" for stem, _ in files):  # the feature job needs a mix to pair it with
        return "only bass stems: no mix and no other stems to make a mix from"
    return Padded(name, shortest, longest, rate) if longest > shortest else None


def scan(
    layout: str,
    root: str | Path,
    seed: int | None = None,
    valid_fraction: float = 0.1,
    length_tolerance_s: float = 0.0,
) -> tuple[list[Row], list[Skipped], list[Padded]]:
    """Manifest rows of every usable song under `root` in `layout` (one of FORMATS), the songs
    or files skipped with their reasons, and the songs kept whose stems end apart by at most
    `length_tolerance_s` seconds (the feature job's `stems.length_tolerance_s`; 0: stems must
    be of one length). Splits: Slakh2100's own folders where a song sits in one, else
    `split_of` with `seed`, else none (the feature job's --split-seed, i.e. the collection's
    `split_seed` in params.yaml, decides)."""
    root = Path(root).resolve()
    if layout not in FORMATS:
        raise ValueError(f"layout must be one of {', '.join(FORMATS)}, got {layout!r}")
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: not a folder")
    songs, skipped = _slakh(root) if layout == "slakh2100" else _by_name(root, layout == "flat")
    rows, taken, padded = [], set(), []
    songs_ok = []
    for name, folder, files in songs:
        tid = track_id(name)
        if tid in taken:
            skipped.append(Skipped(name, f"duplicate id {tid!r} (another song has it)"))
            continue
        verdict = _check_song(name, root, files, length_tolerance_s)
        if isinstance(verdict, str):
            skipped.append(Skipped(name, verdict))
            continue
        if isinstance(verdict, Padded):
            padded.append(verdict)
        taken.add(tid)
        inside = folder.relative_to(root).parents  # only folders below the root count
        own = next((SLAKH_SPLITS[p.name] for p in inside if p.name in SLAKH_SPLITS), None)
        songs_ok.append((tid, own, files))
    unsplit = [tid for tid, own, _ in songs_ok if own is None]
    drawn = {} if seed is None else assign_splits(unsplit, seed, valid_fraction)
    for tid, own, files in songs_ok:
        rows += [Row(tid, stem, path, own or drawn.get(tid)) for stem, path in files]
    return rows, skipped, padded


def write_manifest(rows: list[Row], out: str | Path) -> None:
    """Write rows as a manifest CSV at `out`, paths relative to its folder, atomically."""
    import csv
    import io
    import os

    from bassnet.atomic import write_text

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["track_id", "stem", "path", "split"])
    base = out.parent.resolve()
    for row in rows:
        path = os.path.relpath(row.path, base)
        writer.writerow([row.track_id, row.stem, path, row.split or ""])
    write_text(out, buffer.getvalue())
