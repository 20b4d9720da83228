"""experiments/offbeat_visibility.py: the off-beat contrast measures what starts on the off-beat
eighths, and the rendered hi-hat shows there."""

import numpy as np

from bassnet.constants import FRAME_RATE
from bassnet.features.audio import resample, to_mono
from bassnet.features.cqt import N_BINS, GroupedCQT
from bassnet.synth.dataset import render_song
from bassnet.synth.fluidsynth_render import FluidRenderer
from tests.experiments import load_script

visibility = load_script("offbeat_visibility")


def _clicks(beat_s: float, offset_beats: float, seconds: float = 10.0) -> np.ndarray:
    """A flat log |CQT| (frames, 264) with 3-frame bursts of +2 in the top octave at each beat
    plus `offset_beats`."""
    log_cqt = np.full((round(seconds * FRAME_RATE), N_BINS), -5.0)
    for start in np.rint((np.arange(int(seconds / beat_s)) + offset_beats) * beat_s * FRAME_RATE):
        log_cqt[int(start) : int(start) + 3, visibility.TOP_OCTAVE] += 2.0
    return log_cqt


def test_contrast_is_the_burst_on_the_off_beats_and_nothing_elsewhere():
    beat_s = 0.5
    assert np.isclose(visibility.offbeat_contrast(_clicks(beat_s, 0.5), beat_s), 2.0)
    assert np.isclose(visibility.offbeat_contrast(_clicks(beat_s, 0.0), beat_s), 0.0)
    # the top octave only: the same bursts an octave lower do not count
    low = np.roll(_clicks(beat_s, 0.5), -36, axis=1)
    assert np.isclose(visibility.offbeat_contrast(low, beat_s), 0.0)


def test_the_rendered_hi_hat_shows_on_the_off_beats(render_cfg):
    renderer = FluidRenderer(render_cfg.soundfont, render_cfg.sample_rate, render_cfg.gain,
                             render_cfg.effects)  # fmt: skip
    try:
        plan, _, (drums,) = render_song("A4", 3, 7, render_cfg, renderer, (("drums",),))
    finally:
        renderer.close()
    log_cqt = GroupedCQT()(resample(to_mono(drums), render_cfg.sample_rate))
    assert visibility.offbeat_contrast(log_cqt, plan.tempo_us / 1e6) > 0.5
