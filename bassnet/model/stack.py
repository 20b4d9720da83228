"""An encoder/decoder pair: a stack of dilated residual blocks, decoded with tied weights."""

from __future__ import annotations

import math

import torch
from torch import nn

from bassnet.model.blocks import DilatedResidualBlock


def dilations(size: int, blocks: int, kernel: int) -> list[int]:
    """Dilations d_i = ceil(r^i) with the smallest r >= 1 for which the top block's receptive
    field 1 + (kernel − 1)·Σd_i covers `size` steps (paper §5.3). Gapless while r <= kernel."""
    need = math.ceil((size - 1) / (kernel - 1))
    if need <= blocks:
        return [1] * blocks
    low, high = 1.0, float(need)
    for _ in range(60):  # bisect r: Σ ceil(r^i) is monotonic in r
        mid = (low + high) / 2
        if sum(math.ceil(mid**i) for i in range(blocks)) >= need:
            high = mid
        else:
            low = mid
    return [math.ceil(high**i) for i in range(blocks)]


def receptive_field(dils: list[int], kernel: int) -> int:
    """Steps seen by the top block of a stack with these dilations."""
    return 1 + (kernel - 1) * sum(dils)


class ResidualStack(nn.Module):
    """`blocks` dilated residual blocks over (time, frequency): c_in → n → … → n maps.

    Dilations grow per axis so the top block sees the whole (T, F) input. `encode` runs the
    blocks bottom-up; `decode` runs them top-down as tied transposed convolutions (n → c_in).
    """

    def __init__(
        self,
        c_in: int,
        n: int,
        blocks: int,
        kernel: int,
        size: tuple[int, int],
        decoder: bool = True,
    ):
        super().__init__()
        time_d, freq_d = dilations(size[0], blocks, kernel), dilations(size[1], blocks, kernel)
        self.blocks = nn.ModuleList(
            DilatedResidualBlock(
                c_in if i == 0 else n, n, kernel, (time_d[i], freq_d[i]), decoder=decoder
            )
            for i in range(blocks)
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block.encode(x)
        return x

    def decode(self, h: torch.Tensor, linear_output: bool = False) -> torch.Tensor:
        for i, block in enumerate(reversed(self.blocks)):
            last = i == len(self.blocks) - 1
            h = block.decode(h, relu=not (last and linear_output))
        return h
