"""Notes → a Standard MIDI File a DAW opens at the right times, on the song's grid. Pure (mido).

Type 1, one track named "bass" on channel 1 with a GM bass program, 480 ticks per beat. The
tempo is the song's (`beat.Beat`, 120 BPM without one), so a DAW's bars and beats fall on the
song's: where the song's first downbeat is not at 0 s, a pickup bar of whole beats at a
slightly adjusted tempo ends exactly on it, and 4/4 at the song's tempo follows. Notes keep
their times in seconds either way. The pitch-bend range is set to ±2 semitones (RPN 0) and
bends follow each note's f0 deviation, written only where they change by more than
`bend_step` semitones.
"""

from __future__ import annotations

import mido
import numpy as np

from bassnet.constants import FRAME_RATE
from bassnet.errors import ConfigError
from bassnet.generation.notes import BassNote

TICKS_PER_BEAT = 480
TEMPO_US = 500_000  # 120 BPM, without a song tempo
BEND_RANGE = 2  # semitones, set by RPN 0 (the GM default)
TICKS_PER_S = TICKS_PER_BEAT * 1_000_000 // TEMPO_US  # at 120 BPM
# A first downbeat closer to 0 s than this starts bar 1 at 0 s: the beat tracker's times lag a
# beat by a few 10-ms frames (songs rendered to start on a downbeat: first downbeats at
# 0.00–0.04 s), and a shorter pickup would be one beat of a few ms, thousands of BPM.
MIN_LEAD_S = 0.05


class TempoMap:
    """Seconds ↔ ticks for a tempo of `tempo_bpm` from the downbeat at `downbeat_s`, with a
    pickup of whole beats before it (at the tempo that makes them end on the downbeat)."""

    def __init__(self, tempo_bpm: float = 120.0, downbeat_s: float = 0.0) -> None:
        try:
            tempo_bpm = float(tempo_bpm)
        except (TypeError, ValueError) as err:
            raise ConfigError(f"MIDI tempo must be a number of BPM, got {tempo_bpm!r}") from err
        if not (np.isfinite(tempo_bpm) and 20.0 <= tempo_bpm <= 400.0):
            raise ConfigError(f"MIDI tempo must be 20..400 BPM, got {tempo_bpm:g}")
        self.tempo_us = round(60_000_000 / tempo_bpm)
        beat_s = self.tempo_us / 1e6
        downbeat_s = max(0.0, float(downbeat_s))
        self.lead_beats = 0 if downbeat_s < MIN_LEAD_S else max(1, round(downbeat_s / beat_s))
        self.lead_s = downbeat_s if self.lead_beats else 0.0
        # the pickup's tempo: `lead_beats` beats in `lead_s` seconds
        self.lead_us = round(self.lead_s / self.lead_beats * 1e6) if self.lead_beats else 0
        self.lead_ticks = self.lead_beats * TICKS_PER_BEAT

    def tick(self, seconds: float) -> int:
        """The tick of a time in s."""
        if seconds < self.lead_s:
            return round(seconds * 1e6 / self.lead_us * TICKS_PER_BEAT)
        return self.lead_ticks + round((seconds - self.lead_s) * 1e6 / self.tempo_us
                                       * TICKS_PER_BEAT)  # fmt: skip

    def meta(self) -> list[tuple[int, mido.MetaMessage]]:
        """(tick, message): the tempo and time-signature changes. Before the downbeat: whole
        4/4 bars, then a pickup bar of the remaining beats (n/4); from it on, 4/4."""

        def signature(n: int) -> mido.MetaMessage:
            return mido.MetaMessage("time_signature", numerator=n, denominator=4, time=0)

        def tempo(us: int) -> mido.MetaMessage:
            return mido.MetaMessage("set_tempo", tempo=us, time=0)

        if not self.lead_beats:
            return [(0, tempo(self.tempo_us)), (0, signature(4))]
        bars, pickup = divmod(self.lead_beats, 4)
        out = [(0, tempo(self.lead_us)), (0, signature(4 if bars else pickup))]
        if bars and pickup:
            out.append((bars * 4 * TICKS_PER_BEAT, signature(pickup)))
        out.append((self.lead_ticks, tempo(self.tempo_us)))
        if pickup:
            out.append((self.lead_ticks, signature(4)))
        return out


def _bend_value(semitones: float) -> int:
    return max(-8192, min(8191, round(semitones / BEND_RANGE * 8192)))


def notes_to_midi(
    notes: list[BassNote], duration_s: float, program: int = 33, channel: int = 0,
    bend_step: float = 0.05, tempo_bpm: float = 120.0, downbeat_s: float = 0.0,
) -> mido.MidiFile:  # fmt: skip
    """The bass as a type-1 MIDI file lasting `duration_s` (program 33: Electric Bass finger),
    its bars at `tempo_bpm` from the song's first downbeat at `downbeat_s` (s)."""
    tempo = TempoMap(tempo_bpm, downbeat_s)
    _tick = tempo.tick
    setup = [
        mido.MetaMessage("track_name", name="bass", time=0),
        mido.Message("program_change", channel=channel, program=program, time=0),
        # RPN 0 (pitch-bend sensitivity) = BEND_RANGE semitones, then the null RPN
        *(mido.Message("control_change", channel=channel, control=c, value=v, time=0)
          for c, v in ((101, 0), (100, 0), (6, BEND_RANGE), (38, 0), (101, 127), (100, 127))),
    ]  # fmt: skip
    # (tick, order, message); the tempo map first at its tick, then note-offs, bends, note-ons
    events: list[tuple[int, int, mido.Message]] = [(t, -1, m) for t, m in tempo.meta()]
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
