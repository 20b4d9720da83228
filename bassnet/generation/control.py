"""Does the latent control work? (issue: generation §4; paper Figs. 7–8)

For a dataset whose songs follow known bass patterns:
1. µ of the windows of `songs` held-out songs (new seeds, rendered with FluidSynth like the
   dataset), and its centroid for each pattern. The default profile's validation split has
   two songs, too few: their centroids sat off where other songs put the same pattern (an A4
   model generated from its control song's own µ played 73/70/61% of patterns 1–3's beats,
   and at the validation centroids 0%);
2. `test_songs` other new songs of the dataset (seeds no dataset song uses), their mixes
   rendered with FluidSynth; one song is too few: an A4 model scored 82% on one 30-s song
   and 45% over five, another 52% and 63%;
3. a bass generated at each pattern's centroid for each of them, scored against what that
   pattern plays over the song's chords and drums, and averaged over the songs:
   - pitch (harmony datasets A1–A3): the generated pitch class at each bass step (the median f0
     over its first half) equals the step's chord degree (root, third or fifth);
   - rhythm (A4): per beat, the generated note starts, snapped to the eighth-note grid
     (±50 ms), are exactly the pattern's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bassnet.constants import FRAME_RATE
from bassnet.generation.curves import BassCurves
from bassnet.generation.notes import BassNote, hz_to_midi

# Beyond any dataset's song count: songs no model has seen. The test songs count down from
# here (the first is the one whose bass is kept and drawn), the held-out songs up from here + 1.
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


def pitch_score(curves: BassCurves, steps: list[Step]) -> float:
    """Share of steps whose generated pitch class (median f0 over the step's first half, from
    30 ms in) is the expected one; an unvoiced step counts as a miss."""
    pitch = hz_to_midi(curves.f0_hz)
    hits = 0
    for step in steps:
        a = round((step.start_s + 0.03) * FRAME_RATE)
        b = max(a + 1, round((step.start_s + step.seconds / 2) * FRAME_RATE))
        sounding = pitch[a:b][~np.isnan(pitch[a:b])]
        if len(sounding) * 2 > b - a:
            hits += int(round(float(np.median(sounding))) % 12 == step.pitch % 12)
    return hits / max(len(steps), 1)


def rhythm_score(notes: list[BassNote], steps: list[Step], beat_s: float, n_beats: int,
                 tolerance_s: float = 0.05) -> float:  # fmt: skip
    """Share of beats whose generated note starts, snapped to eighth notes (within
    `tolerance_s`), are exactly the expected ones."""

    def grid(times) -> dict[int, set[int]]:
        per_beat: dict[int, set[int]] = {}
        for t in times:
            eighth = round(t / (beat_s / 2))
            if abs(t - eighth * beat_s / 2) <= tolerance_s:
                per_beat.setdefault(eighth // 2, set()).add(eighth % 2)
        return per_beat

    want, got = grid([s.start_s for s in steps]), grid([n.start_s for n in notes])
    return sum(want.get(b, set()) == got.get(b, set()) for b in range(n_beats)) / max(n_beats, 1)


def score_kind(dataset: str) -> str:
    """How a generated bass is scored for `dataset`: "rhythm" where its patterns differ in
    rhythm (A4, the one with the double kick), else "pitch"."""
    from bassnet.synth import patterns as pt

    return "rhythm" if pt.DATASETS[dataset].double_kick else "pitch"


def pattern_score(plan, pattern: int, curves: BassCurves, notes: list[BassNote],
                  steps: list[Step] | None = None) -> float:  # fmt: skip
    """A generated bass's score against `pattern` over `plan`'s song: `rhythm_score` where the
    dataset's patterns differ in rhythm (A4), else `pitch_score`; `steps`: the pattern's
    `expected_steps`, if already at hand."""
    from bassnet.synth.plan import BEATS_PER_MEASURE

    steps = expected_steps(plan, pattern) if steps is None else steps
    if score_kind(plan.dataset) == "rhythm":
        beats = plan.n_measures * BEATS_PER_MEASURE
        return rhythm_score(notes, steps, plan.tempo_us / 1e6, beats)
    return pitch_score(curves, steps)


def pattern_centroids(mu: np.ndarray, labels: np.ndarray) -> dict[int, np.ndarray]:
    """Mean µ (latent_dim,) of the windows of each pattern (labels ≥ 1)."""
    return {int(p): mu[labels == p].mean(0) for p in np.unique(labels) if p >= 1}


def heldout_centroids(model, dataset: str, render_cfg, seed: int, songs: int,
                      renderer) -> dict[int, np.ndarray]:  # fmt: skip
    """Step 1: the centroid of µ (latent_dim,) per pattern over `songs` new songs of
    `dataset` (indices after the control song's), their windows every b/2 frames labelled by
    the pattern at their centre."""
    from bassnet.encode import encode_track
    from bassnet.features.audio import resample, to_mono
    from bassnet.features.cqt import GroupedCQT
    from bassnet.synth.dataset import render_song
    from bassnet.synth.labels import frame_labels
    from bassnet.synth.midi import MIX_TRACKS

    cqt = GroupedCQT()
    mus, labels = [], []
    for index in range(CONTROL_SONG_INDEX + 1, CONTROL_SONG_INDEX + 1 + songs):
        plan, _, audio = render_song(dataset, index, seed, render_cfg, renderer,
                                     (MIX_TRACKS, ("bass",)))  # fmt: skip
        mix, bass = (cqt(resample(to_mono(a), render_cfg.sample_rate)) for a in audio)
        times, mu, _ = encode_track(model, mix, bass)
        pattern = frame_labels(plan)["pattern"]
        mus.append(mu)
        labels.append(
            pattern[np.minimum(np.rint(times * FRAME_RATE).astype(int), len(pattern) - 1)]
        )
    return pattern_centroids(np.concatenate(mus), np.concatenate(labels))


def control_check(
    model_path: str | Path, dataset: str, render_cfg, seed: int, songs: int,
    out_dir: str | Path, figure: str | Path | None = None, cfg=None, test_songs: int = 5,
) -> dict:  # fmt: skip
    """Steps 1–3 above for one model, the centroids from `songs` held-out songs, the scores
    over `test_songs` new songs; writes the first test song's mix and each bass generated for
    it to `out_dir` (and the figure to `figure`); returns {"kind", "centroids", "scores"
    {pattern: mean share}, "mean", "songs" [{"index", "tempo_bpm", "scores"}]}."""
    import tempfile

    from bassnet.generation.config import GenerateConfig
    from bassnet.model import BassNet
    from bassnet.synth.fluidsynth_render import FluidRenderer

    model = BassNet.load(model_path)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    renderer = FluidRenderer(render_cfg.soundfont, render_cfg.sample_rate, render_cfg.gain,
                             render_cfg.effects)  # fmt: skip
    per_song, panels = [], {}
    try:
        centroids = heldout_centroids(model, dataset, render_cfg, seed, songs, renderer)
        with tempfile.TemporaryDirectory() as scratch:
            for k in range(test_songs):
                index = CONTROL_SONG_INDEX - k
                folder = out_dir if k == 0 else Path(scratch)  # the others are only scored
                plan, scores, drawn = _generate_and_score(
                    model_path, dataset, index, seed, render_cfg, renderer, centroids,
                    folder, cfg or GenerateConfig(),
                )  # fmt: skip
                if k == 0:  # the figure shows the first song
                    panels = drawn
                tempo = round(60e6 / plan.tempo_us, 1)
                per_song.append({"index": index, "tempo_bpm": tempo, "scores": scores})
    finally:
        renderer.close()
    kind = score_kind(dataset)
    if figure is not None:
        from bassnet.figures import control_figure

        what = {"rhythm": "beats with the pattern's onsets",
                "pitch": "steps on the pattern's degree"}[kind]  # fmt: skip
        control_figure(panels, f"{dataset}: bass generated at each pattern's centroid of µ "
                       f"({what}; the first of {test_songs} test songs)", figure)  # fmt: skip
    scores = {p: float(np.mean([s["scores"][p] for s in per_song])) for p in centroids}
    return {
        "kind": kind,
        "centroids": {p: [round(float(v), 4) for v in z] for p, z in centroids.items()},
        "scores": scores,
        "mean": float(np.mean(list(scores.values()))) if scores else float("nan"),
        "songs": per_song,
    }


def _generate_and_score(model_path, dataset: str, index: int, seed: int, render_cfg, renderer,
                        centroids: dict, folder: Path, cfg) -> tuple:  # fmt: skip
    """Steps 2–3 for one test song: its mix rendered to `folder`, a bass generated there at
    each centroid and scored; returns the song's plan, {pattern: score} and the figure's
    panels."""
    import soundfile as sf

    from bassnet.generation.pipeline import generate_files
    from bassnet.synth.dataset import render_song
    from bassnet.synth.midi import MIX_TRACKS

    plan, _, (mix,) = render_song(dataset, index, seed, render_cfg, renderer, (MIX_TRACKS,))
    mix_path = folder / f"{dataset}_control.mix.wav"
    sf.write(mix_path, mix, render_cfg.sample_rate, subtype="PCM_16")
    scores, panels = {}, {}
    for p, z in centroids.items():
        stem = folder / f"{dataset}_control.pattern{p}"
        result = generate_files(mix_path, stem, model_path, z=z, cfg=cfg, progress=False)
        curves, notes = result.curves, result.bass_notes
        steps = expected_steps(plan, p)
        scores[p] = pattern_score(plan, p, curves, notes, steps)
        times = np.arange(len(curves)) / FRAME_RATE
        panels[f"pattern {p} at z = ({z[0]:.2f}, {z[1]:.2f}): {scores[p]:.0%}"] = (
            times, hz_to_midi(curves.f0_hz), np.array([n.start_s for n in notes]),
            [(s.start_s, s.seconds, s.pitch) for s in steps],
        )  # fmt: skip
    return plan, scores, panels
