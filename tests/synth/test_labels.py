"""Per-frame labels agree with the song plan's notes and measures."""

import numpy as np

from bassnet.constants import FRAME_RATE, n_frames
from bassnet.synth.labels import SILENT, frame_labels
from bassnet.synth.plan import make_plan


def test_labels_match_the_notes(render_cfg):
    for i in range(6):
        plan = make_plan("A4", i, 100 + i, render_cfg)
        labels = frame_labels(plan)
        count = n_frames(plan.duration_s)
        assert all(len(v) == count for v in labels.values())
        times = np.arange(count) / FRAME_RATE
        expected = np.full(count, SILENT)
        for note in plan.bass_notes:
            start, end = plan.ticks_to_seconds(note.start), plan.ticks_to_seconds(note.end)
            expected[(times >= start) & (times < end)] = note.pitch
        np.testing.assert_array_equal(labels["bass_pitch"], expected)
        assert labels["bass_onset"].sum() == len(plan.bass_notes)
        onset_times = np.flatnonzero(labels["bass_onset"]) / FRAME_RATE
        starts = [plan.ticks_to_seconds(n.start) for n in plan.bass_notes]
        np.testing.assert_allclose(onset_times, starts, atol=0.5 / FRAME_RATE)


def test_pattern_and_chord_labels_change_only_at_measure_boundaries(render_cfg):
    plan = make_plan("A1", 0, 3, render_cfg)
    labels = frame_labels(plan)
    measure_frames = plan.duration_s / plan.n_measures * FRAME_RATE
    for key in ("pattern", "chord_root", "chord_quality"):
        changes = np.flatnonzero(np.diff(labels[key])) + 1
        # a change falls on the first frame at or after a measure start
        offsets = changes / measure_frames - np.floor(changes / measure_frames)
        assert np.all(offsets < 1 / measure_frames + 1e-9), key
    assert set(np.unique(labels["chord_instrument"])) == {-1}


def test_chord_instrument_is_the_plans_instrument_of_each_measure(render_cfg):
    for dataset in ("A3", "A5"):
        for i in range(6):
            plan = make_plan(dataset, i, 200 + i, render_cfg)
            labels = frame_labels(plan)
            measure_frames = plan.duration_s / plan.n_measures * FRAME_RATE
            for m, chord in enumerate(plan.chord_per_measure()):
                # the frames well inside measure m
                a, b = round((m + 0.05) * measure_frames), round((m + 0.95) * measure_frames)
                assert set(labels["chord_instrument"][a:b]) == {chord.program}, (dataset, i, m)
                assert set(labels["pattern"][a:b]) == {plan.patterns[m]}
            assert set(labels["chord_instrument"]) <= set(plan.programs)
