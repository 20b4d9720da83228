"""Song plans: everything one artificial song plays, drawn from its seed (paper §5.1; A5). Pure.

A plan is the single source of truth for a song: the MIDI file is written from it, and so are
the per-frame labels, so audio and labels cannot drift apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bassnet.config import RenderConfig
from bassnet.synth import patterns as pt
from bassnet.synth.theory import SCALES, Mode, degree_interval, triad_pitches, triad_quality

TICKS_PER_BEAT = 480  # MIDI time base; all note times are whole ticks
BEATS_PER_MEASURE = 4  # 4/4 throughout
BASS_CHANNEL, DRUM_CHANNEL = 2, 9
# MIDI channels of chord instruments 0, 1 and (A5) 2: one each, skipping the bass's
CHORD_CHANNELS = (0, 1, 3)


@dataclass(frozen=True)
class Chord:
    """A chord held for `measures` whole measures from measure `start`."""

    start: int
    measures: int
    step: int  # scale step (0-based) of the root within the key
    root: int  # MIDI pitch of the root
    quality: str  # "major", "minor" or "diminished"
    program: int  # A3, A5: GM program of the one instrument playing it; -1 when both play


@dataclass(frozen=True)
class Note:
    """A MIDI note in ticks (`end` exclusive) on a channel."""

    start: int
    end: int
    pitch: int
    velocity: int
    channel: int


@dataclass(frozen=True)
class SongPlan:
    """One song of an artificial dataset."""

    dataset: str
    track_id: str
    seed: int
    tonic: int  # pitch class, 0 = C
    mode: Mode
    tempo_us: int  # microseconds per quarter note, as stored in MIDI
    programs: tuple[int, ...]  # GM programs of the chord instruments (2; A5: 3), CHORD_CHANNELS
    volumes: tuple[int, ...]  # their MIDI channel volumes (CC 7)
    proportion: float  # share of chord instrument 0 in the mix (NaN in A3 and A5)
    n_measures: int
    chords: tuple[Chord, ...]
    patterns: tuple[int, ...]  # bass pattern (1-based) per measure
    chord_notes: tuple[Note, ...]
    drum_notes: tuple[Note, ...]
    bass_notes: tuple[Note, ...]
    bass_program: int

    @property
    def tempo_bpm(self) -> float:
        """Tempo in quarter notes per minute."""
        return 60e6 / self.tempo_us

    @property
    def n_ticks(self) -> int:
        """Song length in ticks."""
        return self.n_measures * BEATS_PER_MEASURE * TICKS_PER_BEAT

    @property
    def duration_s(self) -> float:
        """Song length in seconds (whole measures)."""
        return self.ticks_to_seconds(self.n_ticks)

    def ticks_to_seconds(self, ticks: int | np.ndarray) -> float | np.ndarray:
        """Convert ticks to seconds at the song's constant tempo."""
        return ticks * self.tempo_us / (1e6 * TICKS_PER_BEAT)

    def chord_per_measure(self) -> list[Chord]:
        """The chord sounding in each measure."""
        return chords_per_measure(self.chords)


def chords_per_measure(chords: list[Chord] | tuple[Chord, ...]) -> list[Chord]:
    """Expand chords into the chord of each measure."""
    return [c for c in chords for _ in range(c.measures)]


def song_seed(dataset_seed: int, index: int) -> int:
    """Seed of song `index` of a dataset: independent of how many songs are rendered."""
    return int(np.random.SeedSequence(dataset_seed, spawn_key=(index,)).generate_state(1)[0])


def track_id(dataset: str, index: int) -> str:
    """Identifier of song `index`, e.g. `A1_00042`."""
    return f"{dataset}_{index:05d}"


def _draw_chords(
    rng: np.random.Generator,
    cfg: RenderConfig,
    tonic: int,
    mode: Mode,
    n_measures: int,
    alternating: tuple[int, ...],
) -> list[Chord]:
    """The song's chords; where instruments alternate (A3, A5), each chord's instrument: the
    first drawn uniformly, then at each chord change, with probability
    cfg.instrument_switch_prob, another one, uniformly."""
    chords: list[Chord] = []
    program = int(rng.choice(list(alternating))) if alternating else -1
    measure = 0
    while measure < n_measures:
        step = int(rng.integers(7))
        length = min(int(rng.choice(cfg.chord_measures)), n_measures - measure)
        pitch_class = (tonic + SCALES[mode][step]) % 12
        lo, hi = cfg.root_range
        roots = [p for p in range(lo, hi + 1) if p % 12 == pitch_class]
        if not roots:
            raise ValueError(f"root_range {cfg.root_range} spans less than an octave")
        root = int(rng.choice(roots))
        if alternating and chords and rng.random() < cfg.instrument_switch_prob:
            others = [p for p in alternating if p != program]
            # one other (A3) is no draw, so A3's random numbers stay what they always were
            program = others[0] if len(others) == 1 else int(rng.choice(others))
        chords.append(Chord(measure, length, step, root, triad_quality(mode, step), program))
        measure += length
    return chords


def _draw_patterns(
    rng: np.random.Generator, n_patterns: int, n_measures: int, switch_prob: float
) -> list[int]:
    patterns = [int(rng.integers(1, n_patterns + 1))]
    for _ in range(n_measures - 1):
        current = patterns[-1]
        if n_patterns > 1 and rng.random() < switch_prob:
            others = [p for p in range(1, n_patterns + 1) if p != current]
            current = int(rng.choice(others))
        patterns.append(current)
    return patterns


def _draw_instrument_patterns(
    rng: np.random.Generator, chords: list[Chord], rule_prob: float
) -> list[int]:
    """A5: per measure, its chord instrument's pattern (`pt.INSTRUMENT_PATTERNS`) with
    probability `rule_prob`, else one of the other patterns, uniformly."""
    n_patterns = len(pt.INSTRUMENT_PATTERNS)
    patterns = []
    for chord in chords_per_measure(chords):
        own = pt.INSTRUMENT_PATTERNS[chord.program]
        if rng.random() < rule_prob:
            patterns.append(own)
        else:
            patterns.append(int(rng.choice([p for p in range(1, n_patterns + 1) if p != own])))
    return patterns


def make_plan(dataset: str, index: int, seed: int, cfg: RenderConfig) -> SongPlan:
    """Draw song `index` of `dataset` from its `seed` (see `song_seed`)."""
    if dataset not in pt.DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; known: {', '.join(pt.DATASETS)}")
    spec = pt.DATASETS[dataset]
    rng = np.random.default_rng(seed)

    tonic = int(rng.integers(12))
    mode: Mode = "major" if rng.random() < 0.5 else "minor"
    tempo_us = round(60e6 / rng.uniform(*cfg.tempo_bpm))
    measure_s = BEATS_PER_MEASURE * tempo_us / 1e6
    n_measures = max(1, round(cfg.seconds / measure_s))

    programs: tuple[int, ...]
    if spec.alternating_instruments:  # one at a time, each at full channel volume
        programs = spec.alternating_instruments
        proportion, volumes = math.nan, (127,) * len(programs)
    else:
        programs = tuple(int(p) for p in rng.choice(pt.CHORD_PROGRAMS, size=2, replace=False))
        proportion = float(rng.uniform(*cfg.proportion_range))
        # The louder instrument plays at full channel volume, the other in proportion.
        louder = max(proportion, 1 - proportion)
        volumes = (round(127 * proportion / louder), round(127 * (1 - proportion) / louder))

    chords = _draw_chords(rng, cfg, tonic, mode, n_measures, spec.alternating_instruments)
    if spec.instrument_rule:
        patterns = _draw_instrument_patterns(rng, chords, cfg.instrument_rule_prob)
    else:
        patterns = _draw_patterns(rng, spec.n_patterns, n_measures, cfg.pattern_switch_prob)

    def note(beat: float, beats: float, pitch: int, velocity: int, channel: int) -> Note:
        start = round(beat * TICKS_PER_BEAT)
        return Note(
            start, start + round(beats * cfg.gate * TICKS_PER_BEAT), pitch, velocity, channel
        )

    vel = cfg.velocity
    chord_notes, drum_notes, bass_notes = [], [], []
    for m, (chord, pattern) in enumerate(zip(chords_per_measure(chords), patterns, strict=True)):
        bar = m * BEATS_PER_MEASURE
        channels = [0, 1] if chord.program < 0 else [CHORD_CHANNELS[programs.index(chord.program)]]
        for beat in range(BEATS_PER_MEASURE):  # each chord struck on every quarter note
            for pitch in triad_pitches(chord.root, mode, chord.step):
                chord_notes += [note(bar + beat, 1, pitch, vel["chords"], ch) for ch in channels]
        for beat, key in pt.drum_hits(dataset):
            drum_notes.append(note(bar + beat, 0.5, key, vel["drums"], DRUM_CHANNEL))
        for step in pt.bass_steps(dataset, pattern, chord.quality, chord.program):
            # The bass plays in the octave below the chord root.
            pitch = chord.root - 12 + degree_interval(mode, chord.step, step.degree)
            bass_notes.append(note(bar + step.beat, step.beats, pitch, vel["bass"], BASS_CHANNEL))

    return SongPlan(
        dataset=dataset,
        track_id=track_id(dataset, index),
        seed=seed,
        tonic=tonic,
        mode=mode,
        tempo_us=tempo_us,
        programs=programs,
        volumes=volumes,
        proportion=proportion,
        n_measures=n_measures,
        chords=tuple(chords),
        patterns=tuple(patterns),
        chord_notes=tuple(chord_notes),
        drum_notes=tuple(drum_notes),
        bass_notes=tuple(bass_notes),
        bass_program=cfg.bass_program,
    )
