"""benchmarks/train.py's roofline: the recorded convolutions are the model's, laid out as in
the step, and replay as a stack that is convolutions only; the profile's buckets add up."""

import pytest
import torch

from bassnet.model import BassNet, ModelConfig
from bassnet.training.losses import train_loss
from tests.benchmarks import load_script

bench = load_script("train")

BLOCKS = 2


@pytest.fixture(scope="module")
def step():
    """A small model's training step (Eq. 9, backward, Adam) on one fixed batch of 4 windows
    of 8/16 (2 resolution channels × 8 frames × 24 bins): the layers, layouts and operators of
    the real step, at a size that runs in milliseconds. The values of the windows do not
    change which operators run, so they are drawn at random around the network's scale."""
    torch.manual_seed(0)
    config = ModelConfig(window="8/16", maps=8, blocks=BLOCKS, head_maps=4, n_bins=24)
    model = BassNet(config)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    b, c, a, f = 4, config.spec.channels, config.spec.compressed, config.n_bins

    def windows() -> torch.Tensor:
        return config.cqt_mean + config.cqt_std * torch.randn(b, c, a, f)

    def targets() -> dict:
        f0 = torch.nn.functional.one_hot(torch.randint(0, f + 1, (b, c, a)), f + 1).float()
        return {"f0": f0, "level": torch.rand(b, c, a), "onset": torch.rand(b, c, a).round()}

    x, y, u, v, ty, tv = windows(), windows(), windows(), windows(), targets(), targets()

    def loss() -> torch.Tensor:
        return train_loss(model, x, y, u, v, ty, tv)["loss"]

    def run() -> None:
        value = loss()
        optimiser.zero_grad(set_to_none=True)
        value.backward()
        optimiser.step()

    return loss, run, x


def test_records_every_convolution_of_the_step_with_its_layouts(step):
    loss, _, x = step
    calls = bench.record_convolutions(loss)

    # Per block: enc_x encodes (2 convolutions: k×k and 1×1), enc_y and enc_z encode and
    # decode (4 each); the heads add the f0 convolutions (2) and level/onset (1).
    assert len(calls) == 10 * BLOCKS + 3
    # Only the first blocks of enc_x and enc_y read the data, which needs no gradient.
    assert sum(not c.input_grad for c in calls) == 4
    assert all(c.grad is not None for c in calls)  # every output reaches the loss
    # The blocks run on channels-last tensors (oneDNN); the norms hand back NCHW gradients.
    hidden = calls[2]  # enc_x's second block: 8 maps in
    assert hidden.input.stride[1] == 1 and hidden.input.shape[1] == 8
    assert hidden.grad.stride[-1] == 1 and hidden.grad.stride[1] == 8 * 24
    assert set(hidden.args) == {"padding", "dilation"}  # as the block passes them to F.conv2d

    stack = bench.ConvStack(calls, x)
    for call, (inp, weight, bias, grad) in zip(calls, stack.tensors, strict=True):
        assert (tuple(inp.shape), inp.stride()) == (call.input.shape, call.input.stride)
        assert (tuple(weight.shape), weight.stride()) == (call.weight.shape, call.weight.stride)
        assert (bias is None) == (call.bias is None)
        assert (tuple(grad.shape), grad.stride()) == (call.grad.shape, call.grad.stride)
        assert inp.requires_grad == call.input_grad

    stack.run()
    for inp, weight, bias, _ in stack.tensors:
        # cleared, as zero_grad(set_to_none=True) does
        assert weight.grad is None and inp.grad is None and (bias is None or bias.grad is None)

    steps, stacks = bench.alternate(lambda: None, stack.run, 3, 2, cuda=False)
    assert len(steps) == len(stacks) == 6 and min(stacks) > 0


def test_the_stack_is_convolutions_and_the_step_is_bucketed(step):
    loss, run, x = step
    stack = bench.ConvStack(bench.record_convolutions(loss), x)
    run()  # a warm-up step

    alone = bench.profile_buckets(stack.run, 2, cuda=False)
    assert alone["cpu"]["convolution"]["share"] >= 0.9

    prof = bench.profile_buckets(run, 2, cuda=False)
    table = prof["cpu"]
    named = {name for name, *_ in bench.BUCKETS} | {bench.OTHER}
    assert set(table) <= named
    # The step's own kinds of work, each found: the model makes all of them on the CPU.
    for bucket in ("convolution", "batch norm", "layout copies", "activations", "optimizer",
                   "heads and loss", "element-wise and reductions"):  # fmt: skip
        assert table[bucket]["ms_per_step"] > 0, bucket
    assert sum(row["share"] for row in table.values()) == pytest.approx(1.0, abs=0.01)
    assert sum(row["ms_per_step"] for row in table.values()) == pytest.approx(
        prof["self_cpu_ms_per_step"], abs=0.1 * len(table)
    )


@pytest.mark.parametrize(
    ("name", "bucket"),
    [
        ("aten::convolution_backward", "convolution"),
        ("autograd::engine::evaluate_function: ConvolutionBackward0", "convolution"),
        ("autograd::engine::evaluate_function: NativeBatchNormBackward0", "batch norm"),
        ("aten::native_batch_norm", "batch norm"),
        ("aten::copy_", "layout copies"),
        ("aten::contiguous", "layout copies"),
        ("aten::threshold_backward", "activations"),
        ("aten::_log_softmax_backward_data", "heads and loss"),
        ("aten::binary_cross_entropy_with_logits", "heads and loss"),
        ("Optimizer.step#Adam.step", "optimizer"),
        ("aten::_foreach_addcdiv_", "optimizer"),
        ("aten::add", "element-wise and reductions"),
        ("autograd::engine::evaluate_function: ExpandBackward0", "element-wise and reductions"),
        ("aten::randn_like", None),
    ],
)
def test_operator_names_fall_in_their_buckets(name, bucket):
    assert bench.bucket_of(name) == bucket


def test_dense_layouts():
    nchw, nhwc = (
        torch.empty(2, 3, 4, 5),
        torch.empty(2, 3, 4, 5).to(memory_format=torch.channels_last),
    )
    assert bench._dense(nchw.shape, nchw.stride()) and bench._dense(nhwc.shape, nhwc.stride())
    wide = torch.empty(2, 3, 4, 10)[..., ::2]
    broadcast = torch.empty(2, 3, 1, 1).expand(2, 3, 4, 5)
    assert not bench._dense(wide.shape, wide.stride())
    assert not bench._dense(broadcast.shape, broadcast.stride())
