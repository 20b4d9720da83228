"""experiments/prior_oracle.py's reading of the training windows: µ's variance by factor, the
instrument at each window and how well the prior's input names it."""

import numpy as np
import pandas as pd

from bassnet.training.prior import PriorData
from tests.experiments import load_script

prior_oracle = load_script("prior_oracle")


def _windows(rng, songs: int = 10, per_song: int = 40, audible: bool = True) -> PriorData:
    """Windows whose µ0 is their pattern (1 or 2) plus noise, µ1 their song's offset; with
    `audible`, the first 50 features move with the pattern too (as the
    mix's spectrum moves with A5's chord instrument)."""
    ids = np.repeat([f"s{i}" for i in range(songs)], per_song)
    pattern = rng.integers(1, 3, size=len(ids))
    offset = np.repeat(rng.normal(0, 1, size=songs), per_song)
    mu = np.stack([pattern + rng.normal(0, 0.1, len(ids)), offset], 1)
    features = rng.normal(size=(len(ids), 528)).astype(np.float32)
    if audible:
        features[:, :50] += 2.0 * (pattern - 1.5)[:, None]
    centres = np.tile(np.arange(per_song) * 0.5, songs)
    return PriorData(features, mu, pattern, ids, centres)


def test_variance_explained_names_the_factor_that_moves_each_coordinate():
    data = _windows(np.random.default_rng(0))
    shares = prior_oracle.variance_explained(data, data.patterns)
    assert shares["pattern"][0] > 0.95 and shares["pattern"][1] < 0.1
    assert shares["song"][1] > 0.95 and shares["song"][0] < 0.1
    assert shares["song + pattern"][0] >= shares["pattern"][0]


def test_the_instrument_is_read_at_the_window_centre_and_named_only_when_audible():
    rng = np.random.default_rng(1)
    data = _windows(rng)
    # the labels' program per 10-ms frame: here the pattern of the window starting there
    labels = pd.DataFrame({"track_id": [f"s{i}" for i in range(10)],
                           "chord_instrument": [np.repeat(data.patterns[data.songs == f"s{i}"], 50)
                                                for i in range(10)]})  # fmt: skip
    programs = prior_oracle.window_instruments(labels, data)
    np.testing.assert_array_equal(programs, data.patterns)
    assert prior_oracle.instrument_decodability(data, programs, inputs=8) > 0.9
    silent = _windows(rng, audible=False)
    assert prior_oracle.instrument_decodability(silent, silent.patterns, inputs=8) < 0.7
