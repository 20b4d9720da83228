"""The shared frame grid, chunked: windows centred on samples t·HOP of a zero-padded signal."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from bassnet.constants import HOP, frame_count


def chunks(
    audio: np.ndarray, window: int, chunk_frames: int
) -> Iterator[tuple[int, int, np.ndarray]]:
    """Yield (start, stop, segment) covering frames [start, stop) of `audio`.

    Frame t is the `window` samples centred on sample t·HOP, the signal being zero-padded by
    window/2 on each side; `segment` holds exactly the samples of frames start..stop-1, so a
    transform applied per segment (without its own padding) equals one pass over the signal
    while holding only `chunk_frames` frames in memory.
    """
    half = window // 2
    padded = np.pad(np.asarray(audio, dtype=np.float32), (half, window - half))
    n_frames = frame_count(len(audio))
    for start in range(0, n_frames, chunk_frames):
        stop = min(start + chunk_frames, n_frames)
        yield start, stop, padded[start * HOP : (stop - 1) * HOP + window]
