"""The generation path of a trained BassNet with each residual block folded into one convolution.

At inference a batch norm is a fixed affine map per feature map, so a block's two pathways,
BN(conv_k(x)) + BN(conv_1×1(x)) (paper Fig. 3), are one convolution: the k×k kernel scaled by
its norm, plus the 1×1 kernel (scaled by its own) on the centre tap, whatever the dilation,
plus one bias. enc_x and dec_y then run one convolution per block instead of two convolutions,
two batch norms and a sum; the output equals the model's up to float rounding (tested).
The posterior's encoders enc_y and enc_z fold the same way (µ of many windows, as the prior
p(z|x) is fitted on, ≈4x faster on the CPU). Training and dec_z keep the model's own layers.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F

from bassnet.model import BassNet
from bassnet.model.blocks import DilatedResidualBlock


def _scale_shift(norm: torch.nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """The eval-mode batch norm y = scale·x + shift, per feature map."""
    scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
    return scale, norm.bias - norm.running_mean * scale


class FoldedBlock:
    """One block, one direction (encode or decode), as a single convolution + bias."""

    def __init__(self, block: DilatedResidualBlock, decode: bool) -> None:
        weight, weight_1x1 = block.weight, block.weight_1x1
        norms = (block.enc_norm, block.enc_norm_1x1)
        if decode:  # the transposed convolution as a convolution: kernel flipped, maps swapped
            weight, weight_1x1 = weight.transpose(0, 1).flip(2, 3), weight_1x1.transpose(0, 1)
            norms = (block.dec_norm, block.dec_norm_1x1)
        (scale, shift), (scale_1x1, shift_1x1) = _scale_shift(norms[0]), _scale_shift(norms[1])
        folded = weight * scale[:, None, None, None]
        centre = weight.shape[-1] // 2
        folded[:, :, centre, centre] += weight_1x1[:, :, 0, 0] * scale_1x1[:, None]
        self.weight = folded.detach().contiguous(memory_format=torch.channels_last)
        self.bias = (shift + shift_1x1).detach()
        self.padding, self.dilation = block.padding, block.dilation

    def __call__(self, x: torch.Tensor, relu: bool = True) -> torch.Tensor:
        out = F.conv2d(x, self.weight, self.bias, padding=self.padding, dilation=self.dilation)
        return torch.relu(out) if relu else out


class FoldedBassNet:
    """A trained BassNet (eval mode) for generation: `mix_factors`, `generate_from_factors` and
    `posterior` run folded blocks; `latent_factors`, `descriptors`, `config` and `extra` are the
    model's."""

    def __init__(self, model: BassNet) -> None:
        if model.training:
            raise ValueError("fold a model in eval mode: training batch norms are not fixed")
        self.model, self.config, self.extra = model, model.config, model.extra
        with torch.no_grad():
            self.enc_x = [FoldedBlock(b, decode=False) for b in model.enc_x.blocks]
            self.dec_y = [FoldedBlock(b, decode=True) for b in reversed(model.enc_y.blocks)]
            self.enc_y = [FoldedBlock(b, decode=False) for b in model.enc_y.blocks]
            self.enc_z = [FoldedBlock(b, decode=False) for b in model.enc_z.blocks]
        self.latent_factors = model.latent_factors
        self.descriptors = model.descriptors

    def parameters(self) -> Iterator[torch.nn.Parameter]:
        """The model's parameters (for their device)."""
        return self.model.parameters()

    def mix_factors(self, x: torch.Tensor) -> torch.Tensor:
        """enc_x: (B, C, a, F) → (B, n, a, F), as `BassNet.mix_factors`."""
        h = self.model.standardise(x)
        for block in self.enc_x:
            h = block(h)
        return h

    def posterior(self, fx: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """µ and log σ² of N(x,y) from the mix factors and y (B, C, a, F), as
        `BassNet.posterior`."""
        h = self.model.standardise(y)
        for block in self.enc_y:
            h = block(h)
        h = fx * h
        for block in self.enc_z:
            h = block(h)
        return self.model.read_mapping(h)

    def generate_from_factors(self, fx: torch.Tensor, fz: torch.Tensor) -> torch.Tensor:
        """dec_y(fx ⊙ fz): ŷ (B, C, a, F) log magnitudes, as `BassNet.generate_from_factors`."""
        h = fx * fz
        for i, block in enumerate(self.dec_y):
            h = block(h, relu=i < len(self.dec_y) - 1)  # the output block stays linear
        return self.model.destandardise(h)


# What the generation functions take: the trained model, or its folded generation path.
GenerationModel = BassNet | FoldedBassNet
