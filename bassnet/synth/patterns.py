"""What the bass and the drums play in one 4/4 measure, for each artificial dataset (paper §5.1,
and A5, this project's own).

A pattern maps the measure's context (chord quality, chord instrument) to bass steps: a start
and a length in beats and a chord degree (1 root, 3 third, 5 fifth; 2 and 4 passing steps).
Patterns are numbered from 1, as in the paper.
"""

from __future__ import annotations

from dataclasses import dataclass

# General MIDI programs, 0-based as stored in MIDI files (GM's own list counts from 1).
ACOUSTIC_PIANO = 0  # GM #1, Acoustic Grand Piano
DRAWBAR_ORGAN = 16  # GM #17
ACOUSTIC_GUITAR = 24  # GM #25, Acoustic Guitar (nylon)
# Pitched GM groups the mix's chord instruments are drawn from: piano, organ, guitar, ensemble.
CHORD_PROGRAM_GROUPS: dict[str, range] = {
    "piano": range(0, 8),
    "organ": range(16, 24),
    "guitar": range(24, 32),
    "ensemble": range(48, 56),
}
CHORD_PROGRAMS: tuple[int, ...] = tuple(p for g in CHORD_PROGRAM_GROUPS.values() for p in g)

# General MIDI percussion keys (channel 10).
KICK, SNARE, CLOSED_HIHAT = 36, 38, 42


@dataclass(frozen=True)
class Step:
    """One bass note: `beat` (0-based start in the measure) and `beats` long, on `degree`."""

    beat: float
    beats: float
    degree: int


@dataclass(frozen=True)
class DatasetSpec:
    """What distinguishes one artificial dataset from the others."""

    name: str
    n_patterns: int
    # A3, A5: the GM programs that take turns as the one chord instrument playing at a time;
    # empty where two chord instruments drawn per song play together (A1, A2, A4)
    alternating_instruments: tuple[int, ...]
    double_kick: bool  # A4: two eighth-note bass drums on beat 3
    description: str
    # A5: each measure's pattern is, with probability render.instrument_rule_prob, its chord
    # instrument's own (INSTRUMENT_PATTERNS), else one of the others; elsewhere patterns are
    # drawn independently of the mix
    instrument_rule: bool = False


ORGAN_GUITAR = (DRAWBAR_ORGAN, ACOUSTIC_GUITAR)
ORGAN_GUITAR_PIANO = (DRAWBAR_ORGAN, ACOUSTIC_GUITAR, ACOUSTIC_PIANO)

DATASETS: dict[str, DatasetSpec] = {
    "A1": DatasetSpec("A1", 3, (), False, "harmony: root / third / fifth"),
    "A2": DatasetSpec("A2", 2, (), False, "harmony: root or fifth by chord quality"),
    "A3": DatasetSpec("A3", 2, ORGAN_GUITAR, False, "timbre: root or fifth by chord instrument"),
    "A4": DatasetSpec("A4", 5, (), True, "rhythm: five patterns tied to the drums"),
    "A5": DatasetSpec("A5", 3, ORGAN_GUITAR_PIANO, False,
                      "mix → pattern: root / third / fifth by chord instrument (90 %)",
                      instrument_rule=True),
}  # fmt: skip

# A5: each chord instrument's own pattern (A1's patterns: 1 root, 2 third, 3 fifth).
INSTRUMENT_PATTERNS: dict[int, int] = {DRAWBAR_ORGAN: 1, ACOUSTIC_GUITAR: 2, ACOUSTIC_PIANO: 3}


# Each dataset's patterns by name, in pattern order (pattern 1 first): what `bass_steps` plays.
# A shipped model stores its patterns' centroids of µ under these names, so a user asks for
# `--pattern fifth` instead of a z found by hand.
PATTERN_NAMES: dict[str, tuple[str, ...]] = {
    "A1": ("root", "third", "fifth"),  # four quarters on the chord's root / third / fifth
    "A2": ("root-on-minor", "fifth-on-minor"),  # minor chords: root (major: fifth), or the reverse
    "A3": ("root-on-guitar", "root-on-organ"),  # the root under that instrument, the fifth else
    "A4": ("root-fifth", "fifth-root", "root-third-fifth", "eighths", "root-only"),
    "A5": ("root", "third", "fifth"),  # A1's; mostly under organ / guitar / piano respectively
}


def pattern_name(dataset: str, pattern: int) -> str:
    """The name of a dataset's 1-based `pattern` (e.g. ("A1", 3) → "fifth")."""
    return PATTERN_NAMES[dataset][pattern - 1]


def named_centroids(dataset: str, centroids: dict) -> dict[str, list[float]]:
    """Centroids by pattern number ({"1": [z1, z2], …}, as the control stage stores them) →
    by the dataset's pattern names ({"root": [z1, z2], …}), in pattern order."""
    return {pattern_name(dataset, int(p)): [float(v) for v in z]
            for p, z in sorted(centroids.items(), key=lambda item: int(item[0]))}  # fmt: skip


def _quarters(*degrees: int) -> tuple[Step, ...]:
    return tuple(Step(float(i), 1.0, d) for i, d in enumerate(degrees))


def _eighths(*degrees: int) -> tuple[Step, ...]:
    return tuple(Step(i / 2, 0.5, d) for i, d in enumerate(degrees))


def bass_steps(dataset: str, pattern: int, quality: str, program: int) -> tuple[Step, ...]:
    """The bass steps of one measure.

    Args:
        dataset: "A1".."A5".
        pattern: 1-based pattern number.
        quality: quality of the measure's chord, "major", "minor" or "diminished".
            A diminished chord counts as minor in A2 (its third is minor).
        program: GM program (0-based) of the chord instrument; only A3 looks at it.
    """
    spec = DATASETS[dataset]
    if not 1 <= pattern <= spec.n_patterns:
        raise ValueError(f"{dataset} has patterns 1..{spec.n_patterns}, got {pattern}")
    if dataset in ("A1", "A5"):  # A5 plays A1's patterns; its rule only chooses among them
        return _quarters(*[(1, 3, 5)[pattern - 1]] * 4)
    if dataset == "A2":
        root_on_minor = pattern == 1
        is_minor = quality != "major"
        return _quarters(*[1 if is_minor == root_on_minor else 5] * 4)
    if dataset == "A3":
        if program not in (ACOUSTIC_GUITAR, DRAWBAR_ORGAN):
            raise ValueError(f"A3 chords are organ or guitar, got program {program}")
        root_on_guitar = pattern == 1
        is_guitar = program == ACOUSTIC_GUITAR
        return _quarters(*[1 if is_guitar == root_on_guitar else 5] * 4)
    # A4: rhythm-specific patterns
    return {
        1: _quarters(1, 5, 1, 5),  # root with the bass drum, fifth with the snare
        2: _quarters(5, 1, 5, 1),
        3: _quarters(1, 3, 5, 3),
        4: _eighths(1, 2, 3, 4, 5, 4, 3, 2),
        5: (Step(0.0, 1.0, 1),),  # root on beat 1, then rest
    }[pattern]


def drum_hits(dataset: str) -> tuple[tuple[float, int], ...]:
    """Drum hits of one measure as (beat, GM percussion key), identical in every measure.

    Hi-hat on every eighth, bass drum on beats 1 and 3, snare on 2 and 4; A4 plays two
    eighth-note bass drums on beat 3.
    """
    hats = [(i / 2, CLOSED_HIHAT) for i in range(8)]
    kicks = [(0.0, KICK), (2.0, KICK)] + ([(2.5, KICK)] if DATASETS[dataset].double_kick else [])
    snares = [(1.0, SNARE), (3.0, SNARE)]
    return tuple(sorted(hats + kicks + snares))
