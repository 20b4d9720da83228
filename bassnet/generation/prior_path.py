"""Where the prior p(z | x) says to click, over a song's time: `--z auto` (the density's mode
per window, median-smoothed) and `--z sample` (a plausible path drawn from it)."""

from __future__ import annotations

import numpy as np

from bassnet.constants import FRAME_RATE
from bassnet.errors import ConfigError
from bassnet.generation.config import GenerateConfig
from bassnet.generation.pipeline import MixReader, segments, song_frames
from bassnet.model.prior import LatentPrior, context_features, modes, sample_path, smooth_path

PRIOR_PATHS = ("auto", "sample")  # the z a prior gives: its mode, or a draw


def hop_frames(cfg: GenerateConfig) -> int:
    """Frames (10 ms) between the prior's densities over a song: `cfg.prior_hop_s`."""
    return max(1, round(cfg.prior_hop_s * FRAME_RATE))


def spectrum_prior(prior: LatentPrior, frames: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """The prior's mixture weights (N, K) at the centre frames (N,) of a song's own log |CQT|
    frames (T, 264), as training reads them (`training.prior.prior_data`)."""
    return prior.weights(context_features(frames, centres, prior.context_frames))


def song_prior(prior: LatentPrior, mix: MixReader, cfg: GenerateConfig, progress: bool = False):
    """The prior's mixture weights over a song: window centres in s (N,), one every
    `cfg.prior_hop_s`, and weights (N, K) over `prior`'s components; read segment by segment,
    so memory does not grow with the song."""
    hop = hop_frames(cfg)
    context = prior.context_frames
    total = song_frames(mix)
    seg = max(hop, int(cfg.segment_s * FRAME_RATE) // hop * hop)
    times, weights = [], []
    for part in segments(mix, seg, context, context, progress, desc="prior"):
        centres = np.arange(part.first, part.first + part.frames, hop)
        if not len(centres):
            continue
        # only the song's own frames
        lo = max(0, part.spectrum_first)
        hi = min(total, part.spectrum_first + len(part.spectrum))
        own = part.spectrum[lo - part.spectrum_first : hi - part.spectrum_first]
        times.append(centres / FRAME_RATE)
        weights.append(spectrum_prior(prior, own, centres - lo))
    return np.concatenate(times), np.concatenate(weights)


def prior_path(prior: LatentPrior, times: np.ndarray, weights: np.ndarray, how: str,
               cfg: GenerateConfig, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """A z path (times (N,) in s, points (N, 2)) through the song's densities: "auto", the
    mode of each, median-smoothed over `cfg.prior_smooth_s`; "sample", a draw (`seed`)."""
    density = prior.density()
    means, covs = density["means"], density["covariances"]
    if how == "auto":
        points = smooth_path(modes(weights, means, covs), cfg.prior_hop_s, cfg.prior_smooth_s)
    elif how == "sample":
        points = sample_path(weights, means, covs, cfg.prior_hop_s, cfg.prior_smooth_s, seed)
    else:
        raise ConfigError(f"a prior's z is one of {', '.join(PRIOR_PATHS)}, got {how!r}")
    return times, points
