"""p(z | x): where in the 2-D latent space a mix's bass probably lies, from the mix alone.

The paper ends (§7) on the user who must find good regions of the latent space by trial and
error, and proposes "inferring and displaying an input-conditional density over the latent
space". This is that density, for one trained VGAE:

    p(z | x) = Σ_k w_k(x) N(z; m_k, S_k),
    w(x) = (1 − λ) softmax(log π + g(x)) + λ π

The K Gaussians (m_k, S_k) and their weights π are the training-set density: a mixture fitted
on µ(x, y) of the training songs' windows. A small network g reads the mix around the window
(mean and spread over time of each log |CQT| bin, `context_features`, as their first
principal components) and moves weight between
those Gaussians; λ shrinks its weights back toward π. Its last layer starts at zero, so an
untrained prior, or one with λ = 1, is the training-set density itself: where the mix says
nothing of the bass (A1–A4 draw the pattern independently of it) the prior can stay as broad as
the data are. `bassnet.training.prior` fits it; the functions below are pure (no I/O).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from bassnet.errors import DataError

N_BINS = 264  # log |CQT| bins the network reads (the features' CQT)
N_FEATURES = 2 * N_BINS  # mean and standard deviation over time of each bin
GRID = 96  # points per axis where a density's mode and entropy are looked for


def context_features(frames: np.ndarray, centres: np.ndarray, context: int) -> np.ndarray:
    """What the prior hears of a mix: for each centre frame, the mean and the standard
    deviation over frames [c − context/2, c + context/2) (clipped to the song) of each log
    |CQT| bin.

    Args:
        frames: (T, 264) log |CQT| of the mix, 100 frames/s.
        centres: (N,) frame indices.
        context: frames heard around each centre.
    Returns:
        (N, 528) float32: the 264 means, then the 264 standard deviations.
    """
    frames = np.asarray(frames, dtype=np.float64)
    if frames.ndim != 2 or frames.shape[1] != N_BINS or not len(frames):
        raise DataError(f"the prior reads (frames, {N_BINS}) log |CQT|, got {frames.shape}")
    zero = np.zeros((1, N_BINS))
    total = np.concatenate([zero, np.cumsum(frames, axis=0)])
    squares = np.concatenate([zero, np.cumsum(frames**2, axis=0)])
    centres = np.asarray(centres, dtype=np.int64)
    lo = np.clip(centres - context // 2, 0, len(frames) - 1)
    hi = np.clip(centres - context // 2 + context, lo + 1, len(frames))
    n = (hi - lo)[:, None].astype(np.float64)
    mean = (total[hi] - total[lo]) / n
    var = np.maximum((squares[hi] - squares[lo]) / n - mean**2, 0.0)
    return np.concatenate([mean, np.sqrt(var)], axis=1).astype(np.float32)


class LatentPrior(nn.Module):
    """p(z | x) for one model: `weights(features)` gives each window's mixture weights (N, K)
    over the fixed components (`means` (K, 2), `covariances` (K, 2, 2))."""

    def __init__(self, components: int, hidden: int, context_frames: int, dim: int = 2,
                 inputs: int = 32) -> None:  # fmt: skip
        super().__init__()
        self.context_frames = int(context_frames)
        self.net = nn.Sequential(
            nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, components)
        )
        self.reset()
        # the features' mean and their first `inputs` principal axes, scaled to unit variance
        self.register_buffer("feature_mean", torch.zeros(N_FEATURES))
        self.register_buffer("projection", torch.eye(N_FEATURES, inputs))
        self.register_buffer("means", torch.zeros(components, dim))
        self.register_buffer("covariances", torch.eye(dim).repeat(components, 1, 1))
        self.register_buffer("log_weights", torch.full((components,), -np.log(components)))
        self.register_buffer("shrink", torch.zeros(()))

    def reset(self) -> None:
        """Fresh network weights, its last layer at zero: g(x) = 0, the training-set density
        (from the torch seed)."""
        self.net[0].reset_parameters()
        nn.init.zeros_(self.net[2].weight)
        nn.init.zeros_(self.net[2].bias)

    @property
    def components(self) -> int:
        """K, the number of Gaussians."""
        return len(self.means)

    def weights(self, features: torch.Tensor | np.ndarray, shrink: float | None = None):
        """Mixture weights (N, K) for context features (N, 528) (`context_features`); a tensor
        for a tensor, else a float64 array. `shrink` overrides the stored λ."""
        as_array = not isinstance(features, torch.Tensor)
        x = torch.as_tensor(np.asarray(features), dtype=torch.float32) if as_array else features
        w = self.shrunk(self.learned(self.project(x)), shrink)
        return w.detach().double().numpy() if as_array else w

    def project(self, features: torch.Tensor) -> torch.Tensor:
        """Features (N, 528) → the network's input (N, inputs)."""
        return (features - self.feature_mean) @ self.projection

    def learned(self, projected: torch.Tensor) -> torch.Tensor:
        """The network's weights (N, K) for projected features, before shrinkage."""
        return torch.softmax(self.log_weights + self.net(projected), dim=-1)

    def shrunk(self, learned: torch.Tensor, shrink: float | None = None) -> torch.Tensor:
        """(1 − λ) · learned + λ · π; `shrink` overrides the stored λ."""
        lam = self.shrink if shrink is None else torch.as_tensor(float(shrink))
        return (1 - lam) * learned + lam * torch.exp(self.log_weights)

    def component_log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log N(z_i; m_k, S_k) (N, K) of points z (N, 2)."""
        dist = torch.distributions.MultivariateNormal(self.means, self.covariances)
        return dist.log_prob(z[:, None, :])

    def log_prob(self, weights: torch.Tensor, z: torch.Tensor | None = None,
                 component_log_prob: torch.Tensor | None = None) -> torch.Tensor:  # fmt: skip
        """log p(z_i | x_i) (N,) for weights (N, K) and points z (N, 2), or their
        `component_log_prob` (N, K) computed once."""
        if component_log_prob is None:
            component_log_prob = self.component_log_prob(z)
        return torch.logsumexp(torch.log(weights + 1e-30) + component_log_prob, dim=1)

    def set_density(self, means, covariances, weights) -> None:
        """Store the training-set density's components: means (K, 2), covariances (K, 2, 2),
        weights (K,)."""
        self.means.copy_(torch.as_tensor(np.asarray(means), dtype=torch.float32))
        self.covariances.copy_(torch.as_tensor(np.asarray(covariances), dtype=torch.float32))
        w = np.clip(np.asarray(weights, dtype=np.float64), 1e-12, None)
        self.log_weights.copy_(torch.as_tensor(np.log(w / w.sum()), dtype=torch.float32))

    def set_feature_scale(self, features: np.ndarray) -> None:
        """Read features (N, 528) as their first principal components, whitened: the 528 are
        264 neighbouring bins twice and move together, and a network fed them all learns
        the songs it was fitted on rather than what they share."""
        mean = features.mean(0, dtype=np.float64)
        _, sv, vt = np.linalg.svd(features - mean, full_matrices=False)
        keep = self.projection.shape[1]
        scale = sv[:keep] / np.sqrt(max(len(features) - 1, 1)) + 1e-6
        axes = np.zeros((N_FEATURES, keep))
        axes[:, : len(scale)] = vt[:keep].T / scale
        self.feature_mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.projection.copy_(torch.as_tensor(axes, dtype=torch.float32))

    def density(self) -> dict[str, list]:
        """The components as plain lists (JSON for the pad): means, covariances, weights π."""
        return {
            "means": self.means.tolist(),
            "covariances": self.covariances.tolist(),
            "weights": torch.exp(self.log_weights).tolist(),
        }

    def to_state(self) -> dict[str, Any]:
        """What a model file stores: sizes and tensors (loadable with weights_only)."""
        return {
            "config": {
                "components": self.components,
                "hidden": self.net[0].out_features,
                "context_frames": self.context_frames,
                "dim": self.means.shape[1],
                "inputs": self.projection.shape[1],
            },
            "state_dict": {k: v.detach().clone() for k, v in self.state_dict().items()},
        }

    @classmethod
    def from_state(cls, state: Any, where: str = "the model file") -> LatentPrior:
        """The inverse of `to_state`; a DataError naming `where` for anything else."""
        try:
            cfg = state["config"]
            prior = cls(int(cfg["components"]), int(cfg["hidden"]), int(cfg["context_frames"]),
                        int(cfg.get("dim", 2)), int(cfg.get("inputs", 32)))  # fmt: skip
            prior.load_state_dict(state["state_dict"])
        except (KeyError, TypeError, ValueError, RuntimeError) as err:
            raise DataError(f"{where}: its prior p(z|x) cannot be read ({err})") from err
        covs = prior.covariances.double().numpy()
        if not all(np.isfinite(t).all() for t in (covs, prior.means.numpy())) or np.any(
            np.linalg.eigvalsh(covs) <= 0
        ):
            raise DataError(f"{where}: its prior p(z|x) has invalid components")
        return prior.eval()


def _gauss_log(means: np.ndarray, covs: np.ndarray, points: np.ndarray) -> np.ndarray:
    """log N(point; m_k, S_k): (K, G) for means (K, 2), covs (K, 2, 2), points (G, 2)."""
    inv = np.linalg.inv(covs)
    _, logdet = np.linalg.slogdet(covs)
    d = points[None, :, :] - means[:, None, :]
    maha = np.einsum("kgi,kij,kgj->kg", d, inv, d)
    return -0.5 * (maha + logdet[:, None] + means.shape[1] * np.log(2 * np.pi))


def grid(means: np.ndarray, covs: np.ndarray, n: int = GRID, reach: float = 3.0):
    """A square grid over the components, `reach` standard deviations past the outermost:
    (xs (n,), ys (n,), points (n·n, 2), cell area)."""
    sd = np.sqrt(np.stack([np.diagonal(c) for c in covs]))
    lo, hi = (means - reach * sd).min(0), (means + reach * sd).max(0)
    xs, ys = np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n)
    gx, gy = np.meshgrid(xs, ys)
    area = (xs[1] - xs[0]) * (ys[1] - ys[0]) if n > 1 else 1.0
    return xs, ys, np.stack([gx.ravel(), gy.ravel()], axis=1), area


def on_grid(weights: np.ndarray, means, covs, n: int = GRID):
    """The mixtures of weights (N, K) on `grid`: densities (N, n·n), the points (n·n, 2) and
    the cell area."""
    means, covs = np.asarray(means, np.float64), np.asarray(covs, np.float64)
    _, _, points, area = grid(means, covs, n)
    return np.asarray(weights) @ np.exp(_gauss_log(means, covs, points)), points, area


def modes(weights: np.ndarray, means, covs, n: int = GRID) -> np.ndarray:
    """The most probable z (N, 2) of each mixture (weights (N, K)), to a grid cell."""
    dens, points, _ = on_grid(weights, means, covs, n)
    return points[dens.argmax(1)]


def entropies(weights: np.ndarray, means, covs, n: int = GRID) -> np.ndarray:
    """The differential entropy in nats (N,) of each mixture, summed over the grid."""
    dens, _, area = on_grid(weights, means, covs, n)
    p = dens * area
    return -(p * np.log(np.maximum(dens, 1e-300))).sum(1)


def smooth_path(points: np.ndarray, hop_s: float, smooth_s: float) -> np.ndarray:
    """A z path (N, 2), one point every `hop_s` s, median-filtered over `smooth_s` s per
    coordinate: a mode path that jumps between components keeps its jumps (a running mean
    would pass through the regions between them) but loses jumps shorter than half of it."""
    width = int(round(smooth_s / hop_s)) // 2
    if width < 1 or len(points) < 3:
        return np.asarray(points, dtype=np.float32)
    padded = np.pad(points, ((width, width), (0, 0)), mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * width + 1, axis=0)
    return np.median(windows, axis=-1).astype(np.float32)


def sample_path(weights: np.ndarray, means, covs, hop_s: float, smooth_s: float,
                seed: int) -> np.ndarray:  # fmt: skip
    """A plausible z path (N, 2) through the mixtures (weights (N, K), one every `hop_s` s).
    The component is a Markov chain: each window keeps the previous one's with probability
    ρ = exp(−hop_s / smooth_s) (unless its own mixture gives it no weight), else draws anew
    from its own weights, so where the weights hold still each window's component is a draw
    of its mixture and a choice lasts about `smooth_s` s. Within the component, the point
    moves by AR(1) standard-normal noise of the same time constant."""
    means, covs = np.asarray(means, np.float64), np.asarray(covs, np.float64)
    weights = np.asarray(weights, np.float64)
    rng = np.random.default_rng(seed)
    n, k = weights.shape
    rho = float(np.exp(-hop_s / smooth_s)) if smooth_s > 0 else 0.0
    stay, draw = rng.random(n), rng.random(n)
    noise = rng.standard_normal((n, 2))
    chosen = np.empty(n, dtype=np.int64)
    walk = np.empty((n, 2))
    cdf = np.cumsum(weights / weights.sum(1, keepdims=True), axis=1)
    for i in range(n):
        keep = i > 0 and stay[i] < rho and weights[i, chosen[i - 1]] > 1e-3
        chosen[i] = chosen[i - 1] if keep else min(int((draw[i] > cdf[i]).sum()), k - 1)
        # stationary AR(1): every walk[i] is N(0, I)
        walk[i] = noise[i] if i == 0 else rho * walk[i - 1] + np.sqrt(1 - rho**2) * noise[i]
    chol = np.linalg.cholesky(covs)
    return (means[chosen] + np.einsum("nij,nj->ni", chol[chosen], walk)).astype(np.float32)
