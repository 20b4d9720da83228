"""Where in the 2-D latent space to generate: one point, or a path over the song's time. Pure."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from bassnet.errors import ConfigError

PATH_COLUMNS = ("time_s", "z1", "z2")
# The largest |z| accepted. Trained models' µ lies within a few units of 0 (the latent regions
# in bassnet/pretrained/models.json lie within ±4); far beyond, the decoder's activations
# overflow float32 (z = 1e39 is inf) and give a full-scale square wave or NaN, not a bass.
Z_LIMIT = 1000.0


def check_z(values, where: str) -> None:
    """ConfigError naming `where` unless every value of `values` (z coordinates) is finite
    and within ±Z_LIMIT."""
    values = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise ConfigError(f"{where}: z must be finite numbers")
    if np.any(np.abs(values) > Z_LIMIT):
        raise ConfigError(
            f"{where}: z {np.abs(values).max():g} is far outside any model's latent space; "
            f"z must lie within ±{Z_LIMIT:g}"
        )


def parse_point(text: str, dim: int = 2) -> np.ndarray:
    """'0.4,0.0' → (dim,) float array."""
    try:
        values = [float(v) for v in str(text).split(",")]
    except ValueError as err:
        raise ConfigError(f"--z must be {dim} comma-separated numbers, got {text!r}") from err
    if len(values) != dim or not np.all(np.isfinite(values)):
        raise ConfigError(f"--z must be {dim} comma-separated finite numbers, got {text!r}")
    check_z(values, "--z")
    return np.asarray(values, dtype=np.float32)


def read_path(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """A z-path CSV with columns time_s,z1,z2 → times in s (K,), ascending, and z (K, 2)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: z-path file not found")
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = set(PATH_COLUMNS) - set(reader.fieldnames or ())
            if missing:
                raise ConfigError(f"{path}: z-path needs columns {','.join(PATH_COLUMNS)}")
            rows = [[float(r[c]) for c in PATH_COLUMNS] for r in reader]
    except UnicodeDecodeError as err:  # a ValueError too: said first
        raise ConfigError(f"{path}: z-path is not UTF-8 text ({err.reason})") from err
    except (TypeError, ValueError, csv.Error) as err:
        raise ConfigError(f"{path}: z-path has a non-numeric value ({err})") from err
    return path_points(np.asarray(rows, dtype=np.float64).reshape(-1, 3), str(path))


def path_points(table: np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Rows (K, 3) of time_s, z1, z2 → times in s (K,) and z (K, 2), or a ConfigError naming
    `where` for no rows, non-finite values or descending times."""
    if not len(table) or not np.all(np.isfinite(table)):
        raise ConfigError(f"{where}: z-path has no rows or non-finite values")
    if np.any(np.diff(table[:, 0]) < 0):
        raise ConfigError(f"{where}: z-path times must be ascending")
    check_z(table[:, 1:], f"{where}: z-path")
    return table[:, 0], table[:, 1:].astype(np.float32)


def z_at(times_s: np.ndarray, path_times: np.ndarray, path_z: np.ndarray) -> np.ndarray:
    """Linear interpolation of a z-path at `times_s` (N,) → (N, 2); held constant beyond its
    first and last points."""
    return np.stack(
        [np.interp(times_s, path_times, path_z[:, d]) for d in range(path_z.shape[1])], axis=1
    ).astype(np.float32)


def outside_region(z: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Rows of z (N, D) outside the box [low, high] (the trained region): (N,) bool."""
    return np.any((z < low) | (z > high), axis=1)
