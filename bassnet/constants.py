"""The time base every stage shares (paper §4.1): 16 kHz audio, 10 ms frames.

These are fixed by the representation the model is defined on, not tuning knobs, so they live
here once; everything else derives from them.
"""

SR = 16_000  # Hz, sample rate of all feature computation
HOP = 160  # samples between frames (10 ms)
FRAME_RATE = SR // HOP  # frames per second (100)


def frame_count(n_samples: int) -> int:
    """Number of frames of a signal of `n_samples` samples at SR: 1 + n // HOP.

    Frame t is centred at t / FRAME_RATE seconds (librosa's `center=True` convention).
    """
    return 1 + n_samples // HOP


def n_frames(duration_s: float) -> int:
    """Number of frames for audio of `duration_s` seconds (see `frame_count`)."""
    return frame_count(round(duration_s * SR))
