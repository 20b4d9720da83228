"""Each loss term against a hand computation on small tensors."""

import math

import pytest
import torch

from bassnet.training.losses import kl_normal, kl_prior, reconstruction_terms


def test_kl_between_gaussians_by_hand():
    # KL(N(1, 1) ‖ N(0, 1)) = ½·1² = 0.5 per dimension; KL(N(0, e²) ‖ N(0, 1)) = ½(e² − 1 − 2)
    mu1 = torch.tensor([[1.0, 0.0]])
    logvar1 = torch.tensor([[0.0, 2.0]])
    zeros = torch.zeros(1, 2)
    expected = 0.5 + 0.5 * (math.exp(2) - 1 - 2)
    assert torch.allclose(kl_normal(mu1, logvar1, zeros, zeros), torch.tensor([expected]))
    assert torch.allclose(kl_prior(mu1, logvar1), torch.tensor([expected]))
    # KL(N(0, 1) ‖ N(2, e⁻²)·) with σ2² = e⁻²: ½(e² + 4e² − 1 − 2)
    got = kl_normal(zeros[:, :1], zeros[:, :1], torch.tensor([[2.0]]), torch.tensor([[-2.0]]))
    assert torch.allclose(got, torch.tensor([0.5 * (math.exp(2) * 5 - 1 - 2)]))


def test_kl_of_identical_distributions_is_zero():
    mu, logvar = torch.randn(4, 2), torch.randn(4, 2)
    assert torch.allclose(kl_normal(mu, logvar, mu, logvar), torch.zeros(4), atol=1e-6)


def test_reconstruction_terms_by_hand():
    # one instance, one channel, two frames, three "bins" (+ unvoiced as a 4th class)
    y = torch.tensor([[[[0.0, 1.0, 2.0], [1.0, 1.0, 1.0]]]])
    y_hat = torch.tensor([[[[1.0, 1.0, 2.0], [1.0, 3.0, 1.0]]]])
    logits = {
        "f0": torch.tensor([[[[0.0, 0.0, 0.0, 0.0], [2.0, 0.0, 0.0, 0.0]]]]),
        "level": torch.tensor([[[0.0, 2.0]]]),
        "onset": torch.tensor([[[0.0, -1.0]]]),
    }
    targets = {
        "f0": torch.tensor([[[[1.0, 0.0, 0.0, 0.0], [0.5, 0.5, 0.0, 0.0]]]]),
        "level": torch.tensor([[[1.0, 0.0]]]),
        "onset": torch.tensor([[[0.5, 0.0]]]),
    }
    terms = reconstruction_terms(y, y_hat, logits, targets)
    assert math.isclose(terms["mse"].item(), (1 + 4) / 6, rel_tol=1e-6)
    log_z = math.log(math.exp(2) + 3)
    f0 = (math.log(4) + (0.5 * (log_z - 2) + 0.5 * log_z)) / 2
    assert math.isclose(terms["f0"].item(), f0, rel_tol=1e-6)

    def sigmoid(a):
        return 1 / (1 + math.exp(-a))

    level = (-math.log(0.5) - math.log(1 - sigmoid(2))) / 2
    onset = (-math.log(0.5) - math.log(1 - sigmoid(-1))) / 2
    assert math.isclose(terms["level"].item(), level, rel_tol=1e-6)
    assert math.isclose(terms["onset"].item(), onset, rel_tol=1e-6)


def _small_model_and_batch():
    """A tiny 10/40 model and a batch of two windows with soft targets (seeded)."""
    from bassnet.model import BassNet, ModelConfig

    torch.manual_seed(0)
    model = BassNet(ModelConfig(window="10/40", maps=2, blocks=2, head_maps=2))
    spec = model.config.spec
    x = torch.randn(2, spec.channels, spec.compressed, 264) - 7
    y = torch.randn(2, spec.channels, spec.compressed, 264) - 8
    f0 = torch.softmax(torch.randn(2, spec.channels, spec.compressed, 265), -1)
    unit = torch.rand(2, spec.channels, spec.compressed)
    targets = {"f0": f0, "level": unit, "onset": unit}
    return model, x, y, targets


def test_objective_sums_reconstruction_over_the_frames_of_a_window():
    # per-frame means are reported; the objective weighs them by the C·a frames of the window
    # (a log-likelihood of the window) against per-window KL terms
    from bassnet.training.losses import test_loss, train_loss

    model, x, y, targets = _small_model_and_batch()
    spec = model.config.spec
    frames = spec.channels * spec.compressed  # 3 × 10
    for terms in (test_loss(model, x, y, targets), train_loss(model, x, y, x, y, targets, targets)):
        kl = sum(v for k, v in terms.items() if k.startswith("kl"))
        recon = terms["mse"] + terms["f0"] + terms["level"] + terms["onset"]
        assert torch.allclose(terms["loss"], kl + frames * recon)


def test_free_bits_price_the_prior_kl_at_no_less_than_that_many_nats():
    from bassnet.training.losses import _reduce

    terms = {"kl_prior": torch.tensor([0.2, 0.4], requires_grad=True), "mse": torch.ones(2)}
    plain, free = _reduce(terms, frames=1), _reduce(terms, frames=1, free_bits=1.0)
    assert math.isclose(plain["loss"].item(), 0.3 + 1.0, rel_tol=1e-6)
    assert math.isclose(free["loss"].item(), 1.0 + 1.0, rel_tol=1e-6)  # 0.3 nats counted as 1
    assert math.isclose(free["kl_prior"].item(), 0.3, rel_tol=1e-6)  # logged as it is
    free["loss"].backward()
    assert torch.equal(terms["kl_prior"].grad, torch.zeros(2))  # below: no pull to the prior
    above = _reduce({"kl_prior": torch.tensor([2.0, 4.0]), "mse": torch.ones(2)}, 1, 1.0)
    assert math.isclose(above["loss"].item(), 3.0 + 1.0, rel_tol=1e-6)  # above: unchanged


def test_loss_weights_scale_reconstruction_terms_in_the_objective_only():
    from bassnet.training.losses import _reduce

    terms = {"kl_prior": torch.tensor([1.0]), "f0": torch.tensor([2.0]),
             "onset": torch.tensor([0.5])}  # fmt: skip
    plain = _reduce(terms, frames=10)
    weighted = _reduce(terms, frames=10, weights={"onset": 4.0})
    assert math.isclose(plain["loss"].item(), 1.0 + 10 * (2.0 + 0.5), rel_tol=1e-6)
    assert math.isclose(weighted["loss"].item(), 1.0 + 10 * (2.0 + 4 * 0.5), rel_tol=1e-6)
    assert weighted["onset"].item() == 0.5  # logged unweighted


def test_loss_weights_name_only_reconstruction_terms(tiny_train_cfg):
    import dataclasses

    from bassnet.errors import ConfigError

    dataclasses.replace(tiny_train_cfg, loss_weights={"onset": 5, "f0": 0.5})  # accepted
    for bad in ({"kl_prior": 2.0}, {"onset": -1.0}, {"onset": "high"}):
        with pytest.raises(ConfigError, match="loss_weights"):
            dataclasses.replace(tiny_train_cfg, loss_weights=bad)


def test_posterior_noise_scales_the_sample_decoded_in_training(tiny_train_cfg):
    # noise 1 is Eq. (9)'s z ~ N(µ, σ²); noise 0 decodes the neighbour's µ: the loss is then
    # the same whatever the random draw
    import dataclasses

    from bassnet.errors import ConfigError
    from bassnet.model import BassNet, ModelConfig
    from bassnet.training.losses import train_loss

    torch.manual_seed(0)
    model = BassNet(ModelConfig(window="10/40", maps=2, blocks=2, head_maps=2))
    spec = model.config.spec
    x, u = (torch.randn(2, spec.channels, spec.compressed, 264) - 7 for _ in range(2))
    y, v = (torch.randn(2, spec.channels, spec.compressed, 264) - 8 for _ in range(2))
    f0 = torch.softmax(torch.randn(2, spec.channels, spec.compressed, 265), -1)
    unit = torch.rand(2, spec.channels, spec.compressed)
    targets = {"f0": f0, "level": unit, "onset": unit}

    def loss(noise, seed):
        torch.manual_seed(seed)
        return train_loss(model, x, y, u, v, targets, targets, noise=noise)

    mu, logvar = torch.tensor([[1.0, -2.0]]), torch.tensor([[0.0, 2.0]])
    assert torch.equal(BassNet.sample(mu, logvar, 0.0), mu)
    torch.manual_seed(3)
    eps = torch.randn_like(mu)
    torch.manual_seed(3)
    assert torch.allclose(BassNet.sample(mu, logvar, 0.5), mu + 0.5 * eps * torch.exp(0.5 * logvar))
    assert torch.equal(loss(0.0, 1)["mse"], loss(0.0, 2)["mse"])  # z = µ: no draw matters
    assert not torch.equal(loss(1.0, 1)["mse"], loss(1.0, 2)["mse"])  # Eq. (9): it does
    torch.manual_seed(1)
    default = train_loss(model, x, y, u, v, targets, targets)
    assert torch.equal(default["loss"], loss(1.0, 1)["loss"])  # 1 is the default, Eq. (9)
    dataclasses.replace(tiny_train_cfg, posterior_noise=0)  # accepted
    for bad in (-0.1, 1.5):
        with pytest.raises(ConfigError, match="posterior_noise"):
            dataclasses.replace(tiny_train_cfg, posterior_noise=bad)


@pytest.mark.parametrize("window", ["10/10", "40/40", "40/640"])
def test_per_frame_means_price_a_nat_in_z_alike_at_every_window(window):
    # the same error on every frame: "mean" (Eq. 9) gives the same objective whatever the
    # window, "sum" weighs it by the window's C·a frames (10, 40, 200)
    from bassnet.model.multires import WindowSpec
    from bassnet.training.losses import _reduce

    spec = WindowSpec.parse(window)
    shape = (2, spec.channels, spec.compressed)
    y = torch.zeros(*shape, 264)
    f0 = torch.zeros(*shape, 265)
    f0[..., 5] = 1.0
    logits = {"f0": torch.zeros(*shape, 265), "level": torch.zeros(shape),
              "onset": torch.zeros(shape)}  # fmt: skip
    targets = {"f0": f0, "level": torch.ones(shape), "onset": torch.zeros(shape)}
    terms = {"kl_prior": torch.tensor([0.7, 0.7]),
             **reconstruction_terms(y, y + 0.5, logits, targets)}  # fmt: skip
    per_frame = 0.25 + math.log(265) + 2 * math.log(2)
    frames = spec.channels * spec.compressed
    mean = _reduce(terms, frames, reconstruction="mean")["loss"].item()
    summed = _reduce(terms, frames, reconstruction="sum")["loss"].item()
    assert math.isclose(mean, 0.7 + per_frame, rel_tol=1e-5)
    assert math.isclose(summed, 0.7 + frames * per_frame, rel_tol=1e-5)
    assert frames == {"10/10": 10, "40/40": 40, "40/640": 200}[window]
    with pytest.raises(ValueError, match="reconstruction"):
        _reduce(terms, frames, reconstruction="max")


def test_the_objective_adds_per_frame_means_without_a_frame_count_where_asked():
    from bassnet.training.losses import test_loss, train_loss

    model, x, y, targets = _small_model_and_batch()
    for terms in (
        test_loss(model, x, y, targets, reconstruction="mean"),
        train_loss(model, x, y, x, y, targets, targets, reconstruction="mean"),
    ):
        kl = sum(v for k, v in terms.items() if k.startswith("kl"))
        recon = terms["mse"] + terms["f0"] + terms["level"] + terms["onset"]
        assert torch.allclose(terms["loss"], kl + recon)


def test_without_the_unvoiced_class_an_unvoiced_frame_has_no_f0_target():
    # the paper's 264-bin categorical: targets (…, 265) read up to the logits' 264 classes, so
    # an unvoiced frame adds 0 to the CCE and a voiced one its −log p
    y = torch.zeros(1, 1, 2, 3)
    logits = {"f0": torch.tensor([[[[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]]),
              "level": torch.zeros(1, 1, 2), "onset": torch.zeros(1, 1, 2)}  # fmt: skip
    targets = {"f0": torch.tensor([[[[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]]]),
               "level": torch.zeros(1, 1, 2), "onset": torch.zeros(1, 1, 2)}  # fmt: skip
    terms = reconstruction_terms(y, y, logits, targets)
    voiced = math.log(math.exp(2) + 2) - 2
    assert math.isclose(terms["f0"].item(), (voiced + 0.0) / 2, rel_tol=1e-6)
