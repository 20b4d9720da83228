"""The VGAE: shapes, tied weights, gradients, receptive fields, save/load."""

import pytest
import torch

from bassnet.errors import ConfigError
from bassnet.model import BassNet, ModelConfig
from bassnet.model.stack import dilations, receptive_field
from bassnet.training.losses import train_loss
from bassnet.training.targets import window_targets

PAPER_WINDOWS = ["10/10", "20/20", "40/40", "10/20", "10/40", "20/40", "10/640", "20/640", "40/640"]


def tiny(window: str, **kw) -> BassNet:
    torch.manual_seed(0)
    return BassNet(ModelConfig(window=window, maps=2, blocks=2, head_maps=2, **kw))


def windows(model: BassNet, batch: int = 2):
    spec = model.config.spec
    x = torch.randn(batch, spec.channels, spec.compressed, 264) - 7
    y = torch.randn(batch, spec.channels, spec.compressed, 264) - 8
    return x, y


@pytest.mark.parametrize("window", PAPER_WINDOWS)
def test_shapes_for_every_paper_window(window):
    model = tiny(window)
    spec = model.config.spec
    x, y = windows(model, batch=3)
    fx = model.mix_factors(x)
    mu, logvar = model.posterior(fx, y)
    y_hat = model.generate(fx, mu)
    out = model.descriptors(y_hat)
    assert mu.shape == logvar.shape == (3, 2)
    assert y_hat.shape == (3, spec.channels, spec.compressed, 264)
    assert out["f0"].shape == (3, spec.channels, spec.compressed, 265)
    assert out["level"].shape == out["onset"].shape == (3, spec.channels, spec.compressed)


@pytest.mark.parametrize("size", [10, 40, 264, 640])
@pytest.mark.parametrize("blocks", [2, 3, 5])
def test_top_block_sees_the_whole_input(size, blocks):
    dils = dilations(size, blocks, 3)
    assert receptive_field(dils, 3) >= size
    assert dils[0] == 1 and dils == sorted(dils)


def test_decoder_weights_are_the_encoders():
    model = tiny("8/16")
    block = model.enc_y.blocks[0]
    h = torch.randn(2, 2, 8, 264)
    before = model.enc_y.decode(h).detach().clone()
    with torch.no_grad():
        block.weight.mul_(2)  # the encoder's kernel
    assert not torch.allclose(model.enc_y.decode(h), before)
    # and no separate decoder kernels exist
    kernels = [n for n, p in model.named_parameters() if p.ndim == 4]
    assert all(n.endswith(("weight", "weight_1x1")) and ".blocks." in n or n.startswith("heads")
               for n in kernels)  # fmt: skip


def test_tied_transposed_convolution_matches_torch():
    block = tiny("8/16").enc_y.blocks[1]
    h = torch.randn(2, 2, 8, 264)
    expected = torch.nn.functional.conv_transpose2d(
        h, block.weight, padding=block.padding, dilation=block.dilation
    )
    got = torch.nn.functional.conv2d(
        h, block.weight.transpose(0, 1).flip(2, 3), padding=block.padding,
        dilation=block.dilation,
    )  # fmt: skip
    assert torch.allclose(expected, got, atol=1e-5)


def test_gradients_reach_every_parameter():
    model = tiny("8/16")
    spec = model.config.spec
    x, y = windows(model, batch=3)
    u, v = windows(model, batch=3)
    f0 = torch.randint(0, 265, (3, 16))
    targets = window_targets(f0, torch.rand(3, 16), torch.rand(3, 16), spec)
    train_loss(model, x, y, u, v, targets, targets)["loss"].backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.any()]
    assert missing == []


def test_save_and_load_rebuild_the_same_model(tmp_path):
    model = tiny("10/40").eval()
    x, y = windows(model)
    model.save(tmp_path / "m.pt", note="hi")
    loaded = BassNet.load(tmp_path / "m.pt")
    assert loaded.config == model.config
    fx = model.mix_factors(x)
    assert torch.equal(model.posterior(fx, y)[0], loaded.posterior(loaded.mix_factors(x), y)[0])
    assert loaded.extra == {"note": "hi"} and model.extra == {}  # one read gives the extras too


def test_a_checkpoint_is_byte_for_byte_reproducible(tmp_path):
    # the same model saved twice (each through its own temporary file) gives the same bytes,
    # so DVC sees an unchanged output when a rerun reproduces the weights
    model = tiny("10/40")
    model.save(tmp_path / "a.pt", note="hi")
    model.save(tmp_path / "b" / "a.pt", note="hi")
    assert (tmp_path / "a.pt").read_bytes() == (tmp_path / "b" / "a.pt").read_bytes()


def test_batch_norm_layout_does_not_change_the_output():
    # The blocks run batch norm on NCHW copies of channels-last tensors (faster on the CPU);
    # the same layers on the same numbers in NCHW throughout must agree.
    model = tiny("10/40")
    x, y = windows(model, batch=4)
    fx = model.mix_factors(x)
    h = model.standardise(x).contiguous()
    for block in model.enc_x.blocks:
        left = torch.nn.functional.conv2d(h, block.weight, padding=block.padding,
                                          dilation=block.dilation)  # fmt: skip
        h = torch.relu(block.enc_norm(left) + block.enc_norm_1x1(
            torch.nn.functional.conv2d(h, block.weight_1x1)))  # fmt: skip
    assert fx.is_contiguous(memory_format=torch.channels_last)
    assert torch.allclose(fx, h, atol=1e-4)  # float rounding: sums in another order


def test_a_constant_z_decoded_once_broadcasts_to_the_same_output():
    model = tiny("10/40").eval()
    x, _ = windows(model, batch=3)
    z = torch.tensor([[0.4, -0.2]]).repeat(3, 1)
    with torch.no_grad():
        fx = model.mix_factors(x)
        each = model.generate(fx, z)
        once = model.generate_from_factors(fx, model.latent_factors(z[:1]))
        other = model.generate(fx, torch.zeros(3, 2))
    assert torch.allclose(once, each, atol=1e-5)
    assert not torch.allclose(other, each, atol=1e-3)  # z does reach the output


@pytest.mark.parametrize("bad", ["40", "40/30", "3/40", "a/b", "40/40/40"])
def test_unknown_window_spec_is_a_config_error(bad):
    with pytest.raises(ConfigError, match="window"):
        ModelConfig(window=bad)


def test_the_latent_does_not_move_with_a_transposition():
    # f_µ reads the mapping averaged over time and frequency: mix and bass shifted together
    # by a few bins keep about the same µ (only the window's zero-padded edges differ), while
    # another interval between them moves it
    torch.manual_seed(0)
    model = BassNet(ModelConfig(window="10/10", maps=4, blocks=2, head_maps=2)).eval()
    x = torch.full((1, 1, 10, 264), -9.0)
    y = torch.full((1, 1, 10, 264), -9.0)
    x[..., 100:103] = x[..., 136:139] = -4.0  # a "chord" at two pitches
    y[..., 64:67] = -3.0  # a "bass" an octave below the first
    with torch.no_grad():
        mu = model.posterior(model.mix_factors(x), y)[0]
        shifted = model.posterior(model.mix_factors(x.roll(6, -1)), y.roll(6, -1))[0]
        other = model.posterior(model.mix_factors(x), y.roll(36, -1))[0]  # bass on the chord
    assert (mu - shifted).abs().max() < 0.1 * (mu - other).abs().max()


@pytest.mark.parametrize("window", PAPER_WINDOWS)
def test_the_papers_latent_reads_the_whole_mapping_at_every_window(window):
    # latent_input "full": f_µ, f_σ map the n·a·F mapping to [µ, log σ²], and z comes back
    # as a whole (n, a, F) input of dec_z
    model = tiny(window, latent_input="full", unvoiced_class=False)
    spec = model.config.spec
    x, y = windows(model, batch=3)
    fx = model.mix_factors(x)
    mu, logvar = model.posterior(fx, y)
    flat = 2 * spec.compressed * 264
    assert model.latent_weight.shape == (4, flat) and model.from_latent_bias.shape == (flat,)
    assert mu.shape == logvar.shape == (3, 2)
    assert model.latent_factors(mu).shape == (3, 2, spec.compressed, 264)
    y_hat = model.generate(fx, mu)
    out = model.descriptors(y_hat)
    assert y_hat.shape == (3, spec.channels, spec.compressed, 264)
    assert out["f0"].shape == (3, spec.channels, spec.compressed, 264)  # the bins alone


def test_the_papers_latent_moves_with_a_transposition_and_z_reaches_each_position():
    # unlike the pooled reading, the whole mapping says where bass and mix sit: shifting both
    # moves µ, and z's input to dec_z differs from one (t, f) to another
    torch.manual_seed(0)
    model = BassNet(ModelConfig(window="10/10", maps=4, blocks=2, head_maps=2,
                                latent_input="full")).eval()  # fmt: skip
    x = torch.full((1, 1, 10, 264), -9.0)
    y = torch.full((1, 1, 10, 264), -9.0)
    x[..., 100:103] = x[..., 136:139] = -4.0
    y[..., 64:67] = -3.0
    with torch.no_grad():
        mu = model.posterior(model.mix_factors(x), y)[0]
        shifted = model.posterior(model.mix_factors(x.roll(6, -1)), y.roll(6, -1))[0]
        start = torch.tensor([[1.0, -1.0]]) @ model.latent_weight[:2] / 2**0.5
    assert (mu - shifted).abs().max() > 1e-3
    assert start.reshape(4, 10, 264).std((1, 2)).min() > 0.1


def test_gradients_reach_every_parameter_of_the_papers_variant():
    model = tiny("8/16", latent_input="full", unvoiced_class=False)
    x, y = windows(model, batch=3)
    u, v = windows(model, batch=3)
    f0 = torch.randint(0, 265, (3, 16))
    targets = window_targets(f0, torch.rand(3, 16), torch.rand(3, 16), model.config.spec)
    train_loss(model, x, y, u, v, targets, targets, reconstruction="mean")["loss"].backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.any()]
    assert missing == []
    assert not any("unvoiced" in n for n, _ in model.named_parameters())


def test_a_model_file_names_the_switches_only_off_their_defaults(tmp_path):
    # a file at the defaults (pooled, with the unvoiced class) holds the config it would hold
    # without the switches; the paper's variant names them and loads back as such
    tiny("10/40").save(tmp_path / "pooled.pt")
    stored = torch.load(tmp_path / "pooled.pt", weights_only=True)["config"]
    assert "latent_input" not in stored and "unvoiced_class" not in stored
    assert BassNet.load(tmp_path / "pooled.pt").config.latent_input == "pooled"
    paper = tiny("10/40", latent_input="full", unvoiced_class=False).eval()
    paper.save(tmp_path / "paper.pt")
    stored = torch.load(tmp_path / "paper.pt", weights_only=True)["config"]
    assert (stored["latent_input"], stored["unvoiced_class"]) == ("full", False)
    loaded = BassNet.load(tmp_path / "paper.pt")
    assert loaded.config == paper.config
    x, y = windows(paper)
    assert torch.equal(paper.posterior(paper.mix_factors(x), y)[0],
                       loaded.posterior(loaded.mix_factors(x), y)[0])  # fmt: skip
