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
