"""`generate --z auto | sample`: the z path a model's prior p(z|x) gives for a song."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import bassnet
from bassnet.cli import main
from bassnet.errors import ConfigError
from bassnet.generation.config import GenerateConfig
from bassnet.generation.pipeline import MixReader
from bassnet.generation.prior_path import prior_path, song_prior
from bassnet.model.prior import LatentPrior
from tests.conftest import save_tiny_model

MEANS = np.array([[-0.8, 0.0], [0.9, 0.4], [0.0, -0.9]])
COVS = np.stack([np.eye(2) * 0.05] * 3)


def a_prior(weights, seed: int = 0) -> LatentPrior:
    torch.manual_seed(seed)
    prior = LatentPrior(3, hidden=4, context_frames=20, inputs=4)
    prior.set_density(MEANS, COVS, np.asarray(weights))
    return prior


@pytest.fixture(scope="module")
def prior_models(tmp_path_factory, a1_song):
    """Tiny models whose priors put (almost) all weight on component 1, or that say something
    of the mix (a random network reading the song's features, scaled as training scales
    them), and one without a prior."""
    from tests.conftest import mix_context_features

    root = tmp_path_factory.mktemp("prior-models")
    certain = a_prior([1e-6, 1.0, 1e-6])
    talking = a_prior([0.4, 0.3, 0.3])
    talking.set_feature_scale(mix_context_features(a1_song[0], 20))
    torch.nn.init.normal_(talking.net[2].weight, std=1.0)
    return {
        "certain": save_tiny_model(root / "certain.pt", 0, prior=certain.to_state()),
        "talking": save_tiny_model(root / "talking.pt", 0, prior=talking.to_state()),
        "none": save_tiny_model(root / "none.pt", 0),
    }


def test_auto_follows_the_mode_of_the_prior(a1_song, prior_models):
    auto = bassnet.generate(a1_song[0], str(prior_models["certain"]), z="auto", midi_tempo=120)
    point = bassnet.generate(a1_song[0], str(prior_models["certain"]), z=tuple(MEANS[1]),
                             midi_tempo=120)  # fmt: skip
    # the mode lies within a grid cell of component 1's mean: the same bass
    np.testing.assert_allclose(auto.curves.level_db, point.curves.level_db, atol=0.5)


def test_the_song_densities_cover_the_song_every_hop(a1_song, prior_models):
    model = bassnet.load_model(str(prior_models["talking"]))
    cfg = GenerateConfig(prior_hop_s=0.5)
    times, weights = song_prior(model.prior, MixReader(a1_song[0]), cfg)
    seconds = MixReader(a1_song[0]).seconds
    assert times[0] == 0 and seconds - 0.5 < times[-1] <= seconds
    np.testing.assert_allclose(np.diff(times), 0.5)
    np.testing.assert_allclose(weights.sum(1), 1.0, atol=1e-6)
    assert weights.std(0).max() > 0.01  # the mix moves them
    _, auto = prior_path(model.prior, times, weights, "auto", cfg)
    assert auto.shape == (len(times), 2)


def test_a_sampled_path_repeats_with_its_seed_and_differs_with_another(a1_song, prior_models):
    model = str(prior_models["talking"])
    a = bassnet.generate(a1_song[0], model, z="sample", seed=1, midi_tempo=120)
    b = bassnet.generate(a1_song[0], model, z="sample", seed=1, midi_tempo=120)
    c = bassnet.generate(a1_song[0], model, z="sample", seed=2, midi_tempo=120)
    np.testing.assert_array_equal(a.curves.level_db, b.curves.level_db)
    assert not np.array_equal(a.curves.level_db, c.curves.level_db)


def test_a_model_without_a_prior_says_so(a1_song, prior_models, tmp_path, capsys):
    with pytest.raises(ConfigError, match="no prior"):
        bassnet.generate(a1_song[0], str(prior_models["none"]), z="auto")
    code = main(["generate", str(a1_song[0]), "-o", str(tmp_path / "x"), "--model",
                 str(prior_models["none"]), "--z", "auto", "-q"])  # fmt: skip
    assert code == 2 and "no prior" in capsys.readouterr().err
    assert not (tmp_path / "x.wav").exists()


def test_the_cli_takes_z_auto_and_z_sample_with_a_seed(a1_song, prior_models, tmp_path):
    base = ["generate", str(a1_song[0]), "--model", str(prior_models["talking"]), "-q"]
    assert main([*base, "-o", str(tmp_path / "auto"), "--z", "auto"]) == 0
    assert main([*base, "-o", str(tmp_path / "s"), "--z", "sample", "--seed", "3"]) == 0
    assert (tmp_path / "auto.wav").is_file() and (tmp_path / "s.mid").is_file()
