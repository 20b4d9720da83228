"""Song plan → Standard MIDI File (type 1) with tracks `chords`, `drums` and `bass`. Pure."""

from __future__ import annotations

import io

import mido

from bassnet.synth.plan import BASS_CHANNEL, CHORD_CHANNELS, TICKS_PER_BEAT, Note, SongPlan

TRACK_NAMES = ("chords", "drums", "bass")
MIX_TRACKS = ("chords", "drums")  # what the mix audio holds; the bass is rendered alone


def _track(
    name: str, setup: list[mido.Message], notes: tuple[Note, ...], end_tick: int
) -> mido.MidiTrack:
    """A track: name and set-up messages at tick 0, then the notes, closed at `end_tick`."""
    # (tick, kind, channel, pitch, velocity); at equal ticks note-offs (kind 0) come before
    # note-ons (1), so a repeated note is released and struck again.
    events = sorted(
        [(n.start, 1, n.channel, n.pitch, n.velocity) for n in notes]
        + [(n.end, 0, n.channel, n.pitch, 0) for n in notes]
    )
    track = mido.MidiTrack([mido.MetaMessage("track_name", name=name, time=0), *setup])
    now = 0
    for tick, kind, channel, pitch, velocity in events:
        track.append(
            mido.Message(
                "note_on" if kind else "note_off",
                channel=channel,
                note=pitch,
                velocity=velocity,
                time=tick - now,
            )
        )
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=max(0, end_tick - now)))
    return track


def plan_to_midi(plan: SongPlan) -> mido.MidiFile:
    """The song as a type-1 MIDI file; tempo and time signature sit in the `chords` track."""
    chord_setup = [
        mido.MetaMessage("set_tempo", tempo=plan.tempo_us, time=0),
        mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0),
    ]
    channels = CHORD_CHANNELS[: len(plan.programs)]
    for channel, program, volume in zip(channels, plan.programs, plan.volumes, strict=True):
        chord_setup += [
            mido.Message("program_change", channel=channel, program=program, time=0),
            mido.Message("control_change", channel=channel, control=7, value=volume, time=0),
        ]
    bass_setup = [
        mido.Message("program_change", channel=BASS_CHANNEL, program=plan.bass_program, time=0)
    ]
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    midi.tracks += [
        _track("chords", chord_setup, plan.chord_notes, plan.n_ticks),
        _track("drums", [], plan.drum_notes, plan.n_ticks),
        _track("bass", bass_setup, plan.bass_notes, plan.n_ticks),
    ]
    return midi


def midi_to_bytes(midi: mido.MidiFile) -> bytes:
    """Serialise a MIDI file to the bytes of a .mid file."""
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()
