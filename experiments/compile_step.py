"""Does `torch.compile` pay for the CPU training step? Eager against compiled, same batches.

One model (`--profile`, `--window`, features of `--features`), trained from the same seed
twice on the same sampled batches: eagerly, and with the loss's forward pass through
`torch.compile` (inductor; Adam and the backward pass as training runs them). Prints and
writes the median step of each after warm-up, the compiled one's first two steps (compile
time included) and the speed-up; the eager model is timed again after, so drift shows.

    python experiments/compile_step.py --window 40-40 --steps 10
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--window", default="40-40")
    parser.add_argument("--features", default=str(ROOT / "data" / "features" / "A1"))
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--out", default=str(ROOT / "experiments/results/compile_step.json"))
    args = parser.parse_args()

    import numpy as np
    import torch

    from bassnet.atomic import write_text
    from bassnet.config import load_params
    from bassnet.constants import FRAME_RATE
    from bassnet.model import BassNet
    from bassnet.training.config import TrainConfig, model_config
    from bassnet.training.data import WindowSampler, shard_paths
    from bassnet.training.losses import train_loss

    params = load_params(profile=args.profile)
    cfg = TrainConfig.from_params(params)
    model_cfg = model_config(params, args.window)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    sampler = WindowSampler(shard_paths(args.features), model_cfg.spec,
                            round(cfg.neighbourhood_s * FRAME_RATE), np.random.default_rng(0),
                            model_cfg.level_floor_db, cfg.max_shards_in_memory)  # fmt: skip
    batches = [sampler.batch(cfg.batch_size) for _ in range(args.steps + 2)]

    def fresh():
        torch.manual_seed(cfg.seed)
        model = BassNet(model_cfg).train()
        return model, torch.optim.Adam(model.parameters(), lr=cfg.learning_rate)

    def steps(model, optimiser, loss_fn, chosen) -> list[float]:
        times = []
        for b in chosen:
            started = time.perf_counter()
            loss = loss_fn(model, b)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            loss.item()
            times.append(time.perf_counter() - started)
        return times

    def eager(model, b):
        return train_loss(model, b["x"], b["y"], b["u"], b["v"], b["targets"],
                          b["targets_v"])["loss"]  # fmt: skip

    model, optimiser = fresh()
    steps(model, optimiser, eager, batches[:2])
    eager_ms = statistics.median(steps(model, optimiser, eager, batches[2:])) * 1000
    compiled_model, compiled_optimiser = fresh()
    compiled = torch.compile(eager)
    first_s = sum(steps(compiled_model, compiled_optimiser, compiled, batches[:2]))
    compiled_ms = statistics.median(
        steps(compiled_model, compiled_optimiser, compiled, batches[2:])) * 1000  # fmt: skip
    again_ms = statistics.median(steps(model, optimiser, eager, batches[2:])) * 1000
    result = {
        "profile": args.profile, "window": args.window, "batch_size": cfg.batch_size,
        "threads": torch.get_num_threads(), "steps": args.steps,
        "eager_ms": round(eager_ms, 1), "eager_again_ms": round(again_ms, 1),
        "compiled_ms": round(compiled_ms, 1), "compiled_first_two_steps_s": round(first_s, 1),
        "speed_up": round(eager_ms / compiled_ms, 2),
    }  # fmt: skip
    print(json.dumps(result))
    write_text(Path(args.out), json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
