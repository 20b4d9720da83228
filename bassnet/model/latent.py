"""µ and σ of the posterior N(x, y) (paper §4.4.1): what training (the latent region a model
records), evaluation (QDA, figures) and generation (`bassnet encode`) all read from a model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import numpy as np
import torch

from bassnet.constants import FRAME_RATE
from bassnet.errors import DataError
from bassnet.model.config import ModelConfig
from bassnet.model.multires import compress
from bassnet.model.vgae import BassNet


class Encoder(Protocol):
    """What µ is read from: a BassNet, or its folded inference form
    (`bassnet.generation.folded.FoldedBassNet`)."""

    config: ModelConfig

    def parameters(self) -> Iterator[torch.nn.Parameter]: ...
    def mix_factors(self, x: torch.Tensor) -> torch.Tensor: ...
    def posterior(self, fx: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]: ...


@torch.no_grad()
def latent(model: Encoder, x: torch.Tensor, y: torch.Tensor, batch: int = 64):
    """µ and σ of N(x,y) for compressed windows x, y: two (N, latent_dim) arrays."""
    device = next(model.parameters()).device
    mus, logvars = [], []
    for i in range(0, len(x), batch):
        fx = model.mix_factors(x[i : i + batch].to(device))
        mu, logvar = model.posterior(fx, y[i : i + batch].to(device))
        mus.append(mu.cpu())
        logvars.append(logvar.cpu())
    mu, logvar = torch.cat(mus).numpy(), torch.cat(logvars).numpy()
    return mu, np.exp(0.5 * logvar)


@torch.no_grad()
def trajectory(
    model: BassNet, mix: np.ndarray, bass: np.ndarray, hop: int | None = None,
    with_sigma: bool = False, name: str = "song",
):  # fmt: skip
    """µ over time for a whole song, from its (frames, 264) log |CQT| of mix and bass: windows
    every `hop` frames (default: the compressed size a). Returns the window centres in s (N,)
    and µ (N, latent_dim) [and σ (N, latent_dim)]."""
    spec = model.config.spec
    hop = hop or spec.compressed
    if len(mix) < spec.expanded:
        raise DataError(f"track {name} is shorter than the window {spec}")
    starts = np.arange(0, len(mix) - spec.expanded + 1, hop)

    def windows(frames: np.ndarray) -> torch.Tensor:
        cut = np.stack([frames[s : s + spec.expanded] for s in starts])
        return compress(torch.from_numpy(cut.astype(np.float32, copy=False)), spec, axis=1)

    mu, sigma = latent(model, windows(mix), windows(bass))
    times = (starts + spec.expanded / 2) / FRAME_RATE
    return (times, mu, sigma) if with_sigma else (times, mu)
