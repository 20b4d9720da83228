import pytest

from bassnet.synth.theory import degree_interval, triad_pitches, triad_quality


def test_triad_qualities_of_major_and_natural_minor_keys():
    assert [triad_quality("major", s) for s in range(7)] == [
        "major",
        "minor",
        "minor",
        "major",
        "major",
        "minor",
        "diminished",
    ]
    assert [triad_quality("minor", s) for s in range(7)] == [
        "minor",
        "diminished",
        "major",
        "minor",
        "minor",
        "major",
        "major",
    ]


def test_degrees_follow_the_key_scale():
    # ii of C major is D minor: D E F G A
    assert [degree_interval("major", 1, d) for d in (1, 2, 3, 4, 5)] == [0, 2, 3, 5, 7]
    # vii° of C major is B diminished: B C D E F
    assert [degree_interval("major", 6, d) for d in (1, 2, 3, 4, 5)] == [0, 1, 3, 5, 6]
    # III of A minor is C major
    assert triad_pitches(48, "minor", 2) == (48, 52, 55)


def test_degree_zero_is_an_error():
    with pytest.raises(ValueError, match="count from 1"):
        degree_interval("major", 0, 0)
