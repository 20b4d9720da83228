"""What a bass pattern prescribes over a song, and how a generated bass is scored against it:
the units of the control test (`bassnet.evaluation.control_test`).

- pitch (harmony datasets A1–A3, and A5 as A1): the generated pitch class at each bass step
  (the median f0 over its first half) equals the step's chord degree (root, third or fifth);
- rhythm (A4): per beat, the generated note starts, snapped to the eighth-note grid (±50 ms),
  are exactly the pattern's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bassnet.constants import FRAME_RATE
from bassnet.generation.curves import BassCurves
from bassnet.generation.notes import BassNote, hz_to_midi

# Song indices beyond any dataset's song count and its test split, for analyses that render
# songs of their own (experiments/): songs no model has seen.
CONTROL_SONG_INDEX = 100_000


@dataclass(frozen=True)
class Step:
    """One expected bass note: start in s, length in s, MIDI pitch, beat index in the song."""

    start_s: float
    seconds: float
    pitch: int
    beat: int


def expected_steps(plan, pattern: int) -> list[Step]:
    """The bass `pattern` would play over `plan`'s chords, as in the dataset's renderer."""
    from bassnet.synth import patterns as pt
    from bassnet.synth.plan import BEATS_PER_MEASURE, TICKS_PER_BEAT
    from bassnet.synth.theory import degree_interval

    steps = []
    for m, chord in enumerate(plan.chord_per_measure()):
        for s in pt.bass_steps(plan.dataset, pattern, chord.quality, chord.program):
            beat = m * BEATS_PER_MEASURE + s.beat
            steps.append(
                Step(
                    float(plan.ticks_to_seconds(round(beat * TICKS_PER_BEAT))),
                    float(plan.ticks_to_seconds(round(s.beats * TICKS_PER_BEAT))),
                    chord.root - 12 + degree_interval(plan.mode, chord.step, s.degree),
                    int(beat),
                )
            )
    return steps


def pitch_hits(curves: BassCurves, steps: list[Step]) -> np.ndarray:
    """Per step (bool): is the generated pitch class (median f0 over the step's first half,
    from 30 ms in) the expected one? An unvoiced step is a miss."""
    pitch = hz_to_midi(curves.f0_hz)
    hits = np.zeros(len(steps), dtype=bool)
    for i, step in enumerate(steps):
        a = round((step.start_s + 0.03) * FRAME_RATE)
        b = max(a + 1, round((step.start_s + step.seconds / 2) * FRAME_RATE))
        sounding = pitch[a:b][~np.isnan(pitch[a:b])]
        if len(sounding) * 2 > b - a:
            hits[i] = round(float(np.median(sounding))) % 12 == step.pitch % 12
    return hits


def pitch_score(curves: BassCurves, steps: list[Step]) -> float:
    """Share of steps whose generated pitch class is the expected one (`pitch_hits`)."""
    return float(pitch_hits(curves, steps).mean()) if steps else 0.0


def rhythm_hits(notes: list[BassNote], steps: list[Step], beat_s: float, n_beats: int,
                tolerance_s: float = 0.05) -> np.ndarray:  # fmt: skip
    """Per beat (bool, `n_beats`): are the generated note starts, snapped to eighth notes
    (within `tolerance_s`), exactly the expected ones?"""

    def grid(times) -> dict[int, set[int]]:
        per_beat: dict[int, set[int]] = {}
        for t in times:
            eighth = round(t / (beat_s / 2))
            if abs(t - eighth * beat_s / 2) <= tolerance_s:
                per_beat.setdefault(eighth // 2, set()).add(eighth % 2)
        return per_beat

    want, got = grid([s.start_s for s in steps]), grid([n.start_s for n in notes])
    return np.array([want.get(b, set()) == got.get(b, set()) for b in range(n_beats)], dtype=bool)


def rhythm_score(notes: list[BassNote], steps: list[Step], beat_s: float, n_beats: int,
                 tolerance_s: float = 0.05) -> float:  # fmt: skip
    """Share of beats whose generated note starts are exactly the expected ones
    (`rhythm_hits`)."""
    hits = rhythm_hits(notes, steps, beat_s, n_beats, tolerance_s)
    return float(hits.mean()) if len(hits) else 0.0


def score_kind(dataset: str) -> str:
    """How a generated bass is scored for `dataset`: "rhythm" where its patterns differ in
    rhythm (A4, the one with the double kick), else "pitch"."""
    from bassnet.synth import patterns as pt

    return "rhythm" if pt.DATASETS[dataset].double_kick else "pitch"


def pattern_hits(plan, pattern: int, curves: BassCurves, notes: list[BassNote],
                 steps: list[Step] | None = None) -> np.ndarray:  # fmt: skip
    """A generated bass against `pattern` over `plan`'s song, one bool per unit scored:
    `rhythm_hits` per beat where the dataset's patterns differ in rhythm (A4), else
    `pitch_hits` per step; `steps`: the pattern's `expected_steps`, if already at hand."""
    from bassnet.synth.plan import BEATS_PER_MEASURE

    steps = expected_steps(plan, pattern) if steps is None else steps
    if score_kind(plan.dataset) == "rhythm":
        beats = plan.n_measures * BEATS_PER_MEASURE
        return rhythm_hits(notes, steps, plan.tempo_us / 1e6, beats)
    return pitch_hits(curves, steps)


def pattern_score(plan, pattern: int, curves: BassCurves, notes: list[BassNote],
                  steps: list[Step] | None = None) -> float:  # fmt: skip
    """The share of `pattern_hits`."""
    hits = pattern_hits(plan, pattern, curves, notes, steps)
    return float(hits.mean()) if len(hits) else 0.0


def pattern_centroids(mu: np.ndarray, labels: np.ndarray) -> dict[int, np.ndarray]:
    """Mean µ (latent_dim,) of the windows of each pattern (labels ≥ 1)."""
    return {int(p): mu[labels == p].mean(0) for p in np.unique(labels) if p >= 1}
