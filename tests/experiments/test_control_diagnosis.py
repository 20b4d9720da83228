"""experiments/control_diagnosis.py: the grid best is a grid point's score, at a z of the grid,
and no point of the grid scores higher."""

import itertools

import numpy as np
import soundfile as sf

from bassnet.api import generate_files
from bassnet.evaluation.control_rules import CONTROL_SONG_INDEX, pattern_score
from bassnet.generation.config import GenerateConfig
from bassnet.model import BassNet, ModelConfig
from bassnet.synth.dataset import render_song
from bassnet.synth.fluidsynth_render import FluidRenderer
from bassnet.synth.midi import MIX_TRACKS
from bassnet.training.loop import train
from tests.experiments import load_script

diagnosis = load_script("control_diagnosis")


def test_grid_best_is_the_best_score_over_the_grid(a1_shards, tiny_train_cfg, render_cfg,
                                                   tmp_path):  # fmt: skip
    train(a1_shards, tmp_path / "model", ModelConfig(window="8/16", maps=2, blocks=2,
          head_maps=2), tiny_train_cfg, progress=False)  # fmt: skip
    model = str(tmp_path / "model" / "model.pt")
    renderer = FluidRenderer(render_cfg.soundfont, render_cfg.sample_rate, render_cfg.gain,
                             render_cfg.effects)  # fmt: skip
    try:
        plan, _, (mix_audio,) = render_song("A1", CONTROL_SONG_INDEX, 5, render_cfg, renderer,
                                            (MIX_TRACKS,))  # fmt: skip
    finally:
        renderer.close()
    mix = tmp_path / "mix.wav"
    sf.write(mix, mix_audio, render_cfg.sample_rate)
    gen = GenerateConfig()

    best = diagnosis.grid_best(plan, mix, model, 2, tmp_path, gen)

    region = BassNet.load(model).extra["latent_region"]
    corners = list(itertools.product(*zip(region["low"], region["high"], strict=True)))
    scores = {}  # pattern → the score at each corner of the region (the 2 × 2 grid)
    for z in corners:
        result = generate_files(mix, tmp_path / "corner", model, z=np.array(z), cfg=gen,
                                progress=False)  # fmt: skip
        for p in best:
            scores.setdefault(p, []).append(pattern_score(plan, p, result.curves,
                                                          result.bass_notes))  # fmt: skip
    assert set(best) == {1, 2, 3}
    for p, (score, z) in best.items():
        assert score == max(scores[p])
        assert np.allclose(z, corners[scores[p].index(score)], atol=1e-3)
