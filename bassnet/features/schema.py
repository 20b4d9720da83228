"""The Parquet schema of feature shards: one row per track, full-length per-frame arrays.

Every array column has one value per frame at 100 frames/s (`bassnet.constants`); a shard opens
with plain pyarrow, pandas, polars or DuckDB. CQTs are float16 log magnitudes, (frames, 264)
as a list of fixed-size lists; label columns are null for data without MIDI ground truth.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from bassnet.features.cqt import N_BINS

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


def cqt_to_numpy(column_value: pa.ListScalar | list) -> np.ndarray:
    """A CQT cell read back from a shard → (frames, 264) float32."""
    if isinstance(column_value, pa.Scalar):
        flat = column_value.values.flatten().to_numpy(zero_copy_only=False)
    else:
        flat = np.asarray(column_value, dtype=np.float32)
    return np.asarray(flat, dtype=np.float32).reshape(-1, N_BINS)
