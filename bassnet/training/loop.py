"""Training (paper §5.3): Adam on Eq. (9) — or Eq. (10) for the ablation — in mini-epochs,
validated on Eq. (10) after each, early-stopped with a patience, resumable after a kill.

Files written for one model (`out_dir`, e.g. models/A1/40-40):
    model.pt          the weights with the best validation loss, with their config
    live/             dvclive metrics and per-mini-epoch curves (train/*, val/* per term)
    summary.json      what the run did: mini-epochs, best validation terms, speed
and, while running, `checkpoint` (the last mini-epoch: weights, optimiser, RNG states),
deleted when the run ends. A rerun with the same settings resumes from it; with other settings
it starts afresh.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from bassnet.atomic import write_text
from bassnet.constants import FRAME_RATE
from bassnet.errors import DataError
from bassnet.model import BassNet, ModelConfig, load_checkpoint, write_checkpoint
from bassnet.model.latent import latent
from bassnet.training.config import TrainConfig
from bassnet.training.data import WindowSampler, WindowSet, shard_paths
from bassnet.training.losses import test_loss, test_loss_and_mu, train_loss
from bassnet.training.remix import Remixer


@dataclass
class RunState:
    """What a resumed run needs besides weights: where it was and what it had seen."""

    mini_epoch: int = 0
    best_val: float = math.inf
    best_mini_epoch: int = 0
    since_best: int = 0
    instances: int = 0
    seconds: float = 0.0


def model_dir(models: str | Path, dataset: str, window: str, ablation: bool = False) -> Path:
    """Where a model lives: <models>/<dataset>/<a-b>[-ablation]."""
    from bassnet.model.multires import WindowSpec

    slug = WindowSpec.parse(window).slug
    return Path(models) / dataset / (slug + ("-ablation" if ablation else ""))


# TrainConfig fields a model's summary leaves out: the others say how it was trained.
UNRECORDED = (
    "windows",
    "ablation_windows",
    "collection_window",
    "device",
    "threads",
    "valid_batch",
)

# The source that defines what a training step computes: a checkpoint written by other code
# (say, before a change to the objective) must not be resumed as if it were this run's.
PACKAGE = Path(__file__).resolve().parents[1]
TRAINING_CODE = ("training", "model")


def code_hash() -> str:
    """sha256 of the training code's source files (TRAINING_CODE), in a fixed order."""
    digest = hashlib.sha256()
    for name in TRAINING_CODE:
        path = PACKAGE / name
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(file.relative_to(PACKAGE).as_posix().encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def fingerprint(model_cfg: ModelConfig, train_cfg: TrainConfig, ablation: bool, shards) -> str:
    """Hash of everything that defines a run (settings, data, training code); a checkpoint
    resumes only a run with the same."""
    settings = asdict(train_cfg)
    for cap in ("max_mini_epochs", "max_minutes", "windows", "ablation_windows", "device",
                "valid_batch"):  # fmt: skip
        settings.pop(cap)  # extending a capped run, moving it to a GPU, resumes it
    blob = json.dumps(
        {
            "model": model_cfg.to_dict(),
            "train": settings,
            "ablation": ablation,
            "shards": [(p.name, p.stat().st_size) for p in shards],
            "code": code_hash(),
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _to(batch: dict, device: str) -> dict:
    return {
        k: ({n: t.to(device) for n, t in v.items()} if isinstance(v, dict) else v.to(device))
        for k, v in batch.items()
    }


def validate(
    model: BassNet, windows: WindowSet, device: str, batch_size: int = TrainConfig.valid_batch,
    weights: dict[str, float] | None = None, reconstruction: str = "sum",
) -> dict:  # fmt: skip
    """Eq. (10) with z = µ, averaged over the fixed validation windows: {term: value}; "loss"
    weighs the reconstruction terms by `weights` (`train.loss_weights`) and adds them as
    `reconstruction` says (`train.reconstruction`), as training does."""
    return validate_with_mu(model, windows, device, batch_size, weights, reconstruction)[0]


@torch.no_grad()
def validate_with_mu(
    model: BassNet, windows: WindowSet, device: str, batch_size: int = TrainConfig.valid_batch,
    weights: dict[str, float] | None = None, reconstruction: str = "sum",
) -> tuple[dict, np.ndarray]:  # fmt: skip
    """`validate`, and µ (N, latent_dim) of each validation window from the same pass."""
    was_training = model.training
    model.eval()
    sums: dict[str, float] = {}
    mus = []
    for x, y, targets in windows.batches(batch_size):
        terms, mu = test_loss_and_mu(model, x.to(device), y.to(device), _to(targets, device),
                                     weights=weights, reconstruction=reconstruction)  # fmt: skip
        mus.append(mu.cpu())
        for name, value in terms.items():
            sums[name] = sums.get(name, 0.0) + float(value) * len(x)
    model.train(was_training)
    return {name: total / len(windows) for name, total in sums.items()}, torch.cat(mus).numpy()


def train(
    features_dir: str | Path,
    out_dir: str | Path,
    model_cfg: ModelConfig,
    cfg: TrainConfig,
    ablation: bool = False,
    progress: bool = True,
) -> dict:
    """Train one model on the shards in `features_dir`; returns the run's summary."""
    from dvclive import Live

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    device = cfg.torch_device()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    shards = shard_paths(features_dir)
    spec = model_cfg.spec
    tag = fingerprint(model_cfg, cfg, ablation, shards)
    checkpoint = out_dir / "checkpoint"

    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    model = BassNet(model_cfg).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=cfg.learning_rate)
    valid = WindowSet(shards, spec, cfg.valid_windows, model_cfg.level_floor_db)
    state = RunState()
    resumed = _resume(checkpoint, tag, model, optimiser, rng, state, device)
    sampler = WindowSampler(
        shards,
        spec,
        neighbourhood=round(cfg.neighbourhood_s * FRAME_RATE),
        rng=rng,
        level_floor_db=model_cfg.level_floor_db,
        max_shards=cfg.max_shards_in_memory,
        remixer=Remixer(*cfg.remix, device) if cfg.remix else None,
        transpose=cfg.transpose,
        mix_gain_db=cfg.mix_gain_db,
        mix_tilt_db=cfg.mix_tilt_db,
    )
    if resumed:
        sampler.restore(resumed["shards_loaded"])
        rng.bit_generator.state = resumed["numpy_rng"]  # after the sampler's own draws

    live = Live(str(out_dir / "live"), resume=bool(resumed), save_dvc_exp=False, dvcyaml=None)
    if not resumed:  # the starting point, so the curves show how far training got
        _log(live, {}, validate(model, valid, device, cfg.valid_batch, weights=cfg.loss_weights,
                                reconstruction=cfg.reconstruction))  # fmt: skip
        live.next_step()
        model.save(out_dir / "model.pt", mini_epoch=0)
    steps = math.ceil(cfg.mini_epoch / cfg.batch_size)
    # counts steps, so a paper-size mini-epoch (50 steps of minutes each on a CPU) shows progress
    bar = tqdm(
        total=cfg.max_mini_epochs and cfg.max_mini_epochs * steps,
        initial=state.mini_epoch * steps,
        desc=f"train {Path(features_dir).name} {spec}{' ablation' if ablation else ''}",
        unit="step",
        disable=not progress,
    )
    precision = training_precision(cfg.precision, device)
    started, reason = time.monotonic() - state.seconds, "max_mini_epochs"
    while cfg.max_mini_epochs is None or state.mini_epoch < cfg.max_mini_epochs:
        if state.since_best >= cfg.patience:
            reason = "early stopping"
            break
        if cfg.max_minutes is not None and state.seconds >= 60 * cfg.max_minutes:
            reason = "max_minutes"
            break
        sums: dict[str, float] = {}
        for _ in range(steps):
            batch = _to(sampler.batch(cfg.batch_size), device)
            with precision:
                terms = _step_terms(model, batch, cfg, ablation)
            optimiser.zero_grad(set_to_none=True)
            terms["loss"].backward()
            optimiser.step()
            for name, value in terms.items():
                sums[name] = sums.get(name, 0.0) + value.item() / steps
            bar.update()
        state.instances += steps * cfg.batch_size
        state.mini_epoch += 1
        val = validate(model, valid, device, cfg.valid_batch, weights=cfg.loss_weights,
                       reconstruction=cfg.reconstruction)  # fmt: skip
        if val["loss"] < state.best_val:
            state.best_val, state.best_mini_epoch, state.since_best = (
                val["loss"],
                state.mini_epoch,
                0,
            )
            model.save(out_dir / "model.pt", mini_epoch=state.mini_epoch, val=val)
        else:
            state.since_best += 1
        state.seconds = time.monotonic() - started
        _log(live, sums, val)
        live.next_step()
        sampler.rotate()
        _save_checkpoint(checkpoint, tag, model, optimiser, rng, sampler, state)
        bar.set_postfix(mini_epoch=state.mini_epoch, loss=f"{sums['loss']:.3f}",
                        val=f"{val['loss']:.3f}", f0=f"{val['f0']:.3f}")  # fmt: skip
    bar.close()
    live.end()

    best = BassNet.load(out_dir / "model.pt")  # read once: weights for µ, extras to keep
    region = _latent_region(best, shards, cfg.valid_windows)
    best.save(out_dir / "model.pt", **best.extra, latent_region=region)
    summary = {
        "dataset": Path(features_dir).name,
        "window": str(spec),
        "objective": "Eq. (10) (ablation)" if ablation else "Eq. (9)",
        "mini_epochs": state.mini_epoch,
        "stopped_by": reason,
        "best_mini_epoch": state.best_mini_epoch,
        "best_val": best.extra.get("val", {}),
        "instances": state.instances,
        "instances_per_s": state.instances / max(state.seconds, 1e-9),
        "minutes": state.seconds / 60,
        "device": device,
        "remix": list(cfg.remix) if cfg.remix and sampler.has_stems else None,
        "latent_region": region,
        "train": {k: v for k, v in asdict(cfg).items() if k not in UNRECORDED},
    }
    write_text(out_dir / "summary.json", json.dumps(summary, indent=2) + "\n")
    checkpoint.unlink(missing_ok=True)
    return summary


def training_precision(precision: str, device: str) -> torch.autocast:
    """The context a training step's forward pass and loss run in: bf16 autocast on `device`
    for "bfloat16" (with a warning where the CPU has no bf16 instructions, which torch then
    emulates, more slowly than float32), else a disabled one."""
    kind = torch.device(device).type
    enabled = precision == "bfloat16"
    if enabled and kind == "cpu" and not torch.ops.mkldnn._is_mkldnn_bf16_supported():
        print(
            "bassnet: warning: train.precision bfloat16: this CPU has no bf16 instructions "
            "(AVX512-BF16 or AMX); torch emulates them, slower than float32",
            file=sys.stderr,
        )
    return torch.autocast(kind, dtype=torch.bfloat16, enabled=enabled)


def _step_terms(model: BassNet, batch: dict, cfg: TrainConfig, ablation: bool) -> dict:
    """One training step's loss terms: Eq. (9), or Eq. (10) for the ablation."""
    if ablation:
        return test_loss(model, batch["x"], batch["y"], batch["targets"], sample=True,
                         free_bits=cfg.free_bits, weights=cfg.loss_weights,
                         noise=cfg.posterior_noise, reconstruction=cfg.reconstruction)  # fmt: skip
    return train_loss(model, batch["x"], batch["y"], batch["u"], batch["v"], batch["targets"],
                      batch["targets_v"], cfg.free_bits, cfg.loss_weights, cfg.posterior_noise,
                      cfg.reconstruction)  # fmt: skip


def latent_region(mu: np.ndarray, margin: float = 0.1) -> dict[str, list[float]]:
    """Where the training data sits in the latent space, from µ (N, D): its mean ("centre",
    the default z of `bassnet generate`) and a box from the 1st to the 99th percentile per
    axis, widened by `margin` of its size ("low", "high": outside it a z is extrapolation)."""
    low, high = np.percentile(mu, [1, 99], axis=0)
    pad = margin * (high - low)
    return {
        "centre": mu.mean(0).round(5).tolist(),
        "low": (low - pad).round(5).tolist(),
        "high": (high + pad).round(5).tolist(),
    }


def _latent_region(model: BassNet, shards: list[Path], count: int) -> dict[str, list[float]]:
    """`latent_region` of the model (eval mode) over `count` windows of the training split."""

    windows = WindowSet(shards, model.config.spec, count, model.config.level_floor_db, "train")
    return latent_region(latent(model, windows.x, windows.y)[0])


def _log(live, train_terms: dict, val_terms: dict) -> None:
    for name, value in train_terms.items():
        live.log_metric(f"train/{name}", value)
    for name, value in val_terms.items():
        live.log_metric(f"val/{name}", value)


def _save_checkpoint(path, tag, model, optimiser, rng, sampler, state: RunState) -> None:
    payload = {
        "fingerprint": tag,
        "model": model.state_dict(),
        "optimiser": optimiser.state_dict(),
        "numpy_rng": rng.bit_generator.state,
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
        "shards_loaded": sorted(sampler.loaded),
        "state": asdict(state),
    }
    write_checkpoint(payload, path)


def _resume(path: Path, tag, model, optimiser, rng, state: RunState, device) -> dict | None:
    """Load `path` into the run if it belongs to it; the checkpoint dict, or None."""
    if not path.exists():
        return None
    try:  # tensors and plain data only: a crafted checkpoint runs nothing
        payload = load_checkpoint(path, device)
    except DataError as err:
        raise DataError(f"{err}; delete it to start afresh") from err
    if payload.get("fingerprint") != tag:
        print(f"{path}: a checkpoint of other settings; starting afresh")
        return None
    model.load_state_dict(payload["model"])
    optimiser.load_state_dict(payload["optimiser"])
    torch.set_rng_state(payload["torch_rng"].cpu())
    if payload["cuda_rng"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(payload["cuda_rng"])
    for key, value in payload["state"].items():
        setattr(state, key, value)
    print(f"resuming {path.parent} at mini-epoch {state.mini_epoch}")
    return payload
