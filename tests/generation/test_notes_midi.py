"""Frame curves → notes → MIDI, against curves whose notes are known."""

import mido
import numpy as np
import pytest

from bassnet.errors import ConfigError
from bassnet.generation.config import GenerateConfig
from bassnet.generation.curves import BassCurves
from bassnet.generation.midi_out import TICKS_PER_S, notes_to_midi
from bassnet.generation.notes import (
    curves_to_notes,
    generated_notes,
    hz_to_midi,
    velocity_from_db,
)


def midi_hz(pitch: float) -> float:
    return 440.0 * 2 ** ((pitch - 69) / 12)


def known_curves():
    """1 s of silence-free bass: E1 (28) for 0.3 s, A1 (33) +30 cents for 0.4 s, a 0.1 s gap,
    then A1 again re-struck at 0.8 s (an onset) for 0.2 s."""
    n = 100
    f0 = np.zeros(n)
    f0[0:30] = midi_hz(28)
    f0[30:70] = midi_hz(33.3)
    f0[80:100] = midi_hz(33)
    voicing = (f0 > 0).astype(np.float32)
    onset = np.zeros(n, dtype=np.float32)
    onset[[0, 30, 80]] = 0.9
    level = np.where(f0 > 0, -20.0, -100.0).astype(np.float32)
    return BassCurves(f0.astype(np.float32), voicing, level, onset)


def test_notes_start_at_onsets_and_end_where_the_bass_stops():
    notes = curves_to_notes(known_curves())
    assert [(n.start_s, n.end_s, n.pitch) for n in notes] == [
        (0.0, 0.3, 28), (0.3, 0.7, 33), (0.8, 1.0, 33),
    ]  # fmt: skip
    assert np.allclose(notes[1].bend, 0.3, atol=1e-4)  # the +30 cents are kept for pitch bend
    assert all(n.velocity == velocity_from_db(-20.0) for n in notes)


def test_a_legato_pitch_change_with_a_weak_onset_starts_a_note():
    curves = known_curves()
    curves.onset[:] = 0.0
    curves.onset[33] = 0.2  # below the peak picking's 0.5, 3 frames after the change
    notes = curves_to_notes(curves, legato_onset=0.1)
    assert [(n.start_s, n.pitch) for n in notes] == [(0.0, 28), (0.3, 33), (0.8, 33)]
    # weaker than legato_onset: no evidence of a new note
    curves.onset[33] = 0.05
    notes = curves_to_notes(curves, legato_onset=0.1)
    assert [(n.start_s, n.end_s, n.pitch) for n in notes] == [(0.0, 0.7, 33), (0.8, 1.0, 33)]


def test_a_wavering_f0_without_onset_is_no_new_note_unless_legato_onset_is_0():
    curves = known_curves()
    curves.onset[:] = 0.0
    curves.onset[[0, 80]] = 0.9
    # E1 wavers to B1 (a fifth up, as where the model is unsure of the pitch) for 8 frames
    curves.f0_hz[10:18] = midi_hz(35)
    notes = curves_to_notes(curves)
    assert [(n.start_s, n.pitch) for n in notes] == [(0.0, 33), (0.8, 33)]  # median pitch
    notes = curves_to_notes(curves, legato_onset=0.0)  # any held change starts a note
    assert [(n.start_s, n.pitch) for n in notes] == [
        (0.0, 28), (0.1, 35), (0.18, 28), (0.3, 33), (0.8, 33),
    ]  # fmt: skip


def test_generated_notes_take_the_settings_of_the_generate_section():
    curves = known_curves()
    curves.onset[:] = 0.0
    curves.onset[[0, 80]] = 0.9
    strict = GenerateConfig.from_params({"generate": {"legato_onset": 0.5}})
    assert [n.start_s for n in generated_notes(curves, strict)] == [0.0, 0.8]
    every = GenerateConfig.from_params({"generate": {"legato_onset": 0.0}})
    assert [n.start_s for n in generated_notes(curves, every)] == [0.0, 0.3, 0.8]
    with pytest.raises(ConfigError, match="legato_onset must be in"):
        GenerateConfig.from_params({"generate": {"legato_onset": 1.5}})


def test_a_voiced_flicker_shorter_than_min_frames_is_no_note():
    curves = known_curves()
    # 3 voiced frames with an onset in the 0.1 s gap: a click, not a note
    curves.f0_hz[72:75], curves.voicing[72:75], curves.onset[72] = midi_hz(40), 1.0, 0.9
    assert [n.start_s for n in curves_to_notes(curves, min_frames=5)] == [0.0, 0.3, 0.8]
    assert [n.start_s for n in curves_to_notes(curves, min_frames=3)] == [0.0, 0.3, 0.72, 0.8]


def test_silence_gives_no_notes_and_an_empty_midi_file(tmp_path):
    silent = BassCurves(*(np.zeros(50, dtype=np.float32) for _ in range(4)))
    assert curves_to_notes(silent) == []
    path = tmp_path / "empty.mid"
    notes_to_midi([], 0.5).save(path)
    parsed = mido.MidiFile(path)
    assert not [m for m in parsed if m.type == "note_on"]
    assert abs(parsed.length - 0.5) < 0.01


def test_midi_times_pitches_and_bends(tmp_path):
    path = tmp_path / "bass.mid"
    notes_to_midi(curves_to_notes(known_curves()), 1.0).save(path)
    parsed = mido.MidiFile(path)  # parses back: a valid file
    assert parsed.type == 1 and parsed.ticks_per_beat == 480
    now, ons, bends = 0.0, [], []
    for msg in parsed:  # iterating a MidiFile yields messages with times in seconds
        now += msg.time
        if msg.type == "note_on" and msg.velocity > 0:
            ons.append((round(now, 3), msg.note))
        if msg.type == "pitchwheel":
            bends.append(msg.pitch)
    assert ons == [(0.0, 28), (0.3, 33), (0.8, 33)]
    assert round(0.3 / 2 * 8192) in bends  # +0.3 semitone at a ±2 semitone bend range
    assert abs(parsed.length - 1.0) < 1.5 / TICKS_PER_S


def test_hz_to_midi():
    assert np.allclose(hz_to_midi(np.array([440.0, 55.0])), [69, 33])
    assert np.isnan(hz_to_midi(np.array([0.0]))[0])
