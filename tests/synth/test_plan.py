"""Song plans obey the paper's §5.1 rules and depend only on their seed."""

import dataclasses
import math
from collections import Counter

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
            assert math.isnan(plan.proportion) and plan.volumes == (127, 127)
        elif dataset == "A5":
            assert plan.programs == (pt.DRAWBAR_ORGAN, pt.ACOUSTIC_GUITAR, pt.ACOUSTIC_PIANO)
            assert all(c.program in plan.programs for c in plan.chords)
            assert math.isnan(plan.proportion) and plan.volumes == (127, 127, 127)
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


@pytest.mark.parametrize("dataset", ["A3", "A5"])
def test_alternating_instruments_switch_at_half_the_chord_changes(render_cfg, dataset):
    cfg = dataclasses.replace(render_cfg, seconds=60)
    changes = switches = 0
    for i in range(40):
        chords = make_plan(dataset, i, i, cfg).chords
        changes += len(chords) - 1
        switches += sum(a.program != b.program for a, b in zip(chords, chords[1:], strict=False))
    rate = switches / changes
    # binomial standard error at n ≈ 700 is ≈ 0.02
    assert abs(rate - 0.5) < 0.08, rate


ORGAN, GUITAR, PIANO = 16, 24, 0
OWN_PATTERN = {ORGAN: 1, GUITAR: 2, PIANO: 3}  # A5: organ root, guitar third, piano fifth


def a5_measures(cfg, songs=200):
    """(chord instrument, pattern) of every measure of A5's first `songs` songs."""
    return [
        (chord.program, pattern)
        for i in range(songs)
        for plan in [make_plan("A5", i, song_seed(1005, i), cfg)]
        for chord, pattern in zip(plan.chord_per_measure(), plan.patterns, strict=True)
    ]


def test_a5_pattern_is_the_chord_instruments_at_the_rule_probability(render_cfg):
    cfg = dataclasses.replace(render_cfg, seconds=30)
    assert cfg.instrument_rule_prob == 0.9  # params.yaml
    measures = a5_measures(cfg)
    counts = Counter(measures)
    share = sum(n for (program, p), n in counts.items() if OWN_PATTERN[program] == p) / len(
        measures
    )
    # ≈3800 measures, each independently on rule: binomial standard error ≈ 0.005
    assert abs(share - 0.9) < 0.02, share
    # every pattern occurs under every instrument, and each instrument is used about equally
    assert set(counts) == {(program, p) for program in OWN_PATTERN for p in (1, 2, 3)}
    for program in OWN_PATTERN:
        under = {p: counts[(program, p)] for p in (1, 2, 3)}
        assert abs(sum(under.values()) / len(measures) - 1 / 3) < 0.05, counts
        # off the rule, the two other patterns are equally likely
        off = [n for p, n in under.items() if p != OWN_PATTERN[program]]
        assert abs(off[0] - off[1]) < 0.5 * sum(off), counts


def test_a5_instrument_rule_probability_is_obeyed_at_its_ends(render_cfg):
    always = a5_measures(dataclasses.replace(render_cfg, instrument_rule_prob=1.0), songs=30)
    never = a5_measures(dataclasses.replace(render_cfg, instrument_rule_prob=0.0), songs=30)
    assert all(OWN_PATTERN[program] == p for program, p in always)
    assert all(OWN_PATTERN[program] != p for program, p in never)


def test_a5_switches_to_each_other_instrument_alike(render_cfg):
    cfg = dataclasses.replace(render_cfg, seconds=60, instrument_switch_prob=1.0)
    firsts, moves = Counter(), Counter()
    for i in range(60):
        chords = make_plan("A5", i, i, cfg).chords
        firsts[chords[0].program] += 1
        moves.update((a.program, b.program) for a, b in zip(chords, chords[1:], strict=False))
    assert set(firsts) == set(OWN_PATTERN)
    assert all(a != b for a, b in moves), "with instrument_switch_prob 1 every change switches"
    assert set(moves) == {(a, b) for a in OWN_PATTERN for b in OWN_PATTERN if a != b}
    for a in OWN_PATTERN:
        to = [n for (x, _), n in moves.items() if x == a]
        assert abs(to[0] - to[1]) < 0.3 * sum(to), moves


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
