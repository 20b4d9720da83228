"""Diatonic music theory on MIDI pitches: scales, root-position triads, chord degrees."""

from __future__ import annotations

from typing import Literal

Mode = Literal["major", "minor"]

# Semitone offsets of the seven scale steps from the tonic (natural minor for "minor").
SCALES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
}

QUALITIES = ("major", "minor", "diminished")  # codes 0, 1, 2 in the labels
PITCH_CLASS_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def scale_offset(mode: Mode, step: int) -> int:
    """Semitones from the tonic to scale step `step` (0-based, may exceed 6 or be negative)."""
    octave, index = divmod(step, 7)
    return 12 * octave + SCALES[mode][index]


def degree_interval(mode: Mode, chord_step: int, degree: int) -> int:
    """Semitones from a chord's root (on scale step `chord_step`) up to its diatonic `degree`.

    Degree 1 is the root, 3 the chord's third, 5 its fifth; 2 and 4 are the diatonic passing
    steps between them. The interval follows the key's scale, so e.g. degree 3 over the ii
    chord of C major (D) is F, a minor third.
    """
    if degree < 1:
        raise ValueError(f"chord degrees count from 1, got {degree}")
    return scale_offset(mode, chord_step + degree - 1) - scale_offset(mode, chord_step)


def triad_quality(mode: Mode, chord_step: int) -> str:
    """Quality of the diatonic triad on scale step `chord_step`: major, minor or diminished."""
    third = degree_interval(mode, chord_step, 3)
    fifth = degree_interval(mode, chord_step, 5)
    if (third, fifth) == (4, 7):
        return "major"
    if (third, fifth) == (3, 7):
        return "minor"
    if (third, fifth) == (3, 6):
        return "diminished"
    raise AssertionError(f"not a diatonic triad: third {third}, fifth {fifth}")


def triad_pitches(root: int, mode: Mode, chord_step: int) -> tuple[int, int, int]:
    """MIDI pitches of the root-position triad with root pitch `root`."""
    return tuple(root + degree_interval(mode, chord_step, d) for d in (1, 3, 5))  # type: ignore[return-value]
