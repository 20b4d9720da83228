"""The `bassnet` command line: a thin layer over the library. Defaults come from params.yaml."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bassnet import __version__
from bassnet.errors import BassnetError


def _render(args: argparse.Namespace) -> None:
    from bassnet.config import RenderConfig, load_params
    from bassnet.synth.dataset import check_dataset, render_dataset

    check_dataset(args.dataset)
    params = load_params(args.params, args.profile)
    overrides = {
        k: v for k, v in {"seconds": args.seconds, "workers": args.workers}.items() if v is not None
    }
    cfg = RenderConfig.from_params({**params, "render": {**params["render"], **overrides}})
    seed = args.seed if args.seed is not None else cfg.seeds.get(args.dataset)
    if seed is None:
        raise BassnetError(f"no seed for {args.dataset}: pass --seed or set render.seeds")
    songs = args.songs if args.songs is not None else cfg.songs
    out = Path(args.out) if args.out else Path("datasets") / args.dataset
    summary = render_dataset(args.dataset, out, songs, seed, cfg, progress=not args.quiet)
    print(summary.line())


def _features(args: argparse.Namespace) -> None:
    from pipelines.features import run

    run(args.rest)  # our flags and Beam's; the job's own parser sorts them


def _train(args: argparse.Namespace) -> None:
    from bassnet.config import load_params
    from bassnet.train import model_dir, train
    from bassnet.train_config import TrainConfig, model_config

    params = load_params(args.params, args.profile)
    overrides = {
        k: v
        for k, v in {
            "max_mini_epochs": args.max_mini_epochs,
            "max_minutes": args.max_minutes,
            "device": args.device,
        }.items()
        if v is not None
    }
    cfg = TrainConfig.from_params({**params, "train": {**params["train"], **overrides}})
    model_cfg = model_config(params, args.window)
    out = args.out or str(model_dir("models", Path(args.features).name, args.window, args.ablation))
    summary = train(
        args.features, out, model_cfg, cfg, ablation=args.ablation, progress=not args.quiet
    )
    best = summary["best_val"]
    print(
        f"trained {summary['dataset']} {summary['window']} ({summary['objective']}): "
        f"{summary['mini_epochs']} mini-epochs ({summary['stopped_by']}), "
        f"best at {summary['best_mini_epoch']}: val loss {best.get('loss', float('nan')):.3f}, "
        f"f0 CCE {best.get('f0', float('nan')):.3f}; "
        f"{summary['instances_per_s']:.1f} instances/s on {summary['device']}, "
        f"{summary['minutes']:.1f} min → {out}/model.pt"
    )


def _evaluate(args: argparse.Namespace) -> None:
    from bassnet.config import load_params
    from bassnet.report import run_evaluation
    from bassnet.train_config import TrainConfig

    params = load_params(args.params, args.profile)
    train_cfg = TrainConfig.from_params(params)
    section = params.get("evaluate", {})
    run_evaluation(
        Path(args.models), Path(args.features), Path(args.out), Path(args.metrics),
        list(train_cfg.windows), list(train_cfg.ablation_windows), args.datasets.split(","),
        section.get("windows", 1000), section.get("folds", 5), section.get("seed", 0),
        params["profile"],
    )  # fmt: skip
    print(f"report → {args.out}/report.md, metrics → {args.metrics}")


def _encode(args: argparse.Namespace) -> None:
    from bassnet.encode import encode_files

    rows = encode_files(args.model, args.mix, args.bass, args.output)
    print(f"{rows} windows → {args.output}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `bassnet` and its subcommands."""
    parser = argparse.ArgumentParser(prog="bassnet", description=__doc__)
    parser.add_argument("--version", action="version", version=f"bassnet {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    render = sub.add_parser(
        "render",
        help="render an artificial dataset (A1-A4) to MIDI, WAV and labels",
        description="Render songs 0..N-1 of an artificial dataset (paper §5.1). Values not "
        "given come from params.yaml (the active profile).",
    )
    render.add_argument("dataset", help="A1, A2, A3 or A4")
    render.add_argument("--songs", type=int, help="number of songs")
    render.add_argument("--seed", type=int, help="dataset seed (default: render.seeds)")
    render.add_argument("--out", help="output folder (default: datasets/DATASET)")
    render.add_argument("--seconds", type=float, help="approximate song length in seconds")
    render.add_argument("--workers", type=int, help="render processes (0 = one per core)")
    render.add_argument("--params", help="params file (default: ./params.yaml)")
    render.add_argument("--profile", help="profile in the params file (default: its `profile`)")
    render.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    render.set_defaults(func=_render)

    features = sub.add_parser(
        "features",
        help="extract CQTs and bass descriptors into Parquet shards (an Apache Beam job)",
        description="bassnet features --manifest M --out DIR [--metrics FILE] [beam options]; "
        "see `bassnet features -- --help`. Flags we do not know go to Beam (e.g. --runner).",
        add_help=False,
    )
    features.set_defaults(func=_features)

    train = sub.add_parser(
        "train",
        help="train a BassNet model on feature shards (paper §4.4, §5.3)",
        description="Train one VGAE on the shards of a features folder with Eq. (9), or "
        "Eq. (10) with --ablation. Sizes and training settings come from params.yaml (the "
        "active profile). A killed run resumes from its checkpoint when rerun.",
    )
    train.add_argument("--features", required=True, help="folder of Parquet feature shards")
    train.add_argument("--window", required=True, help="multi-resolution window, e.g. 40/40")
    train.add_argument("--out", help="output folder (default: models/DATASET/WINDOW)")
    train.add_argument("--ablation", action="store_true", help="train on Eq. (10) (§6.3)")
    train.add_argument("--max-mini-epochs", type=int, help="stop after this many mini-epochs")
    train.add_argument("--max-minutes", type=float, help="stop after this many minutes")
    train.add_argument("--device", choices=["cpu", "cuda", "auto"], help="default: train.device")
    train.add_argument("--params", help="params file (default: ./params.yaml)")
    train.add_argument("--profile", help="profile in the params file (default: its `profile`)")
    train.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    train.set_defaults(func=_train)

    evaluate = sub.add_parser(
        "evaluate",
        help="evaluate the trained models: Tables 1-3, Figs. 5 and 7, reports/report.md",
    )
    evaluate.add_argument("--models", default="models", help="folder of trained models")
    evaluate.add_argument("--features", default="data/features", help="folder of feature sets")
    evaluate.add_argument("--datasets", default="A1,A2,A3,A4", help="comma-separated names")
    evaluate.add_argument("--out", default="reports", help="report folder")
    evaluate.add_argument("--metrics", default="metrics/evaluation.json", help="metrics JSON")
    evaluate.add_argument("--params", help="params file (default: ./params.yaml)")
    evaluate.add_argument("--profile", help="profile in the params file")
    evaluate.set_defaults(func=_evaluate)

    encode = sub.add_parser(
        "encode",
        help="where a song sits in the latent space: µ and σ per window, as CSV",
        description="Writes time_s,mu1,mu2,sigma1,sigma2 for each window (hop: half the "
        "expanded window) of a mix and its bass.",
    )
    encode.add_argument("--model", required=True, help="a trained model.pt")
    encode.add_argument("--mix", required=True, help="audio of the mix (without bass)")
    encode.add_argument("--bass", required=True, help="audio of the bass")
    encode.add_argument("-o", "--output", required=True, help="CSV to write")
    encode.set_defaults(func=_encode)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `bassnet` console script."""
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if args.command == "features":
        args.rest = rest
    elif rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    try:
        args.func(args)
    except BassnetError as err:
        print(f"bassnet: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
