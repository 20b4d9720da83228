"""Descriptor heads (paper §4.2): f0, level and onset of each frame of a generated CQT ŷ."""

from __future__ import annotations

import torch
from torch import nn


class DescriptorHeads(nn.Module):
    """ŷ (B, C, T, F) → f0 logits (B, C, T, F + 1, or F without the unvoiced class), level and
    onset logits (B, C, T).

    Each multi-resolution channel's frames are read alike. f0 is a categorical over the F CQT
    bin centres plus, with `unvoiced_class`, one last class for "unvoiced" (no bass sounding;
    the paper's categorical has the F bins alone); its per-bin logits come
    from a small convolution over (time, frequency), so they move with the pitch. Level and
    onset are Bernoulli logits from a convolution spanning the whole frequency axis and three
    frames (an onset is a change in time).
    """

    def __init__(self, n_bins: int, maps: int, unvoiced_class: bool = True) -> None:
        super().__init__()
        self.f0_bins = nn.Sequential(
            nn.Conv2d(1, maps, 3, padding=1), nn.ReLU(), nn.Conv2d(maps, 1, 1)
        )
        self.unvoiced = nn.Linear(n_bins, 1) if unvoiced_class else None
        classes = n_bins + int(unvoiced_class)
        self.f0_prior = nn.Parameter(torch.zeros(classes))  # per-class bias: the marginal
        self.level_onset = nn.Conv2d(1, 2, (3, n_bins), padding=(1, 0))

    def forward(self, y_hat: torch.Tensor) -> dict[str, torch.Tensor]:
        b, c, t, f = y_hat.shape
        rows = y_hat.reshape(b * c, 1, t, f)
        f0 = self.f0_bins(rows)[:, 0]
        if self.unvoiced is not None:
            f0 = torch.cat([f0, self.unvoiced(rows[:, 0])], dim=-1)
        f0 = f0 + self.f0_prior
        level, onset = self.level_onset(rows)[..., 0].unbind(1)
        return {
            "f0": f0.reshape(b, c, t, -1),
            "level": level.reshape(b, c, t),
            "onset": onset.reshape(b, c, t),
        }
