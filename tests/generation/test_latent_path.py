"""z as a point or a path: parsing, interpolation, the trained region."""

import numpy as np
import pytest

from bassnet.errors import ConfigError
from bassnet.generation.latent_path import outside_region, parse_point, read_path, z_at


def test_parse_point():
    assert np.allclose(parse_point("0.4,0.0"), [0.4, 0.0])
    assert np.allclose(parse_point(" -1.5 , 2 "), [-1.5, 2.0])
    for bad in ("0.4", "a,b", "1,2,3", "nan,0"):
        with pytest.raises(ConfigError):
            parse_point(bad)


def test_a_path_is_interpolated_linearly_and_held_at_its_ends(tmp_path):
    path = tmp_path / "z.csv"
    path.write_text("time_s,z1,z2\n0,0,0\n10,1,-2\n")
    times, z = read_path(path)
    got = z_at(np.array([-1.0, 0.0, 2.5, 10.0, 20.0]), times, z)
    assert np.allclose(got, [[0, 0], [0, 0], [0.25, -0.5], [1, -2], [1, -2]])


@pytest.mark.parametrize(
    "text",
    [
        "time,z1,z2\n0,0,0\n",
        "time_s,z1,z2\n",
        "time_s,z1,z2\n1,0,0\n0,1,1\n",
        "time_s,z1,z2\n0,x,0\n",
    ],  # fmt: skip
)
def test_bad_paths_are_clear_errors(tmp_path, text):
    path = tmp_path / "z.csv"
    path.write_text(text)
    with pytest.raises(ConfigError, match="z-path"):
        read_path(path)


def test_outside_region():
    z = np.array([[0.0, 0.0], [1.5, 0.0], [0.0, -1.1]])
    assert outside_region(z, np.array([-1.0, -1.0]), np.array([1.0, 1.0])).tolist() == [
        False, True, True,
    ]  # fmt: skip
