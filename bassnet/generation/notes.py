"""Frame curves → notes (paper §7: MIDI rendering of the generated bass). Pure NumPy.

A note starts at each peak-picked onset, and wherever the bass starts sounding or its pitch
moves by more than half a semitone for `min_frames` frames without an onset (legato), where
the onset strength within `min_frames` of the change reaches `legato_onset`; it ends at the
next note or where the bass stops sounding. Notes shorter than `min_frames` are dropped: a
generated bass flickers into voicing for a frame or two where the model hesitates, and each
flicker with an onset would be a click of a note (A4's pattern 5, a root then three beats of
rest, got a note on nearly every eighth). A generated f0 also wavers between two candidate
pitches within a note where the model is unsure which the bass plays; with no onset at all
such a waver is not a new note (`legato_onset`: on A4's training songs a quarter-note
pattern's extra off-beat notes came mostly from such wavers; docs/design.md, notes). Its MIDI
pitch is the median f0 over its frames; the frame-wise deviation from that pitch is kept for
pitch bend. Velocity follows the level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bassnet.constants import FRAME_RATE
from bassnet.features.accuracy import pick_onsets
from bassnet.generation.config import GenerateConfig
from bassnet.generation.curves import BassCurves


@dataclass(frozen=True)
class BassNote:
    """One note: start and end in s, MIDI pitch, velocity 1–127, and the pitch deviation in
    semitones at each of its frames (100/s), for pitch bend."""

    start_s: float
    end_s: float
    pitch: int
    velocity: int
    bend: np.ndarray


def hz_to_midi(f0_hz: np.ndarray) -> np.ndarray:
    """Hz → fractional MIDI pitch (A4 = 440 Hz = 69); NaN where f0 is 0."""
    f0 = np.asarray(f0_hz, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(f0 > 0, 69 + 12 * np.log2(f0 / 440.0), np.nan)


def velocity_from_db(level_db: float, floor_db: float = -60.0, top_db: float = -6.0) -> int:
    """A level in dB → MIDI velocity: `floor_db` and below → 1, `top_db` and above → 127,
    linear in dB between (MIDI velocity is roughly logarithmic in amplitude)."""
    unit = (level_db - floor_db) / (top_db - floor_db)
    return int(np.clip(round(1 + 126 * unit), 1, 127))


def curves_to_notes(
    curves: BassCurves, onset_threshold: float = 0.5, min_frames: int = 5,
    legato_onset: float = 0.1,
) -> list[BassNote]:  # fmt: skip
    """The notes of a generated bass (see the module docstring), each at least `min_frames`
    frames (10 ms) long; [] if it never sounds. `onset_threshold`: peak picking on the onset
    strength; `legato_onset`: the onset strength (0–1) a pitch change without a picked onset
    needs within `min_frames` frames to start a note (0: any held change does)."""
    pitch = hz_to_midi(curves.f0_hz)
    voiced = ~np.isnan(pitch)
    # the feature job's peak picking (madmom, ±1 frame maxima), as frame indices
    picked = pick_onsets(curves.onset, onset_threshold)
    starts = set(np.rint(picked * FRAME_RATE).astype(int).tolist())
    # the bass starts sounding: a note starts even without a picked onset
    starts |= set(np.flatnonzero(voiced & ~np.concatenate([[False], voiced[:-1]])).tolist())
    notes: list[BassNote] = []
    boundaries = sorted(s for s in starts if voiced[s])
    for i, start in enumerate(boundaries):
        stop = boundaries[i + 1] if i + 1 < len(boundaries) else len(pitch)
        silent = np.flatnonzero(~voiced[start:stop])
        stop = start + (silent[0] if len(silent) else stop - start)
        notes += _split_on_pitch(curves, pitch, start, stop, min_frames, legato_onset)
    return [n for n in notes if round((n.end_s - n.start_s) * FRAME_RATE) >= min_frames]


def generated_notes(curves: BassCurves, cfg: GenerateConfig) -> list[BassNote]:
    """`curves_to_notes` with the note settings of `cfg` (params.yaml `generate`)."""
    return curves_to_notes(curves, cfg.onset_threshold, cfg.min_note_frames, cfg.legato_onset)


def _split_on_pitch(curves, pitch, start: int, stop: int, min_frames: int,
                    legato_onset: float) -> list[BassNote]:  # fmt: skip
    """Notes over frames [start, stop): a new note where the rounded pitch changes and holds
    for at least `min_frames` frames, with an onset strength of at least `legato_onset`
    within `min_frames` frames of the change (a legato change of note without an onset)."""
    rounded = np.rint(pitch[start:stop])
    cuts = [0]
    for t in range(1, len(rounded)):
        held = rounded[t : t + min_frames]
        if (
            rounded[t] != rounded[cuts[-1]]
            and len(held) == min_frames
            and np.all(held == rounded[t])
            and _onset_near(curves.onset, start + t, min_frames) >= legato_onset
        ):
            cuts.append(t)
    cuts.append(len(rounded))
    notes = []
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        segment = pitch[start + a : start + b]
        midi = int(np.clip(np.rint(np.median(segment)), 0, 127))
        level = float(np.max(curves.level_db[start + a : start + b]))
        notes.append(
            BassNote(
                start_s=(start + a) / FRAME_RATE,
                end_s=(start + b) / FRAME_RATE,
                pitch=midi,
                velocity=velocity_from_db(level),
                bend=(segment - midi).astype(np.float32),
            )
        )
    return notes


def _onset_near(onset: np.ndarray, frame: int, frames: int) -> float:
    """The largest onset strength within `frames` frames of `frame`."""
    return float(onset[max(0, frame - frames) : frame + frames + 1].max())
