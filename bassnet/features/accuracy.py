"""How well the descriptors match the ground truth of rendered MIDI (mir_eval measures)."""

from __future__ import annotations

import numpy as np

from bassnet.constants import FRAME_RATE


def midi_to_hz(pitch: np.ndarray) -> np.ndarray:
    """MIDI pitch → Hz; negative pitches (silence) → 0 Hz."""
    pitch = np.asarray(pitch, dtype=np.float64)
    return np.where(pitch >= 0, 440.0 * 2.0 ** ((pitch - 69.0) / 12.0), 0.0)


def raw_pitch_accuracy(f0_hz: np.ndarray, truth_pitch: np.ndarray, cents: float = 50.0) -> float:
    """Share of voiced ground-truth frames whose estimated f0 is within `cents` of the truth.

    `truth_pitch` is the MIDI pitch per frame (-1 where silent); voicing of the estimate is
    ignored, as in mir_eval's raw pitch accuracy. Returns NaN when no frame is voiced.
    """
    import mir_eval

    n = min(len(f0_hz), len(truth_pitch))
    ref_hz = midi_to_hz(truth_pitch[:n])
    est_hz = np.asarray(f0_hz[:n], dtype=np.float64)
    if not np.any(ref_hz > 0):
        return float("nan")
    ref_cent = mir_eval.melody.hz2cents(ref_hz)
    est_cent = mir_eval.melody.hz2cents(np.where(est_hz > 0, est_hz, 0.0))
    ref_voicing = (ref_hz > 0).astype(float)
    return float(
        mir_eval.melody.raw_pitch_accuracy(
            ref_voicing, ref_cent, np.ones(n), est_cent, cent_tolerance=cents
        )
    )


def pick_onsets(
    strength: np.ndarray, threshold: float = 0.5, combine_s: float = 0.03
) -> np.ndarray:
    """Onset times in s: local maxima of `strength` (frames at 100/s) above `threshold`.

    madmom's peak picking with its usual settings for the CNN detector (±1 frame maximum,
    onsets closer than `combine_s` merged).
    """
    from madmom.features.onsets import peak_picking

    peaks = peak_picking(np.asarray(strength, dtype=np.float32), threshold, pre_max=1, post_max=1)
    times = peaks / FRAME_RATE
    if len(times) > 1:  # combine onsets closer than combine_s, keeping the first
        keep = np.concatenate([[True], np.diff(times) > combine_s])
        times = times[keep]
    return times


def onset_f_measure(
    strength: np.ndarray, truth_onset: np.ndarray, threshold: float = 0.5, window_s: float = 0.05
) -> float:
    """F-measure of onsets picked from `strength` against ground-truth onset frames (±50 ms)."""
    import mir_eval

    ref = np.flatnonzero(truth_onset) / FRAME_RATE
    est = pick_onsets(strength, threshold)
    if len(ref) == 0 and len(est) == 0:
        return 1.0
    return float(mir_eval.onset.f_measure(ref, est, window=window_s)[0])
