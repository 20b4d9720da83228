"""Reading audio files, with errors that say what is wrong with which file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from bassnet.errors import AudioError
from bassnet.features.audio import to_mono


def _check_truncation(path: Path, info) -> None:
    """libsndfile reads what is there of a cut-off WAV/AIFF and notes the header's claim."""
    for line in info.extra_info.splitlines():
        if line.lower().startswith(("data", "ssnd")) and "should be" in line:
            raise AudioError(f"{path}: truncated file ({line.strip()})")


def read_mono(path: str | Path, block_seconds: float = 30.0) -> tuple[np.ndarray, int]:
    """Read a file as mono: (samples,) float32, the mean of its channels, and its rate in Hz.

    Reads block by block, so a long multichannel file never sits in memory whole (a 20-minute
    stereo 44.1 kHz file would take 423 MB as float32). Raises AudioError for a missing,
    unreadable, truncated, empty or non-finite file.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: file not found")
    try:
        info = sf.info(path)
        _check_truncation(path, info)
        blocksize = max(1, int(block_seconds * info.samplerate))
        # the blocks go into one array of the header's length (no second copy of the song for
        # a concatenation); a file whose samples differ from its header is read as it is
        audio, filled, blocks = np.empty(max(info.frames, 0), np.float32), 0, []
        for block in sf.blocks(path, blocksize=blocksize, dtype="float32", always_2d=True):
            mono = to_mono(block)
            if blocks or filled + len(mono) > len(audio):
                blocks.append(mono)
            else:
                audio[filled : filled + len(mono)] = mono
                filled += len(mono)
    except (sf.LibsndfileError, RuntimeError, ValueError) as err:
        raise AudioError(f"{path}: unreadable audio ({err})") from err
    audio = np.concatenate([audio[:filled], *blocks]) if blocks else audio[:filled]
    if audio.size == 0:
        raise AudioError(f"{path}: no samples")
    if not np.all(np.isfinite(audio)):
        raise AudioError(f"{path}: NaN or infinite samples")
    return audio, int(info.samplerate)
