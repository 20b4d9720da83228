"""Manifests: which audio files make up each track.

CSV columns `track_id,stem,path[,split]`, paths relative to the manifest. Each track needs a
`bass` stem and either one `mix` stem or other stems (drums, vocals, ...) that are summed into
the mix. Several rows of one stem (different files, e.g. two bass parts) are summed into it.
Problems with one track are attached to it (reported by the job, which goes on with the
others); problems with the whole file raise ManifestError before any work starts. A track id
must match TRACK_ID_PATTERN: an id is never used as a file name.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from bassnet.errors import ManifestError

REQUIRED_COLUMNS = ("track_id", "stem", "path")
# A track id: 1–128 ASCII letters, digits, ".", "_" or "-", starting with a letter or digit,
# and no "..". Ids are data (shard rows, the failures file), but one that could name a path outside
# a folder ("../x", "/tmp/x", "rock/song1") is refused, as that track's failure.
TRACK_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def id_problem(track_id: str) -> str | None:
    """Why `track_id` is not a valid track id (see TRACK_ID_PATTERN), or None."""
    if TRACK_ID_PATTERN.fullmatch(track_id) and ".." not in track_id:
        return None
    return (
        f"track id {track_id!r} is not 1-128 letters, digits, '.', '_' or '-' starting with a "
        "letter or digit (without '..')"
    )


@dataclass
class TrackSpec:
    """One track of a manifest: its stems' files and the problems found in the manifest."""

    track_id: str
    split: str
    stems: dict[str, list[str]] = field(default_factory=dict)  # stem -> absolute paths, summed
    problems: list[str] = field(default_factory=list)


def read_manifest(
    path: str | Path, split_seed: int | None = None, valid_fraction: float = 0.1
) -> list[TrackSpec]:
    """Parse and check a manifest; tracks come back in manifest order. A track without a split
    goes to 'train', or with `split_seed` to a stable 90/10 split by id with at least one
    validation song (`bassnet.stems.layouts.assign_splits`)."""
    from bassnet.stems.layouts import assign_splits

    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"manifest not found: {path}")
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        columns = reader.fieldnames or []
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise ManifestError(f"{path}: missing columns {missing} (has {columns})")
        rows = list(reader)
    if not rows:
        raise ManifestError(f"{path}: no tracks")

    tracks: dict[str, TrackSpec] = {}
    for line, row in enumerate(rows, start=2):
        track_id, stem = (row["track_id"] or "").strip(), (row["stem"] or "").strip()
        if not track_id or not stem or not (row["path"] or "").strip():
            raise ManifestError(f"{path}:{line}: empty track_id, stem or path")
        spec = tracks.setdefault(track_id, TrackSpec(track_id, (row.get("split") or "").strip()))
        file = (path.parent / row["path"].strip()).resolve()
        if str(file) in spec.stems.get(stem, []):
            spec.problems.append(f"duplicate stem '{stem}' row (manifest line {line})")
        elif stem == "mix" and "mix" in spec.stems:
            spec.problems.append(f"more than one 'mix' (manifest line {line})")
        elif not file.is_file():
            spec.problems.append(f"stem '{stem}': file not found: {file}")
        spec.stems.setdefault(stem, []).append(str(file))
    unsplit = [t for t, spec in tracks.items() if not spec.split]
    drawn = {} if split_seed is None else assign_splits(unsplit, split_seed, valid_fraction)
    for track_id, spec in tracks.items():
        spec.split = spec.split or drawn.get(track_id, "train")
        problem = id_problem(track_id)
        if problem:
            spec.problems.insert(0, problem)
        if "bass" not in spec.stems:
            spec.problems.append("no bass stem")
        elif len(spec.stems) == 1:
            spec.problems.append("no mix and no other stems to make a mix from")
    return list(tracks.values())
