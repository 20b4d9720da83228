"""Notes → a Standard MIDI File a DAW opens at the right times. Pure (mido objects).

Type 1, one track named "bass" on channel 1 with a GM bass program, 480 ticks per beat at a
fixed 120 BPM (so 1 s = 960 ticks: times are exact whatever the song's tempo). The pitch-bend
range is set to ±2 semitones (RPN 0) and bends follow each note's f0 deviation, written only
where they change by more than `bend_step` semitones.
"""

from __future__ import annotations

import mido

from bassnet.constants import FRAME_RATE
from bassnet.generation.notes import BassNote

TICKS_PER_BEAT = 480
TEMPO_US = 500_000  # 120 BPM
BEND_RANGE = 2  # semitones, set by RPN 0 (the GM default)
TICKS_PER_S = TICKS_PER_BEAT * 1_000_000 // TEMPO_US


def _tick(seconds: float) -> int:
    return round(seconds * TICKS_PER_S)


def _bend_value(semitones: float) -> int:
    return max(-8192, min(8191, round(semitones / BEND_RANGE * 8192)))


def notes_to_midi(
    notes: list[BassNote], duration_s: float, program: int = 33, channel: int = 0,
    bend_step: float = 0.05,
) -> mido.MidiFile:  # fmt: skip
    """The bass as a type-1 MIDI file lasting `duration_s` (program 33: Electric Bass finger)."""
    setup = [
        mido.MetaMessage("track_name", name="bass", time=0),
        mido.MetaMessage("set_tempo", tempo=TEMPO_US, time=0),
        mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0),
        mido.Message("program_change", channel=channel, program=program, time=0),
        # RPN 0 (pitch-bend sensitivity) = BEND_RANGE semitones, then the null RPN
        *(mido.Message("control_change", channel=channel, control=c, value=v, time=0)
          for c, v in ((101, 0), (100, 0), (6, BEND_RANGE), (38, 0), (101, 127), (100, 127))),
    ]  # fmt: skip
    events: list[tuple[int, int, mido.Message]] = []  # (tick, order, message)
    for note in notes:
        on, off = _tick(note.start_s), max(_tick(note.end_s), _tick(note.start_s) + 1)
        current = _bend_value(float(note.bend[0])) if len(note.bend) else 0
        events.append((on, 1, mido.Message("pitchwheel", channel=channel, pitch=current)))
        events.append((on, 2, mido.Message("note_on", channel=channel, note=note.pitch,
                                           velocity=note.velocity)))  # fmt: skip
        for i, semitones in enumerate(note.bend[1:], start=1):
            value = _bend_value(float(semitones))
            if abs(value - current) > bend_step / BEND_RANGE * 8192:
                current = value
                tick = _tick(note.start_s + i / FRAME_RATE)
                events.append((tick, 3, mido.Message("pitchwheel", channel=channel, pitch=value)))
        events.append((off, 0, mido.Message("note_off", channel=channel, note=note.pitch)))
    events.sort(key=lambda e: (e[0], e[1]))
    track = mido.MidiTrack(setup)
    now = 0
    for tick, _, msg in events:
        track.append(msg.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=max(0, _tick(duration_s) - now)))
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    midi.tracks.append(track)
    return midi
