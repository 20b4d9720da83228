"""Manifests: which audio files make up each track.

CSV columns `track_id,stem,path[,split]`, paths relative to the manifest. Each track needs a
`bass` stem and either one `mix` stem or other stems (drums, vocals, ...) that are summed into
the mix. Problems with one track are attached to it (reported by the job, which goes on with
the others); problems with the whole file raise ManifestError before any work starts.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from bassnet.errors import ManifestError

REQUIRED_COLUMNS = ("track_id", "stem", "path")


@dataclass
class TrackSpec:
    """One track of a manifest: its stems' files and the problems found in the manifest."""

    track_id: str
    split: str
    stems: dict[str, str] = field(default_factory=dict)  # stem name -> absolute path
    problems: list[str] = field(default_factory=list)


def read_manifest(path: str | Path) -> list[TrackSpec]:
    """Parse and check a manifest; tracks come back in manifest order."""
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
        spec = tracks.setdefault(track_id, TrackSpec(track_id, (row.get("split") or "train")))
        file = (path.parent / row["path"].strip()).resolve()
        if stem in spec.stems:
            spec.problems.append(f"duplicate stem '{stem}' (manifest line {line})")
        elif not file.is_file():
            spec.problems.append(f"stem '{stem}': file not found: {file}")
        spec.stems[stem] = str(file)
    for spec in tracks.values():
        if "bass" not in spec.stems:
            spec.problems.append("no bass stem")
        elif len(spec.stems) == 1:
            spec.problems.append("no mix and no other stems to make a mix from")
    return list(tracks.values())
