"""Reading audio files, with errors that say what is wrong with which file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from bassnet.errors import AudioError


def read_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Read any file libsndfile reads → ((samples, channels) float32 in [-1, 1], Hz).

    Raises AudioError for a missing, unreadable, truncated, empty or non-finite file.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: file not found")
    try:
        info = sf.info(path)
        audio, sr = sf.read(path, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, ValueError) as err:
        raise AudioError(f"{path}: unreadable audio ({err})") from err
    # libsndfile reads what is there of a cut-off WAV/AIFF and notes the header's claim.
    for line in info.extra_info.splitlines():
        if line.lower().startswith(("data", "ssnd")) and "should be" in line:
            raise AudioError(f"{path}: truncated file ({line.strip()})")
    if audio.shape[0] == 0:
        raise AudioError(f"{path}: no samples")
    if not np.all(np.isfinite(audio)):
        raise AudioError(f"{path}: NaN or infinite samples")
    return audio, int(sr)
