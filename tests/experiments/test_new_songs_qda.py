"""experiments/new_songs_qda.py: the params it renders and featurises the new songs with."""

import yaml

from bassnet.config import RenderConfig, load_params
from tests.experiments import EXPERIMENTS, load_script

ROOT = EXPERIMENTS.parent
new_songs = load_script("new_songs_qda")


def test_all_songs_but_one_are_validation_songs_and_no_mix_f0(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    path = new_songs.new_songs_params(tmp_path, 20)
    params = load_params(path)
    assert RenderConfig.from_params(params).valid_fraction == 0.95  # 19 of 20 songs
    assert params["features"]["mix_f0_splits"] == []
    # everything else is the project's
    ours = yaml.safe_load((ROOT / "params.yaml").read_text())
    theirs = yaml.safe_load(path.read_text())
    assert theirs["profiles"] == ours["profiles"] and theirs["model"] == ours["model"]
