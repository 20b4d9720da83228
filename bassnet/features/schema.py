"""The Parquet schema of feature shards: one row per track, full-length per-frame arrays.

Every array column has one value per frame at 100 frames/s (`bassnet.constants`); a feature
folder holds only its `part-*.parquet` shards, so pyarrow, pandas, polars and DuckDB read the
folder as one table (the job's failures list lies beside it: `failures_path`). CQTs are
float16 log magnitudes, (frames, 264) as a list of fixed-size lists (`cqt_array` gives one as
NumPy); label columns are null for data without MIDI ground truth. Each shard's key-value
metadata names the settings its values depend on (`shard_metadata`, `read_shard_metadata`).

polars 2.1 has no float16 case in `list.mean` over a column without nulls and panics ("not
implemented"); `list.sum`, `list.max`, `list.std` and `arr.mean` work. Cast first:
`pl.col("onset").cast(pl.List(pl.Float32)).list.mean()`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from bassnet.constants import FRAME_RATE, HOP, SR
from bassnet.errors import DataError
from bassnet.features.cqt import BINS_PER_OCTAVE, FMIN_HZ, LOG_FLOOR, N_BINS

if TYPE_CHECKING:
    from bassnet.config import FeatureConfig

F16, F32 = pa.float16(), pa.float32()
CQT_TYPE = pa.list_(pa.list_(F16, N_BINS))

# Per-frame arrays: name -> (Arrow element type, NumPy dtype stored).
FRAME_ARRAYS: dict[str, tuple[pa.DataType, type]] = {
    "cqt_mix": (pa.list_(F16, N_BINS), np.float16),  # log |CQT| of the mix (no bass)
    "cqt_bass": (pa.list_(F16, N_BINS), np.float16),  # log |CQT| of the bass
    "f0_hz": (F32, np.float32),  # bass f0 (CREPE); 0 where silent
    "f0_confidence": (F16, np.float16),  # CREPE's peak activation, 0..1
    "onset": (F16, np.float16),  # bass onset strength (madmom CNN), 0..1
    "level_db": (F16, np.float16),  # bass level, dB re full scale, floor -100
    "f0_mix_hz": (F32, np.float32),  # predominant f0 of the mix (CREPE); null outside its splits
}
# Ground truth from a dataset's labels.parquet (artificial datasets), null otherwise.
LABEL_ARRAYS: dict[str, tuple[pa.DataType, type]] = {
    "pattern": (pa.int8(), np.int8),
    "chord_root": (pa.int8(), np.int8),
    "chord_quality": (pa.int8(), np.int8),
    "chord_instrument": (pa.int16(), np.int16),
    "bass_pitch": (pa.int8(), np.int8),
    "bass_onset": (pa.uint8(), np.uint8),
}

# Stem collections only (null for datasets with a mix file): the stems the mix was made of, as
# 16 kHz waveforms for re-mixing in training (paper §5.3), stem after stem in the order of the
# `stems` column (bass excluded), each int16 at its own scale (peak-normalised: 16-bit
# precision, half the bytes of float32, as a CD-quality stem would be stored).
STEM_ARRAYS: dict[str, tuple[pa.DataType, type]] = {
    "stem_audio": (pa.int16(), np.int16),  # (stems · samples,), sample = value · stem_scale
    "stem_scale": (F32, np.float32),  # (stems,)
}

FEATURE_SCHEMA = pa.schema(
    [
        ("track_id", pa.string()),
        ("dataset", pa.string()),
        ("split", pa.string()),  # "train" / "valid"
        ("n_frames", pa.int32()),
        ("duration_s", pa.float64()),  # of the 16 kHz audio
        ("source_sample_rate", pa.int32()),  # Hz of the input files
        ("stems", pa.list_(pa.string())),  # the stems the mix was made of
        ("tonic", pa.int8()),  # song metadata from labels (null when unknown)
        ("mode", pa.string()),
        ("tempo_bpm", pa.float64()),
        ("instruments", pa.list_(pa.int16())),  # GM programs of the chord instruments
        *[(name, pa.list_(t)) for name, (t, _) in FRAME_ARRAYS.items()],
        *[(name, pa.list_(t)) for name, (t, _) in LABEL_ARRAYS.items()],
        *[(name, pa.list_(t)) for name, (t, _) in STEM_ARRAYS.items()],
    ]
)
ARRAYS = {**FRAME_ARRAYS, **LABEL_ARRAYS, **STEM_ARRAYS}


def stem_store(stems: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Equal-length 16 kHz stems (samples,) → the STEM_ARRAYS values of a row."""
    peaks = np.array([np.abs(s).max() if len(s) else 0.0 for s in stems], dtype=np.float32)
    scale = np.where(peaks > 0, peaks / 32767.0, 1.0).astype(np.float32)
    audio = np.concatenate(
        [np.rint(s / k).astype(np.int16) for s, k in zip(stems, scale, strict=True)]
    )
    return {"stem_audio": audio, "stem_scale": scale}


def stems_from_store(audio: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """The STEM_ARRAYS values of a row → (stems, samples) float32."""
    return audio.reshape(len(scale), -1).astype(np.float32) * scale[:, None]


def _flat(chunks: list[np.ndarray], dtype: type) -> np.ndarray:
    """The chunks end to end; one chunk as it is (a view: a long track's CQT, 63 MB at 20
    minutes, is not copied), none as an empty array."""
    if len(chunks) == 1:
        return chunks[0]
    return np.concatenate(chunks) if chunks else np.empty(0, dtype)


def _column(values: list, arrow_type: pa.DataType, dtype: type) -> pa.Array:
    """A list<arrow_type> column from per-track arrays (None for null), built without copies
    through Python objects."""
    offsets, chunks, valid = [0], [], []
    for value in values:
        if value is None:
            offsets.append(offsets[-1])
            valid.append(False)
            continue
        arr = np.ascontiguousarray(value, dtype=dtype)
        chunks.append(arr.reshape(len(arr), -1) if arr.ndim > 1 else arr)
        offsets.append(offsets[-1] + len(arr))
        valid.append(True)
    if isinstance(arrow_type, pa.FixedSizeListType):
        width = arrow_type.list_size
        items = pa.FixedSizeListArray.from_arrays(
            pa.array(_flat([c.ravel() for c in chunks], dtype), arrow_type.value_type), width
        )
    else:
        items = pa.array(_flat(chunks, dtype), arrow_type)
    mask = pa.array([not v for v in valid])
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), items, mask=mask)


def rows_to_table(rows: list[dict]) -> pa.Table:
    """Arrow table with FEATURE_SCHEMA from row dicts (arrays as NumPy, None for null)."""
    columns = {}
    for field in FEATURE_SCHEMA:
        name = field.name
        if name in ARRAYS:
            arrow_type, dtype = ARRAYS[name]
            columns[name] = _column([r.get(name) for r in rows], arrow_type, dtype)
        else:
            columns[name] = pa.array([r.get(name) for r in rows], field.type)
    return pa.Table.from_pydict(columns, schema=FEATURE_SCHEMA)


METADATA_PREFIX = "bassnet."  # of the shard metadata keys this project writes


def shard_metadata(cfg: FeatureConfig) -> dict[str, str]:
    """The Parquet key-value metadata of every shard the job writes with `cfg`: the time base,
    the CQT's bins and the f0, level and silence settings the values depend on, and the
    package version. Nothing of the run (time, host, paths), so the same settings give the
    same bytes. Keys start with METADATA_PREFIX; values are strings (Parquet's)."""
    from bassnet import __version__

    values = {
        "version": __version__,
        "sample_rate_hz": SR,
        "hop_samples": HOP,
        "frame_rate_hz": FRAME_RATE,
        "cqt_bins": N_BINS,
        "cqt_bins_per_octave": BINS_PER_OCTAVE,
        "cqt_fmin_hz": FMIN_HZ,
        "cqt_log_floor": LOG_FLOOR,
        "f0_model": f"crepe-{cfg.crepe_model}",
        "f0_stride": cfg.f0_stride,
        "f0_fmin_hz": cfg.f0_fmin_hz,
        "f0_fmax_hz": cfg.f0_fmax_hz,
        "mix_f0_fmax_hz": cfg.mix_f0_fmax_hz,
        "mix_f0_splits": ",".join(cfg.mix_f0_splits),
        "silence_db": cfg.silence_db,
        "level_n_fft": cfg.level_n_fft,
    }
    return {METADATA_PREFIX + key: str(value) for key, value in values.items()}


def read_shard_metadata(path: str | Path) -> dict[str, str]:
    """The `shard_metadata` of a shard, keys without the prefix (empty for a shard without
    it); reads only the file's footer."""
    metadata = pq.read_schema(path).metadata or {}
    prefix = METADATA_PREFIX.encode()
    return {
        key[len(prefix) :].decode(): value.decode()
        for key, value in metadata.items()
        if key.startswith(prefix)
    }


def failures_path(features_dir: str | Path) -> Path:
    """Where the feature job lists the tracks that failed (JSON: id, step, error per track):
    beside the shard folder, `<folder>.failures.json`, so that the folder holds only shards."""
    folder = Path(features_dir).resolve()
    if folder.parent == folder:
        raise DataError(f"{features_dir}: a feature folder cannot be the filesystem root")
    return folder.with_name(folder.name + ".failures.json")


def cqt_array(cell: Any, column: str | None = None, dtype: type = np.float32) -> np.ndarray:
    """One track's CQT (`cqt_mix` or `cqt_bass`) as a NumPy array (frames, 264) of `dtype`.

    `cell` is the column's value for one row as a reader returns it: a pyarrow scalar
    (`table["cqt_mix"][i]`), a pandas cell (an object array of (264,) arrays), a polars cell
    (a Series of arrays), DuckDB's or `to_pylist`'s nested lists, or an array already; or,
    with `column`, a row holding it (a dict, a pandas row, polars' `row(i, named=True)`).
    float16, as stored, halves the memory; the default float32 is what the model reads.
    """
    if column is not None:
        is_pandas_row = hasattr(cell, "iloc") and getattr(cell, "ndim", 0) == 1
        if not (isinstance(cell, Mapping) or is_pandas_row):
            raise DataError(f"cqt_array: a row with column {column!r} expected, got {type(cell)}")
        cell = cell[column]
    if cell is None or (isinstance(cell, pa.Scalar) and not cell.is_valid):
        raise DataError("cqt_array: the CQT cell is null")
    if isinstance(cell, pa.Scalar):
        frames = cell.values.flatten().to_numpy(zero_copy_only=False).reshape(-1, N_BINS)
    elif isinstance(cell, np.ndarray) and cell.dtype == object:  # pandas: one array per frame
        frames = np.stack(cell) if len(cell) else np.empty((0, N_BINS))
    elif hasattr(cell, "to_numpy") and not isinstance(cell, np.ndarray):  # polars Series
        frames = cell.to_numpy()
    else:
        frames = np.asarray(cell)
        if frames.size == 0:
            frames = frames.reshape(0, N_BINS)
    if frames.ndim != 2 or frames.shape[1] != N_BINS:
        raise DataError(f"cqt_array: expected (frames, {N_BINS}), got shape {frames.shape}")
    return frames.astype(dtype, copy=False)
