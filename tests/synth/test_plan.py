"""Song plans obey the paper's §5.1 rules and depend only on their seed."""

import dataclasses

import numpy as np
import pytest

from bassnet.synth import patterns as pt
from bassnet.synth.plan import BEATS_PER_MEASURE, TICKS_PER_BEAT, make_plan, song_seed

SEEDS = range(12)


@pytest.mark.parametrize("dataset", list(pt.DATASETS))
def test_plan_ranges(dataset, render_cfg):
    for i in SEEDS:
        plan = make_plan(dataset, i, song_seed(5, i), render_cfg)
        lo, hi = render_cfg.tempo_bpm
        assert lo - 0.01 <= plan.tempo_bpm <= hi + 0.01
        measure_s = plan.duration_s / plan.n_measures
        assert abs(plan.duration_s - render_cfg.seconds) <= measure_s / 2 + 1e-9
        assert sum(c.measures for c in plan.chords) == plan.n_measures
        assert all(c.measures in render_cfg.chord_measures for c in plan.chords)
        assert all(
            render_cfg.root_range[0] <= c.root <= render_cfg.root_range[1] for c in plan.chords
        )
        # bass an octave below the chord root, up to its fifth (or a passing step above)
        chords = plan.chord_per_measure()
        for n in plan.bass_notes:
            root = chords[n.start // (BEATS_PER_MEASURE * TICKS_PER_BEAT)].root
            assert root - 12 <= n.pitch <= root - 12 + 7
        if dataset == "A3":
            assert plan.programs == (pt.DRAWBAR_ORGAN, pt.ACOUSTIC_GUITAR)
            assert all(c.program in plan.programs for c in plan.chords)
        else:
            assert len(set(plan.programs)) == 2
            assert set(plan.programs) <= set(pt.CHORD_PROGRAMS)
            assert lo <= plan.tempo_bpm and 0.2 <= plan.proportion <= 0.8


def test_same_seed_same_plan_other_seed_other_plan(render_cfg):
    assert make_plan("A2", 3, 99, render_cfg) == make_plan("A2", 3, 99, render_cfg)
    assert make_plan("A2", 3, 99, render_cfg) != make_plan("A2", 3, 100, render_cfg)


def test_song_seed_depends_on_index_not_on_count():
    seeds = [song_seed(7, i) for i in range(50)]
    assert len(set(seeds)) == 50
    assert song_seed(7, 3) == seeds[3]


def test_pattern_switch_probability(render_cfg):
    never = dataclasses.replace(render_cfg, pattern_switch_prob=0.0, seconds=30)
    always = dataclasses.replace(render_cfg, pattern_switch_prob=1.0, seconds=30)
    for i in SEEDS:
        assert len(set(make_plan("A4", i, i, never).patterns)) == 1
        p = make_plan("A4", i, i, always).patterns
        assert all(a != b for a, b in zip(p, p[1:], strict=False))


def test_a3_switches_instrument_at_half_the_chord_changes(render_cfg):
    cfg = dataclasses.replace(render_cfg, seconds=60)
    changes = switches = 0
    for i in range(40):
        chords = make_plan("A3", i, i, cfg).chords
        changes += len(chords) - 1
        switches += sum(a.program != b.program for a, b in zip(chords, chords[1:], strict=False))
    rate = switches / changes
    # binomial standard error at n ≈ 700 is ≈ 0.02
    assert abs(rate - 0.5) < 0.08, rate


def test_patterns_are_drawn_uniformly(render_cfg):
    cfg = dataclasses.replace(render_cfg, seconds=60)
    counts = np.zeros(6)
    for i in range(40):
        for p in make_plan("A4", i, i, cfg).patterns:
            counts[p] += 1
    share = counts[1:] / counts.sum()
    assert np.all(np.abs(share - 0.2) < 0.07), share


def test_unknown_dataset_is_an_error(render_cfg):
    with pytest.raises(ValueError, match="unknown dataset 'A7'"):
        make_plan("A7", 0, 0, render_cfg)
