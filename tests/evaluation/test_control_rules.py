"""The control test's units: a pattern's prescription and the scores, against known truth."""

import numpy as np

from bassnet.constants import FRAME_RATE
from bassnet.evaluation.control_rules import expected_steps, pitch_score, rhythm_score
from bassnet.generation.curves import BassCurves
from bassnet.generation.notes import BassNote
from bassnet.synth.plan import make_plan


def curves_playing(steps, seconds: float) -> BassCurves:
    """Curves of a bass that plays exactly `steps` (each for its whole length)."""
    n = int(seconds * FRAME_RATE) + 1
    f0 = np.zeros(n, np.float32)
    for s in steps:
        a, b = round(s.start_s * FRAME_RATE), round((s.start_s + s.seconds) * FRAME_RATE)
        f0[a:b] = 440.0 * 2 ** ((s.pitch - 69) / 12)
    voiced = (f0 > 0).astype(np.float32)
    return BassCurves(f0, voiced, np.where(f0 > 0, -20.0, -100.0).astype(np.float32), voiced * 0)


def as_notes(steps):
    return [BassNote(s.start_s, s.start_s + s.seconds, s.pitch, 100, np.zeros(1)) for s in steps]


def test_pitch_score_is_one_for_the_pattern_and_low_for_the_others(render_cfg):
    plan = make_plan("A1", 0, 123, render_cfg)
    played = curves_playing(expected_steps(plan, 2), plan.duration_s)  # the thirds
    assert pitch_score(played, expected_steps(plan, 2)) == 1.0
    assert pitch_score(played, expected_steps(plan, 1)) == 0.0  # a third is never the root
    assert pitch_score(played, expected_steps(plan, 3)) == 0.0
    silent = curves_playing([], plan.duration_s)
    assert pitch_score(silent, expected_steps(plan, 1)) == 0.0


def test_rhythm_score_is_one_for_the_pattern_and_lower_for_the_others(render_cfg):
    plan = make_plan("A4", 0, 123, render_cfg)
    beat_s, beats = plan.tempo_us / 1e6, plan.n_measures * 4
    for p in range(1, 6):
        mine = as_notes(expected_steps(plan, p))
        assert rhythm_score(mine, expected_steps(plan, p), beat_s, beats) == 1.0
    # pattern 4 plays eighths, pattern 5 one quarter per measure: they share no beat
    assert rhythm_score(as_notes(expected_steps(plan, 4)), expected_steps(plan, 5), beat_s,
                        beats) == 0.0  # fmt: skip
