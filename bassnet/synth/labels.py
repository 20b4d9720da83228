"""Per-frame ground truth of a song plan at the feature frame rate (100 frames/s). Pure.

Frame t is the instant t / FRAME_RATE seconds (see `bassnet.constants.n_frames`); each label
says what is true at that instant.
"""

from __future__ import annotations

import math

import numpy as np

from bassnet.constants import FRAME_RATE, n_frames
from bassnet.synth.plan import BEATS_PER_MEASURE, TICKS_PER_BEAT, SongPlan
from bassnet.synth.theory import QUALITIES

SILENT = -1  # bass_pitch where no bass note sounds


def frame_labels(plan: SongPlan) -> dict[str, np.ndarray]:
    """Per-frame arrays of length `n_frames(plan.duration_s)`.

    Returns:
        pattern: int8, bass pattern (1-based) of the frame's measure.
        chord_root: int8, MIDI pitch of the sounding chord's root.
        chord_quality: int8, index into `QUALITIES` (0 major, 1 minor, 2 diminished).
        chord_instrument: int16, GM program (0-based) of the one chord instrument playing in
            A3 and A5; -1 where two instruments play together (A1, A2, A4).
        bass_pitch: int8, MIDI pitch of the sounding bass note, -1 (`SILENT`) when none.
        bass_onset: uint8, 1 on the frame nearest to each bass note's start, else 0.
    """
    count = n_frames(plan.duration_s)
    ticks = np.arange(count) / FRAME_RATE * 1e6 * TICKS_PER_BEAT / plan.tempo_us
    measure = np.minimum(ticks // (BEATS_PER_MEASURE * TICKS_PER_BEAT), plan.n_measures - 1)
    measure = measure.astype(np.int64)
    chords = plan.chord_per_measure()

    bass_pitch = np.full(count, SILENT, dtype=np.int8)
    bass_onset = np.zeros(count, dtype=np.uint8)
    for note in plan.bass_notes:
        start_s, end_s = plan.ticks_to_seconds(note.start), plan.ticks_to_seconds(note.end)
        first, stop = math.ceil(start_s * FRAME_RATE), math.ceil(end_s * FRAME_RATE)
        bass_pitch[first:stop] = note.pitch
        bass_onset[min(round(start_s * FRAME_RATE), count - 1)] = 1

    return {
        "pattern": np.asarray(plan.patterns, dtype=np.int8)[measure],
        "chord_root": np.asarray([c.root for c in chords], dtype=np.int8)[measure],
        "chord_quality": np.asarray([QUALITIES.index(c.quality) for c in chords], dtype=np.int8)[
            measure
        ],
        "chord_instrument": np.asarray([c.program for c in chords], dtype=np.int16)[measure],
        "bass_pitch": bass_pitch,
        "bass_onset": bass_onset,
    }
