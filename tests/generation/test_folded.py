"""Folded blocks (bassnet.generation.folded) compute what the model's own layers compute."""

import pytest
import torch

from bassnet.generation.folded import FoldedBassNet
from bassnet.model import BassNet, ModelConfig


def _trained_looking(window: str, latent_input: str = "pooled") -> BassNet:
    """A small model whose batch norms hold non-trivial statistics and affine parameters."""
    torch.manual_seed(0)
    config = ModelConfig(window=window, maps=8, blocks=4, head_maps=8, latent_input=latent_input)
    model = BassNet(config)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            n = module.num_features
            module.running_mean.copy_(torch.randn(n))
            module.running_var.copy_(torch.rand(n) + 0.5)
            module.weight.data.copy_(torch.randn(n))
            module.bias.data.copy_(torch.randn(n))
    return model.eval()


@pytest.mark.parametrize("window", ["40/40", "10/640"])
def test_folded_generation_equals_the_models(window):
    model = _trained_looking(window)
    folded = FoldedBassNet(model)
    spec = model.config.spec
    x = torch.randn(3, spec.channels, spec.compressed, 264) * 1.2 - 7.5
    z = torch.tensor([[0.4, 0.0], [-1.0, 0.5], [0.0, 2.0]])
    with torch.no_grad():
        fx, fz = model.mix_factors(x), model.latent_factors(z)
        assert torch.allclose(folded.mix_factors(x), fx, atol=1e-4, rtol=1e-4)
        want = model.generate_from_factors(fx, fz)
        got = folded.generate_from_factors(folded.mix_factors(x), fz)
    assert want.std() > 0.1  # a real signal, not a constant both sides agree on
    assert torch.allclose(got, want, atol=1e-3, rtol=1e-4)


@pytest.mark.parametrize(("window", "latent_input"), [("40/40", "pooled"), ("10/640", "full")])
def test_folded_posterior_equals_the_models(window, latent_input):
    model = _trained_looking(window, latent_input)
    folded = FoldedBassNet(model)
    spec = model.config.spec
    x = torch.randn(3, spec.channels, spec.compressed, 264) * 1.2 - 7.5
    y = torch.randn(3, spec.channels, spec.compressed, 264) * 1.2 - 7.5
    with torch.no_grad():
        want = model.posterior(model.mix_factors(x), y)
        got = folded.posterior(folded.mix_factors(x), y)
    assert want[0].std() > 0.01  # windows apart, not one constant
    for g, w in zip(got, want, strict=True):
        assert torch.allclose(g, w, atol=1e-4, rtol=1e-4)


def test_a_model_in_training_mode_is_refused():
    model = _trained_looking("40/40").train()
    with pytest.raises(ValueError, match="eval mode"):
        FoldedBassNet(model)
