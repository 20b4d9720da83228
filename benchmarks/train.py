"""Benchmark: training speed and memory of the BassNet VGAE on real A1 windows.

Prints training instances per second and peak memory for one training step (forward, backward
and an Adam update on the Eq. (9) objective, `bassnet.training.losses.train_loss`, at the profile's
batch size) with the default profile's model and train settings and with the paper's
(5 blocks × 128 maps, batch 20), each at windows 40/40 and 10/640, on the CPU and, when torch
sees CUDA, on the GPU (`--devices` picks). Batches are cut from the feature shards by
`WindowSampler`, as in training, before the clock starts: the figures are the step alone. Each
measurement runs in a fresh process, so its memory is its own: on the CPU, the growth of the
process's peak RSS (`ru_maxrss`) over warm-up and measured steps (activations, gradients, Adam
state) and the process's whole peak; on CUDA, `torch.cuda.max_memory_allocated` (growth and
whole). The paper's model takes tens of seconds a step on a 2-core CPU, so there it gets one
warm-up and one measured step (`--paper-cpu-steps`), or none with `--skip-paper-cpu`. A 40/40
window holds four times the frames per channel of 10/640, so expect about four times its step
time and activation memory (on a 2-core CPU, minutes a step and over 10 GiB). `--merge` keeps
the measurements already in the results file that a run does not repeat, so the slow ones can be
made on their own. Writes benchmarks/results/train.json.

The roofline: in the same process, right after the step is measured, the step's convolutions
alone: every conv1d/conv2d call of one real step is recorded (input, weight and bias shapes
and strides, stride, padding, dilation, groups, whether the input needs a gradient, and the
strides of the gradient that reaches its output), then replayed as a plain stack of those
calls, forward and backward, on random tensors laid out alike. Step and stack are timed in
turns (`--roofline-rounds`, each round `--steps` of each) and the medians kept, so that a
changing load on the machine weighs on both alike: `roofline_ms` (the stack), `step_ms_median`
and `step_to_roofline` = roofline_ms / step_ms_median (1.0: the step costs no more than its
convolutions). A torch.profiler run of `--profile-steps` steps then splits the step's self CPU
time (and, on CUDA, its kernels' time) into buckets by operator: convolution, batch norm,
layout copies, activations, heads and loss, element-wise ops and reductions, the optimizer,
other. An operator belongs to the bucket of its outermost named caller (the copies inside a
convolution are the convolution's, as they are in the stack); a backward operator to that of
its autograd node. The multi-resolution cut runs in the sampler, before the clock starts
(`batch_sampling_ms`, per batch); the step itself calls none of it.

Usage: python benchmarks/train.py [--features DIR] [--steps N] [--warmup N]
           [--windows 40-40,10-640] [--profiles default,paper] [--paper-cpu-steps N]
           [--skip-paper-cpu] [--devices cpu,cuda] [--roofline-rounds N] [--profile-steps N]
           [--out FILE] [--merge]
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import os
import platform
import re
import resource
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

RESULTS = Path(__file__).parent / "results" / "train.json"
FEATURES = Path("data/features/A1")
MIB = 1024 * 1024
CONV_ARGS = ("input", "weight", "bias", "stride", "padding", "dilation", "groups")


@dataclass(frozen=True)
class Layout:
    """A tensor's shape and strides (in elements), enough to lay out a random one alike."""

    shape: tuple[int, ...]
    stride: tuple[int, ...]

    @classmethod
    def of(cls, t: torch.Tensor) -> Layout:
        return cls(tuple(t.shape), tuple(t.stride()))

    def random(self, like: torch.Tensor, requires_grad: bool = False) -> torch.Tensor:
        """Standard normal values of `like`'s dtype and device in this shape, with these
        strides where they pack the elements densely (channels-last, contiguous, ...)."""
        import torch

        if _dense(self.shape, self.stride):
            t = torch.empty_strided(self.shape, self.stride, dtype=like.dtype, device=like.device)
            t.normal_()
        else:  # a broadcast or strided view: its values would be copied anyway
            t = torch.randn(self.shape, dtype=like.dtype, device=like.device)
        return t.requires_grad_(requires_grad)


def _dense(shape: tuple[int, ...], stride: tuple[int, ...]) -> bool:
    """Whether the strides place every element once, with no gaps (any order of the axes)."""
    packed = 1
    for step, size in sorted((st, n) for n, st in zip(shape, stride, strict=True) if n > 1):
        if step != packed:
            return False
        packed *= size
    return True


@dataclass
class ConvCall:
    """One convolution of a step: its function (torch.conv1d/2d/3d), the layouts of input,
    weight, bias and of the gradient that reached its output in backward (None: none did),
    the arguments as passed, and whether its input needed a gradient."""

    fn: Callable
    input: Layout
    weight: Layout
    bias: Layout | None
    args: dict[str, Any]  # stride, padding, dilation, groups
    input_grad: bool
    grad: Layout | None = None


def record_convolutions(loss_fn: Callable[[], torch.Tensor]) -> list[ConvCall]:
    """Every conv1d/conv2d/conv3d call of `loss_fn()` and of the loss's backward, in order.

    The blocks call `F.conv2d` themselves (tied weights, the decoders' flipped kernels), so
    module hooks would miss them: the calls are caught at the functional level by a
    TorchFunctionMode, and each output's gradient layout by a tensor hook. The gradients are
    left in the parameters' `.grad`.
    """
    import torch
    from torch.overrides import TorchFunctionMode

    calls: list[ConvCall] = []
    functions = {torch.conv1d, torch.conv2d, torch.conv3d}

    def keep_grad(call: ConvCall) -> Callable[[torch.Tensor], None]:
        def hook(grad: torch.Tensor) -> None:
            call.grad = Layout.of(grad)

        return hook

    class Recorder(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
            out = func(*args, **(kwargs or {}))
            if func in functions:
                bound = {**dict(zip(CONV_ARGS, args, strict=False)), **(kwargs or {})}
                x, w, b = bound.pop("input"), bound.pop("weight"), bound.pop("bias", None)
                call = ConvCall(
                    func, Layout.of(x), Layout.of(w), None if b is None else Layout.of(b),
                    bound, x.requires_grad,
                )  # fmt: skip
                calls.append(call)
                if out.requires_grad:
                    out.register_hook(keep_grad(call))
            return out

    with Recorder():
        loss = loss_fn()
    loss.backward()
    return calls


class ConvStack:
    """The recorded convolutions alone: each call on its own random tensors of the recorded
    layouts (input, weight, bias, output gradient), forward, then backward for the gradients
    the step computes (weight and bias always, input where the step's input needed one)."""

    def __init__(self, calls: list[ConvCall], like: torch.Tensor) -> None:
        self.calls = calls
        self.tensors = [
            (
                c.input.random(like, c.input_grad),
                c.weight.random(like, True),
                None if c.bias is None else c.bias.random(like, True),
                None if c.grad is None else c.grad.random(like),
            )
            for c in calls
        ]

    def run(self) -> None:
        """One forward and backward pass of every convolution."""
        import torch

        outs, grads = [], []
        for call, (x, w, b, g) in zip(self.calls, self.tensors, strict=True):
            out = call.fn(x, w, b, **call.args)
            if g is not None:
                outs.append(out)
                grads.append(g)
        torch.autograd.backward(outs, grads)
        for tensors in self.tensors:
            for t in tensors[:3]:
                if t is not None:
                    t.grad = None  # as zero_grad(set_to_none=True): no accumulation


# Profiler buckets, first match wins: (bucket, parts of a name, whole names), tested on an
# operator's name made lower case without "aten::", underscores and a "Backward<n>" suffix
# (an autograd node's name), so that a forward operator and its backward share a bucket.
BUCKETS: tuple[tuple[str, tuple[str, ...], frozenset[str]], ...] = (
    ("optimizer", ("optimizer.", "foreach", "accumulategrad"), frozenset()),
    ("convolution", ("conv",), frozenset()),
    ("batch norm", ("batchnorm",), frozenset()),
    (
        "heads and loss",
        ("softmax", "nllloss", "crossentropy", "mseloss", "linear", "addmm", "matmul"),
        frozenset({"mm", "bmm"}),
    ),
    (
        "layout copies",
        (),
        frozenset("copy contiguous clone to tocopy flip permute transpose".split()),
    ),
    ("activations", ("relu", "threshold", "sigmoid", "tanh", "gelu", "silu"), frozenset()),
    (
        "element-wise and reductions",
        (),
        frozenset(
            "add sub rsub mul div neg pow exp log sqrt mean sum cat stack index select slice "
            "expand unbind split chunk clamp where fill zero".split()
        ),
    ),
)
OTHER = "other"


def op_key(name: str) -> str:
    """A profiler event's name as `BUCKETS` tests it: "aten::copy_" → "copy",
    "autograd::engine::evaluate_function: NativeBatchNormBackward0" → "nativebatchnorm"."""
    name = name.rsplit("evaluate_function: ", 1)[-1]
    name = name.removeprefix("aten::").removeprefix("torch::autograd::").lower()
    return re.sub(r"backward\d*$", "", name.replace("_", ""))


def bucket_of(name: str) -> str | None:
    """The bucket an operator names, or None (it belongs to its caller's, else "other")."""
    key = op_key(name)
    return next(
        (
            bucket
            for bucket, parts, names in BUCKETS
            if key in names or any(p in key for p in parts)
        ),
        None,
    )


def profile_buckets(run_step: Callable[[], None], steps: int, cuda: bool) -> dict:
    """Profile `steps` calls of `run_step` (torch.profiler: CPU, and CUDA when `cuda`) and
    split the self time into `BUCKETS`: an operator counts in the bucket of its outermost
    caller that names one (a convolution's internal copies are the convolution's), else its
    own, else "other". Per device: {bucket: {"share", "ms_per_step", "top": {op: ms}}}, the
    buckets ordered by time, and "self_<device>_ms_per_step", the total profiled per step."""
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with warnings.catch_warnings():  # the profiler's note on events kept per cycle
        warnings.simplefilter("ignore", UserWarning)
        with profile(activities=activities) as prof:
            for _ in range(steps):
                run_step()
        events = list(prof.events())
    named: dict[int, str | None] = {}

    def bucket(event: Any) -> str | None:  # noqa: ANN401 - torch's FunctionEvent
        if id(event) not in named:
            parent = event.cpu_parent
            outer = bucket(parent) if parent is not None else None
            named[id(event)] = outer or bucket_of(event.name)
        return named[id(event)]

    out: dict = {"steps": steps}
    for device in ["cpu"] + (["cuda"] if cuda else []):
        times: dict[str, dict[str, float]] = {}
        for event in events:
            if device == "cpu":
                us = event.self_cpu_time_total  # 0 for a kernel's own event
            else:  # kernels count with the operator that launched them, not again as events
                us = event.self_device_time_total if event.device_type == DeviceType.CPU else 0
            if us > 0:
                ops = times.setdefault(bucket(event) or OTHER, {})
                ops[event.name] = ops.get(event.name, 0.0) + us / 1000 / steps
        total = sum(sum(ops.values()) for ops in times.values())
        table = {}
        for name, ops in sorted(times.items(), key=lambda kv: -sum(kv[1].values())):
            ms = sum(ops.values())
            top = sorted(ops.items(), key=lambda kv: -kv[1])[:3]
            table[name] = {
                "share": round(ms / total, 3),
                "ms_per_step": round(ms, 1),
                "top": {op: round(t, 1) for op, t in top},
            }
        out[f"self_{device}_ms_per_step"] = round(total, 1)
        out[device] = table
    return out


def alternate(
    step: Callable[[], None], stack: Callable[[], None], n: int, rounds: int, cuda: bool
) -> tuple[list[float], list[float]]:
    """Milliseconds of each call of `step` and of `stack`, `n` of each per round, in turns."""
    import torch

    def timed(fn: Callable[[], None]) -> float:
        if cuda:
            torch.cuda.synchronize()
        started = time.perf_counter()
        fn()
        if cuda:
            torch.cuda.synchronize()
        return (time.perf_counter() - started) * 1000

    steps: list[float] = []
    stacks: list[float] = []
    for _ in range(rounds):
        steps += [timed(step) for _ in range(n)]
        stacks += [timed(stack) for _ in range(n)]
    return steps, stacks


def measure(job: dict) -> dict:
    """One (profile, window, device) measurement; runs in a fresh (spawned) process."""
    import numpy as np
    import torch

    from bassnet.config import load_params
    from bassnet.constants import FRAME_RATE
    from bassnet.model import BassNet
    from bassnet.training.config import TrainConfig, model_config
    from bassnet.training.data import WindowSampler, shard_paths
    from bassnet.training.losses import train_loss

    params = load_params(profile=job["profile"])
    cfg = TrainConfig.from_params(params)
    model_cfg = model_config(params, job["window"])
    if cfg.threads:  # as in training: 0 = torch's default, one per core
        torch.set_num_threads(cfg.threads)
    device = job["device"]
    torch.manual_seed(cfg.seed)
    sampler = WindowSampler(
        shard_paths(job["features"]),
        model_cfg.spec,
        round(cfg.neighbourhood_s * FRAME_RATE),
        np.random.default_rng(0),
        model_cfg.level_floor_db,
        cfg.max_shards_in_memory,
    )
    started = time.perf_counter()
    batches = [sampler.batch(cfg.batch_size) for _ in range(job["warmup"] + job["steps"])]
    batch_ms = (time.perf_counter() - started) * 1000 / len(batches)
    model = BassNet(model_cfg).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=cfg.learning_rate)
    model.train()

    def to_device(b: dict) -> dict:
        return {
            k: ({n: t.to(device) for n, t in v.items()} if isinstance(v, dict) else v.to(device))
            for k, v in b.items()
        }

    def loss_of(b: dict) -> torch.Tensor:
        terms = train_loss(model, b["x"], b["y"], b["u"], b["v"], b["targets"], b["targets_v"])
        return terms["loss"]

    def step(b: dict) -> float:
        loss = loss_of(b)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        return loss.item()  # also waits for the GPU

    cuda = device.startswith("cuda")
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    for b in batches[: job["warmup"]]:
        step(to_device(b))
    elapsed = 0.0
    for b in batches[job["warmup"] :]:
        b = to_device(b)
        if cuda:
            torch.cuda.synchronize()
        started = time.perf_counter()
        loss = step(b)
        elapsed += time.perf_counter() - started
    if not np.isfinite(loss):
        raise RuntimeError(f"{job}: the loss is not finite ({loss})")
    ms_per_step = elapsed * 1000 / job["steps"]
    result = {
        "batch_size": cfg.batch_size,
        "steps": job["steps"],
        "warmup": job["warmup"],
        "ms_per_step": round(ms_per_step, 1),
        "instances_per_s": round(cfg.batch_size * 1000 / ms_per_step, 2),
        "batch_sampling_ms": round(batch_ms, 1),
        "parameters": sum(p.numel() for p in model.parameters()),
        "threads": torch.get_num_threads(),
    }
    if cuda:
        peak = torch.cuda.max_memory_allocated()
        result["peak_alloc_mib"] = round(peak / MIB, 1)
        result["peak_alloc_growth_mib"] = round((peak - base) / MIB, 1)
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        result["peak_rss_mib"] = round(peak / MIB, 1)
        result["peak_rss_growth_mib"] = round((peak - base) / MIB, 1)

    # The roofline, after the memory figures so that the stack's tensors are not in them.
    measured = [to_device(b) for b in batches[job["warmup"] :]]
    turns = itertools.cycle(measured)

    def next_step() -> None:
        step(next(turns))

    calls = record_convolutions(lambda: loss_of(measured[0]))
    optimiser.zero_grad(set_to_none=True)
    stack = ConvStack(calls, measured[0]["x"])
    stack.run()  # oneDNN and cuDNN choose and build their kernels on a shape's first call
    step_ms, stack_ms = alternate(next_step, stack.run, job["steps"], job["rounds"], cuda)
    del stack
    roofline_ms, median_ms = statistics.median(stack_ms), statistics.median(step_ms)
    result.update(
        convolutions=len(calls),
        roofline_rounds=job["rounds"],
        step_ms_median=round(median_ms, 1),
        roofline_ms=round(roofline_ms, 1),
        step_to_roofline=round(roofline_ms / median_ms, 3),
        profile=profile_buckets(next_step, job["profile_steps"], cuda),
    )
    return result


def roofline_report(name: str, r: dict) -> list[str]:
    """The profile table of one measurement and its one-line summary (ratio and shares)."""
    prof = r["profile"]
    devices = [d for d in ("cpu", "cuda") if d in prof]
    head = f"{'bucket':28}" + "".join(f" {d + ' ms':>9} {'share':>6}" for d in devices)
    lines = [
        f"{name}: profile of {prof['steps']} step(s), self time per step "
        + ", ".join(f"{d} {prof[f'self_{d}_ms_per_step']} ms" for d in devices),
        head + "  top operators (cpu ms)",
        "-" * (len(head) + 24),
    ]
    for bucket in prof["cpu"]:
        cells = ""
        for d in devices:
            row = prof[d].get(bucket, {"ms_per_step": 0.0, "share": 0.0})
            cells += f" {row['ms_per_step']:9.1f} {row['share'] * 100:5.1f}%"
        top = ", ".join(f"{op} {ms}" for op, ms in prof["cpu"][bucket]["top"].items())
        lines.append(f"{bucket:28}{cells}  {top}")
    shares = {d: ", ".join(f"{b} {v['share']:.0%}" for b, v in prof[d].items()) for d in devices}
    summary = (
        f"{name}: step {r['step_ms_median']:.0f} ms, its convolutions alone "
        f"{r['roofline_ms']:.0f} ms → {r['step_to_roofline']:.2f} of the roofline; "
        f"{shares['cpu']}"
    )
    if "cuda" in shares:
        summary += f"; GPU kernels: {shares['cuda']}"
    summary += (
        f"; the sampler (multi-resolution cut) {r['batch_sampling_ms']} ms a batch, outside the "
        "step"
    )
    return [*lines, summary]


def cpu_model() -> str:
    """The CPU's model name (Linux), else the architecture."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run_fresh(job: dict) -> dict:
    """`measure(job)` in a new process, so that its peak RSS is not an earlier job's."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(measure, (job,))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=Path, default=FEATURES, help="feature shards")
    parser.add_argument("--steps", type=int, default=5, help="measured steps")
    parser.add_argument("--warmup", type=int, default=2, help="warm-up steps before them")
    parser.add_argument("--windows", default="40-40,10-640", help="comma-separated, e.g. 10-640")
    parser.add_argument("--profiles", default="default,paper", help="model/train settings")
    parser.add_argument(
        "--paper-cpu-steps", type=int, default=1, help="measured steps (after as many warm-up "
        "steps) of the paper's model on the CPU, tens of seconds each"
    )  # fmt: skip
    parser.add_argument("--skip-paper-cpu", action="store_true", help="no paper model on CPU")
    parser.add_argument("--devices", help="comma-separated, cpu and/or cuda (default: the CPU, "
                        "and the GPU where torch sees one)")  # fmt: skip
    parser.add_argument(
        "--roofline-rounds", type=int, default=5, help="turns of --steps steps and as many "
        "passes of the convolutions alone (1 for the paper's model on the CPU)"
    )  # fmt: skip
    parser.add_argument(
        "--profile-steps", type=int, default=2, help="profiled steps (1 for the paper's model "
        "on the CPU)"
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--merge", action="store_true", help="keep the measurements in --out that this run "
        "does not repeat (e.g. the paper's model on the CPU, measured on its own)"
    )  # fmt: skip
    args = parser.parse_args()

    from bassnet.errors import DataError
    from bassnet.model.multires import WindowSpec
    from bassnet.training.data import shard_paths

    try:
        shard_paths(args.features)
    except DataError:
        parser.exit(
            1,
            f"error: {args.features} holds no feature shards (part-*.parquet); make them with "
            "`dvc repro features@A1` (or pass --features DIR)\n",
        )
    windows = [str(WindowSpec.parse(w)).replace("/", "-") for w in args.windows.split(",")]
    profiles = [p.strip() for p in args.profiles.split(",") if p.strip()]
    if min(args.steps, args.paper_cpu_steps, args.roofline_rounds, args.profile_steps) < 1:
        parser.error("--steps, --paper-cpu-steps, --roofline-rounds, --profile-steps must be >= 1")
    if args.warmup < 0:
        parser.error("--warmup must be >= 0")

    import torch

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    if args.devices:
        devices = [d.strip() for d in args.devices.split(",") if d.strip()]
        if not devices or set(devices) - {"cpu", "cuda"}:
            parser.error("--devices: a comma-separated list of cpu and cuda")
        if "cuda" in devices and not torch.cuda.is_available():
            parser.error("--devices cuda: torch sees no GPU here")
    results: dict = {}
    if args.merge and args.out.exists():
        results = json.loads(args.out.read_text())
    results.update(
        features=str(args.features),
        cpus=os.cpu_count(),
        machine=platform.machine(),
        cpu_model=cpu_model(),
        device=torch.cuda.get_device_name(0) if "cuda" in devices else cpu_model(),
    )
    for device in devices:
        measured = results.setdefault(device, {})
        for profile in profiles:
            for window in windows:
                steps, warmup = args.steps, args.warmup
                rounds, profile_steps = args.roofline_rounds, args.profile_steps
                if profile == "paper" and device == "cpu":
                    if args.skip_paper_cpu:
                        continue
                    steps = warmup = args.paper_cpu_steps
                    rounds = profile_steps = 1
                job = {
                    "profile": profile,
                    "window": window,
                    "device": device,
                    "features": str(args.features),
                    "steps": steps,
                    "warmup": warmup,
                    "rounds": rounds,
                    "profile_steps": profile_steps,
                }
                print(f"{device} {profile} {window}: {warmup} warm-up + {steps} steps ...")
                load = round(os.getloadavg()[0], 2)
                measured[f"{profile}_{window}"] = {**run_fresh(job), "load_avg_1min": load}
    rows, ratios = [], []
    for device in ("cpu", "cuda"):
        measured = results.get(device, {})
        for key, r in measured.items():
            if isinstance(r, dict):
                rows.append((device, *key.split("_", 1), r))
        for key in [k for k in measured if k.startswith("default_")]:
            window = key.split("_", 1)[1]
            default, paper = measured[key], measured.get(f"paper_{window}")
            if paper:  # seconds per instance, paper / default
                ratio = round(default["instances_per_s"] / paper["instances_per_s"], 1)
                measured[f"paper_over_default_s_per_instance_{window}"] = ratio
                ratios.append((device, window, ratio))
    cpu_threads = [r["threads"] for device, *_, r in rows if device == "cpu"]
    results["threads"] = cpu_threads[0] if cpu_threads else torch.get_num_threads()

    head = (
        f"{'device':6} {'config':8} {'window':7} {'batch':>5} {'steps':>5} {'ms/step':>9} "
        f"{'inst/s':>8} {'peak MiB':>9} {'growth MiB':>10} {'params':>9} {'load':>5}"
    )
    print("\n" + head + "\n" + "-" * len(head))
    for device, profile, window, r in rows:
        peak = r.get("peak_rss_mib", r.get("peak_alloc_mib"))
        growth = r.get("peak_rss_growth_mib", r.get("peak_alloc_growth_mib"))
        print(
            f"{device:6} {profile:8} {window.replace('-', '/'):7} {r['batch_size']:5d} "
            f"{r['steps']:5d} {r['ms_per_step']:9.1f} {r['instances_per_s']:8.2f} "
            f"{peak:9.1f} {growth:10.1f} {r['parameters']:9d} {r['load_avg_1min']:5.2f}"
        )
    for device, window, ratio in ratios:
        print(
            f"{device} {window.replace('-', '/')}: the paper's model takes {ratio}x the "
            "default's seconds per instance"
        )
    print(
        f"torch threads: {results['threads']} (of {os.cpu_count()} CPUs); load: 1-min load "
        "average when the measurement began. Peak MiB: CPU = process peak RSS (ru_maxrss), "
        "CUDA = torch.cuda.max_memory_allocated; growth = over the warm-up and measured steps. "
        "Cutting the batches is not timed."
    )
    for device, profile, window, r in rows:
        if "roofline_ms" in r:
            print("\n" + "\n".join(roofline_report(f"{profile} {window} {device}", r)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
