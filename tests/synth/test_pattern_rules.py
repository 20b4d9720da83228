"""The written MIDI obeys each dataset's bass-pattern rules (paper §5.1).

The test reads the MIDI file back with mido and re-derives, measure by measure, what the bass
must play from what the file itself says: the chord from the `chords` track, the instrument
from the channel playing it (A3, A5), the bass drums from the `drums` track (A4), and the pattern
from the labels. The rules are written here independently of `bassnet.synth.patterns`.
"""

import io
from collections import defaultdict

import mido
import pytest

from bassnet.synth.labels import frame_labels
from bassnet.synth.midi import midi_to_bytes, plan_to_midi
from bassnet.synth.plan import make_plan, song_seed

TPB = 480
BAR = 4 * TPB
STEPS = {"major": [2, 2, 1, 2, 2, 2, 1], "minor": [2, 1, 2, 2, 1, 2, 2]}
ORGAN, GUITAR, PIANO = 16, 24, 0
KICK, SNARE, HAT = 36, 38, 42


def read_midi(data: bytes):
    """Notes per track name as (start tick, pitch, channel), and programs per channel."""
    midi = mido.MidiFile(file=io.BytesIO(data))
    notes, programs = defaultdict(list), {}
    for track in midi.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "note_on" and msg.velocity > 0:
                notes[track.name].append((tick, msg.note, msg.channel))
            elif msg.type == "program_change":
                programs[msg.channel] = msg.program
    return midi, notes, programs


def scale_pcs(tonic, mode):
    pcs, pc = [], tonic
    for step in STEPS[mode]:
        pcs.append(pc % 12)
        pc += step
    return pcs


def expected_bass(dataset, pattern, chord, quality, program, kick_beats, tonic, mode):
    """(beat, pitch) pairs the bass must play in a measure, from the rules of §5.1."""
    root, third, fifth = chord
    scale = scale_pcs(tonic, mode)
    step = scale.index(root % 12)

    def degree(d):  # diatonic degree above the root, bass octave
        interval = 0
        for k in range(d - 1):
            interval += (scale[(step + k + 1) % 7] - scale[(step + k) % 7]) % 12
        return root - 12 + interval

    assert degree(3) == third - 12 and degree(5) == fifth - 12  # root position triad
    if dataset in ("A1", "A5"):  # A5 plays A1's patterns
        return [(b, degree((1, 3, 5)[pattern - 1])) for b in range(4)]
    if dataset == "A2":
        minor = quality in ("minor", "diminished")
        d = 1 if minor == (pattern == 1) else 5
        return [(b, degree(d)) for b in range(4)]
    if dataset == "A3":
        d = 1 if (program == GUITAR) == (pattern == 1) else 5
        return [(b, degree(d)) for b in range(4)]
    # A4: patterns 1/2 follow the drums: bass-drum beats vs snare beats
    if pattern in (1, 2):
        on_kick, on_snare = (1, 5) if pattern == 1 else (5, 1)
        return [(b, degree(on_kick if b in kick_beats else on_snare)) for b in range(4)]
    if pattern == 3:
        return [(b, degree(d)) for b, d in enumerate((1, 3, 5, 3))]
    if pattern == 4:
        return [(b / 2, degree(d)) for b, d in enumerate((1, 2, 3, 4, 5, 4, 3, 2))]
    return [(0, degree(1))]


def quality_of(chord):
    root, third, fifth = chord
    return {(4, 7): "major", (3, 7): "minor", (3, 6): "diminished"}[(third - root, fifth - root)]


@pytest.mark.parametrize("dataset", ["A1", "A2", "A3", "A4", "A5"])
def test_bass_follows_the_labelled_pattern(dataset, render_cfg):
    seen_patterns, seen_qualities = set(), set()
    on_rule = measures = 0  # A5: measures whose pattern is their chord instrument's
    for i in range(8):
        plan = make_plan(dataset, i, song_seed(11, i), render_cfg)
        labels = frame_labels(plan)
        midi, notes, programs = read_midi(midi_to_bytes(plan_to_midi(plan)))
        assert [t.name for t in midi.tracks] == ["chords", "drums", "bass"]
        assert {ch for _, _, ch in notes["drums"]} == {9}
        measure_s = plan.duration_s / plan.n_measures
        for m in range(plan.n_measures):

            def in_bar(track, m=m, notes=notes):
                """Notes of `track` in measure m, ticks relative to its start."""
                return sorted(
                    (t - m * BAR, p, ch)
                    for t, p, ch in notes[track]
                    if m * BAR <= t < (m + 1) * BAR
                )

            chord_notes = [(p, ch) for t, p, ch in in_bar("chords") if t == 0]
            chord = tuple(sorted({p for p, _ in chord_notes}))
            channels = {ch for _, ch in chord_notes}
            # every quarter note strikes the same triad
            assert {t for t, _, _ in in_bar("chords")} == {0, TPB, 2 * TPB, 3 * TPB}
            if dataset == "A3":
                assert len(channels) == 1, "A3 plays one chord instrument at a time"
                program = programs[channels.pop()]
                assert program in (ORGAN, GUITAR)
            elif dataset == "A5":
                assert len(channels) == 1, "A5 plays one chord instrument at a time"
                # each instrument on a channel of its own, none on the bass's or the drums'
                assert {programs[ch] for ch in (0, 1, 3)} == {ORGAN, GUITAR, PIANO}
                program = programs[channels.pop()]
                assert program in (ORGAN, GUITAR, PIANO)
            else:
                assert channels == {0, 1}
                program = None
            drums = in_bar("drums")
            kicks = [t / TPB for t, p, _ in drums if p == KICK]
            assert [t / TPB for t, p, _ in drums if p == HAT] == [b / 2 for b in range(8)]
            assert [t / TPB for t, p, _ in drums if p == SNARE] == [1, 3]
            assert kicks == ([0, 2, 2.5] if dataset == "A4" else [0, 2])
            frame = round((m + 0.5) * measure_s * 100)
            pattern = int(labels["pattern"][frame])
            quality = quality_of(chord)
            kick_beats = {int(k) for k in kicks if k == int(k)}  # beats a bass drum starts
            want = expected_bass(
                dataset, pattern, chord, quality, program, kick_beats, plan.tonic, plan.mode
            )
            got = [(t / TPB, p) for t, p, _ in in_bar("bass")]
            assert got == want, (dataset, i, m, pattern, chord, program)
            seen_patterns.add(pattern)
            seen_qualities.add(quality)
            if dataset == "A5":  # organ root, guitar third, piano fifth
                on_rule += pattern == {ORGAN: 1, GUITAR: 2, PIANO: 3}[program]
                measures += 1
    assert len(seen_patterns) == {"A1": 3, "A2": 2, "A3": 2, "A4": 5, "A5": 3}[dataset]
    if dataset == "A5":
        assert on_rule / measures > 0.75, (on_rule, measures)  # 0.9 expected
    assert {"major", "minor"} <= seen_qualities
