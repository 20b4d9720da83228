"""Training windows cut on the fly from feature shards (paper §4.3, §4.4.2, §5.3).

A shard row is a whole track; windows are never stored. `WindowSampler` draws random windows
(x, y) of the training split with a neighbour (u, v) whose start lies within ±neighbourhood
frames (paper: 5 s), from a pool of at most `max_shards` shards held in memory and rotated one
shard per mini-epoch, so memory stays bounded however large the dataset. `WindowSet` holds fixed,
evenly spaced windows (validation), cut while streaming the shards once.

The train/validation split is the `split` column of the shards: decided per song when the data
were made (render: `valid_fraction`, seeded), so a song never straddles it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from bassnet.errors import DataError
from bassnet.features.cqt import BINS_PER_OCTAVE, LOG_FLOOR, N_BINS, transpose_log_cqt
from bassnet.model.multires import WindowSpec, compress
from bassnet.training.targets import f0_classes, level_unit, transpose_f0_classes, window_targets

COLUMNS = ["track_id", "split", "cqt_mix", "cqt_bass", "f0_hz", "level_db", "onset", "pattern"]
STEM_COLUMNS = ["stem_audio", "stem_scale"]


@dataclass
class Track:
    """One song's per-frame arrays, ready for cutting windows."""

    track_id: str
    mix: np.ndarray  # (frames, 264) float16, log |CQT| of the mix
    bass: np.ndarray  # (frames, 264) float16, log |CQT| of the bass
    f0_class: np.ndarray  # (frames,) int16, CQT bin or 264 = unvoiced
    level: np.ndarray  # (frames,) float32 in [0, 1]
    onset: np.ndarray  # (frames,) float32 in [0, 1]
    pattern: np.ndarray | None  # (frames,) int8 ground-truth bass pattern, if known
    # stem collections, read for re-mixing: (stems, samples) int16 at 16 kHz and (stems,) scales
    stems: np.ndarray | None = None
    stem_scale: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.mix)

    def stem_span(self, remixer, start: int, frames: int) -> np.ndarray:
        """The stems behind frames [start, start + frames) for `remixer`, float32."""
        return remixer.span(self.stems, start, frames) * self.stem_scale[:, None]


def shard_paths(features_dir: str | Path) -> list[Path]:
    """The Parquet shards of a feature folder, sorted; an error if there are none."""
    paths = sorted(Path(features_dir).glob("part-*.parquet"))
    if not paths:
        raise DataError(
            f"{features_dir}: no feature shards (part-*.parquet); run the features stage"
        )
    return paths


def _matrix(column, row: int) -> np.ndarray:
    return column[row].values.flatten().to_numpy(zero_copy_only=False).reshape(-1, N_BINS)


def _vector(column, row: int, dtype) -> np.ndarray:
    return column[row].values.to_numpy(zero_copy_only=False).astype(dtype)


def read_tracks(
    path: str | Path, split: str, level_floor_db: float, with_stems: bool = False
) -> list[Track]:
    """The tracks of one shard in `split` ("train" / "valid"), checked for NaN features; with
    `with_stems`, also the stems of stem collections (for re-mixing)."""
    import pyarrow.parquet as pq  # here, not at the top: `bassnet encode` cuts windows without it

    names = pq.read_schema(path).names
    wanted = COLUMNS + (STEM_COLUMNS if with_stems and "stem_audio" in names else [])
    table = pq.read_table(path, columns=wanted)
    columns = {name: table.column(name).combine_chunks() for name in wanted}
    tracks = []
    for row in range(table.num_rows):
        if columns["split"][row].as_py() != split:
            continue
        track_id = columns["track_id"][row].as_py()
        mix, bass = _matrix(columns["cqt_mix"], row), _matrix(columns["cqt_bass"], row)
        f0_hz = _vector(columns["f0_hz"], row, np.float32)
        level_db = _vector(columns["level_db"], row, np.float32)
        onset = _vector(columns["onset"], row, np.float32)
        for name, arr in [("cqt_mix", mix), ("cqt_bass", bass), ("f0_hz", f0_hz),
                          ("level_db", level_db), ("onset", onset)]:  # fmt: skip
            if not np.isfinite(arr).all():
                raise DataError(f"{path}: track {track_id}: {name} has NaN or infinite values")
        pattern = columns["pattern"][row]
        stems = stem_scale = None
        if "stem_audio" in columns and columns["stem_audio"][row].is_valid:
            stem_scale = _vector(columns["stem_scale"], row, np.float32)
            stems = _vector(columns["stem_audio"], row, np.int16).reshape(len(stem_scale), -1)
        tracks.append(
            Track(
                track_id=track_id,
                mix=mix,
                bass=bass,
                f0_class=f0_classes(f0_hz),
                level=level_unit(level_db, level_floor_db),
                onset=np.clip(onset, 0, 1),
                pattern=None if not pattern.is_valid else _vector(columns["pattern"], row, np.int8),
                stems=stems,
                stem_scale=stem_scale,
            )
        )
    return tracks


def _check_length(track: Track, spec: WindowSpec) -> None:
    if len(track) < spec.expanded:
        raise DataError(
            f"track {track.track_id}: {len(track)} frames, shorter than the window {spec} "
            f"({spec.expanded} frames); use a smaller window or longer songs"
        )


def cut(tracks: list[Track], index: np.ndarray, start: np.ndarray, spec: WindowSpec,
        semitones: np.ndarray | None = None) -> dict:  # fmt: skip
    """Windows [start, start + b) of tracks[index] → compressed tensors: x, y (B, C, a, 264)
    and the targets of y (see `training.targets.window_targets`); with `semitones` (B,), window
    i transposed by semitones[i] (mix, bass and f0 alike)."""
    b = spec.expanded
    shift = np.zeros(len(index), dtype=int) if semitones is None else semitones

    def rows(field: str, transpose=None) -> np.ndarray:
        # level and onset are per frame, not per bin: transposition leaves them as they are
        windows = [getattr(tracks[i], field)[s : s + b] for i, s in zip(index, start, strict=True)]
        if transpose is not None:
            windows = [transpose(w, int(k)) for w, k in zip(windows, shift, strict=True)]
        return np.stack(windows)

    def spectra(field: str) -> torch.Tensor:
        frames = rows(field, transpose_log_cqt).astype(np.float32, copy=False)
        return compress(torch.from_numpy(frames), spec, axis=1)

    def frame_values(field: str) -> torch.Tensor:
        return torch.from_numpy(rows(field).astype(np.float32, copy=False))

    return {
        "x": spectra("mix"),
        "y": spectra("bass"),
        "targets": window_targets(
            torch.from_numpy(rows("f0_class", transpose_f0_classes)),
            frame_values("level"),
            frame_values("onset"),
            spec,
        ),
    }


def recolour_log_cqt(x: torch.Tensor, gain_db: np.ndarray, tilt_db: np.ndarray) -> torch.Tensor:
    """Log |CQT| windows x (B, C, a, F) with window i's level moved by gain_db[i] dB and its
    spectrum tilted by tilt_db[i] dB per octave about the middle bin. Bins at the log floor
    (silence) stay there, and none is moved below it."""
    octaves = (torch.arange(x.shape[-1]) - (x.shape[-1] - 1) / 2) / BINS_PER_OCTAVE
    db = torch.from_numpy(gain_db)[:, None] + torch.from_numpy(tilt_db)[:, None] * octaves
    floor = math.log(LOG_FLOOR)
    # the shards hold float16: their floor lies a little off float32's; 0.01 nats covers it
    shifted = (x + (db * math.log(10) / 20).to(x.dtype)[:, None, None, :]).clamp_min(floor)
    return torch.where(x > floor + 0.01, shifted, x)


class WindowSampler:
    """Random training windows with neighbours, from a rotating pool of shards."""

    def __init__(
        self,
        shards: list[Path],
        spec: WindowSpec,
        neighbourhood: int,
        rng: np.random.Generator,
        level_floor_db: float,
        max_shards: int,
        split: str = "train",
        remixer=None,
        transpose: int = 0,
        mix_gain_db: float = 0.0,
        mix_tilt_db: float = 0.0,
    ) -> None:
        self.shards, self.spec, self.neighbourhood = list(shards), spec, neighbourhood
        self.rng, self.level_floor_db, self.split = rng, level_floor_db, split
        self.remixer = remixer  # a bassnet.training.remix.Remixer: re-mix tracks that have stems
        self.max_shards = max_shards
        self.transpose = transpose  # semitones: see `batch`
        self.mix_gain_db, self.mix_tilt_db = mix_gain_db, mix_tilt_db  # dB, dB/octave: `batch`
        order = self.rng.permutation(len(self.shards))
        self.loaded: dict[int, list[Track]] = {}
        for i in order[:max_shards]:
            self._load(int(i))
        if not self.tracks:
            raise DataError(f"no {split} tracks in {len(self.shards)} shard(s)")

    def _load(self, i: int) -> None:
        tracks = read_tracks(self.shards[i], self.split, self.level_floor_db,
                             with_stems=self.remixer is not None)  # fmt: skip
        for track in tracks:
            _check_length(track, self.spec)
        self.loaded[i] = tracks
        self.tracks = [t for group in self.loaded.values() for t in group]

    @property
    def has_stems(self) -> bool:
        """Whether any held track can be re-mixed."""
        return self.remixer is not None and any(t.stems is not None for t in self.tracks)

    def rotate(self) -> None:
        """Swap one held shard for one not held (no-op when all shards fit in memory)."""
        outside = [i for i in range(len(self.shards)) if i not in self.loaded]
        if not outside:
            return
        drop = int(self.rng.choice(sorted(self.loaded)))
        del self.loaded[drop]
        self._load(int(self.rng.choice(outside)))

    def restore(self, loaded: list[int]) -> None:
        """Hold exactly these shards (resuming a run)."""
        self.loaded = {}
        for i in loaded:
            self._load(int(i))

    def batch(self, size: int) -> dict:
        """`size` random windows (x, y) and neighbours (u, v) starting within ±neighbourhood
        frames of them in the same track: {"x","y","targets","u","v","targets_v"}. With
        `transpose` T, each window and each neighbour is transposed by its own random whole
        number of semitones in [−T, T]: z, taken from the neighbour, must then say how the
        bass relates to the mix (which chord degree), not in which key or register it lies.
        With `mix_gain_db` G or `mix_tilt_db` S, each mix window (x and u) gets its own random
        gain in [−G, G] dB and tilt in [−S, S] dB per octave (`recolour_log_cqt`): z must
        then not say how loud or bright the song's instruments are."""
        b = self.spec.expanded
        starts = np.array([len(t) - b + 1 for t in self.tracks])
        index = self.rng.choice(len(self.tracks), size=size, p=starts / starts.sum())
        start = self.rng.integers(0, starts[index])
        low = np.maximum(0, start - self.neighbourhood)
        high = np.minimum(starts[index] - 1, start + self.neighbourhood)
        neighbour = self.rng.integers(low, high + 1)
        shifts = [
            self.rng.integers(-self.transpose, self.transpose + 1, size) if self.transpose else None
            for _ in range(2)
        ]
        first, second = (
            cut(self.tracks, index, start, self.spec, shifts[0]),
            cut(self.tracks, index, neighbour, self.spec, shifts[1]),
        )
        if self.remixer is not None:
            self._remix(first, second, index, (start, neighbour), shifts)
        if self.mix_gain_db or self.mix_tilt_db:
            for part in (first, second):
                gain = self.rng.uniform(-self.mix_gain_db, self.mix_gain_db, size)
                tilt = self.rng.uniform(-self.mix_tilt_db, self.mix_tilt_db, size)
                part["x"] = recolour_log_cqt(part["x"], gain, tilt)
        return {**first, "u": second["x"], "v": second["y"], "targets_v": second["targets"]}

    def _remix(self, first: dict, second: dict, index, starts: tuple, shifts: list) -> None:
        """Replace x and u of instances whose track has stems by a random re-mix: one
        coefficient per stem and instance, the same for the instance's neighbour; transposed
        as the window (`shifts`)."""
        rows = [r for r, i in enumerate(index) if self.tracks[i].stems is not None]
        if not rows:
            return
        b = self.spec.expanded
        coefficients = [self.remixer.coefficients(self.rng, len(self.tracks[index[r]].stems))
                        for r in rows]  # fmt: skip
        for batch, start, shift in zip((first, second), starts, shifts, strict=True):
            spans = [self.tracks[index[r]].stem_span(self.remixer, int(start[r]), b) for r in rows]
            mixed = self.remixer.mix_cqt(spans, coefficients).numpy()  # (len(rows), b, 264)
            if shift is not None:
                mixed = np.stack([transpose_log_cqt(m, int(shift[r]))
                                  for m, r in zip(mixed, rows, strict=True)])  # fmt: skip
            batch["x"][rows] = compress(torch.from_numpy(mixed), self.spec, axis=1)


def even_starts(n_frames: list[int], spec: WindowSpec, count: int) -> list[tuple[int, int]]:
    """About `count` (track, start) windows spread evenly over tracks of these lengths."""
    b = spec.expanded
    room = np.array([max(n - b + 1, 0) for n in n_frames])
    if room.sum() == 0:
        return []
    stride = max(1, int(room.sum() // max(count, 1)))
    return [(i, s) for i, r in enumerate(room) for s in range(stride // 2 % max(r, 1), r, stride)]


class WindowSet:
    """Fixed windows of one split (e.g. validation), cut once while streaming the shards."""

    def __init__(
        self, shards: list[Path], spec: WindowSpec, count: int, level_floor_db: float,
        split: str = "valid",
    ) -> None:  # fmt: skip
        import pyarrow.parquet as pq

        lengths = []
        for path in shards:  # a metadata-only pass: how long is each track of the split?
            meta = pq.read_table(path, columns=["split", "n_frames"]).to_pylist()
            lengths += [r["n_frames"] for r in meta if r["split"] == split]
        positions = even_starts(lengths, spec, count)
        parts, self.track_ids, self.starts, self.patterns = [], [], [], []
        offset = 0
        for path in shards:
            tracks = read_tracks(path, split, level_floor_db)
            for track in tracks:
                _check_length(track, spec)
            mine = [(i - offset, s) for i, s in positions if offset <= i < offset + len(tracks)]
            offset += len(tracks)
            if not mine:
                continue
            index, start = np.array([m[0] for m in mine]), np.array([m[1] for m in mine])
            parts.append(cut(tracks, index, start, spec))
            for i, s in mine:
                self.track_ids.append(tracks[i].track_id)
                self.starts.append(s)
                centre = (
                    tracks[i].pattern[s + spec.expanded // 2]
                    if tracks[i].pattern is not None
                    else -1
                )
                self.patterns.append(int(centre))
        if not parts:
            raise DataError(f"no {split} windows of {spec} in {len(shards)} shard(s)")
        self.x = torch.cat([p["x"] for p in parts])
        self.y = torch.cat([p["y"] for p in parts])
        self.targets = {k: torch.cat([p["targets"][k] for p in parts]) for k in parts[0]["targets"]}

    def __len__(self) -> int:
        return len(self.x)

    def batches(self, size: int):
        """Yield (x, y, targets) in order, `size` windows at a time."""
        for i in range(0, len(self), size):
            yield (
                self.x[i : i + size],
                self.y[i : i + size],
                {k: v[i : i + size] for k, v in self.targets.items()},
            )
