"""The `bassnet` command line: a thin layer over the library. Defaults come from params.yaml."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from bassnet import __version__
from bassnet.errors import BassnetError

# Commands that the core install (`pip install bassnet`) runs; the others need an extra
# (pyproject.toml): `serve` the serve extra, the rest the pipeline extra.
CORE_COMMANDS = ("generate", "encode", "models")
EXTRA_OF = {"serve": "serve"}
PARAMS_HELP = "params file (default: ./params.yaml if it is bassnet's, else the package's)"


def _render(args: argparse.Namespace) -> None:
    from bassnet.config import RenderConfig, load_params
    from bassnet.synth.dataset import check_dataset, render_dataset

    check_dataset(args.dataset)
    params = load_params(args.params, args.profile)
    overrides = {
        k: v for k, v in {"seconds": args.seconds, "workers": args.workers}.items() if v is not None
    }
    cfg = RenderConfig.from_params({**params, "render": {**params["render"], **overrides}})
    test = args.split == "test"
    seeds, key = (cfg.test_seeds, "render.test_seeds") if test else (cfg.seeds, "render.seeds")
    seed = args.seed if args.seed is not None else seeds.get(args.dataset)
    if seed is None:
        raise BassnetError(f"no seed for {args.dataset}: pass --seed or set {key}")
    songs = args.songs if args.songs is not None else cfg.test_songs if test else cfg.songs
    default_out = Path("datasets") / (f"{args.dataset}-test" if test else args.dataset)
    out = Path(args.out) if args.out else default_out
    summary = render_dataset(args.dataset, out, songs, seed, cfg, progress=not args.quiet,
                             split=args.split)  # fmt: skip
    print(summary.line())


def _features(args: argparse.Namespace) -> None:
    from bassnet.pipelines.beam_cli import quiet_stderr

    with quiet_stderr(not {"-v", "--verbose"} & set(args.rest)):  # Beam warns when imported
        from bassnet.pipelines.features import run
    run(args.rest)  # our flags and Beam's; the job's own parser sorts them


def _train(args: argparse.Namespace) -> None:
    from bassnet.config import load_params
    from bassnet.training.config import TrainConfig, control_model, model_config
    from bassnet.training.loop import model_dir, train

    params = load_params(args.params, args.profile)
    overrides = {
        k: v
        for k, v in {
            "max_mini_epochs": args.max_mini_epochs,
            "max_minutes": args.max_minutes,
            "device": args.device,
            "seed": args.seed,
        }.items()
        if v is not None
    }
    dataset = Path(args.features).name
    if args.control:  # the window and settings of the dataset's entry in control.models
        if args.window or args.ablation:
            raise BassnetError("--control takes its window from control.models; "
                              "drop --window and --ablation")  # fmt: skip
        params, name, args.window = control_model(params, dataset)
        seed = f"-seed{args.seed}" if args.seed is not None else ""
        args.out = args.out or str(Path("models") / dataset / f"control{seed}")
    elif not args.window:
        raise BassnetError("give --window (e.g. 40/40) or --control")
    else:
        model_config(params, args.window)  # checks the window first
        name = model_dir("", dataset, args.window, args.ablation).as_posix()
    model_cfg = model_config(params, args.window, name)
    cfg = TrainConfig.from_params(params, model=name, overrides=overrides)
    # another seed of a model trains beside it (<folder>-seed<N>); the evaluation aggregates them
    suffix = f"-seed{args.seed}" if args.seed is not None else ""
    out = args.out or str(Path("models") / f"{name}{suffix}")
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
    from bassnet.config import EvaluateConfig, checked_device, load_params
    from bassnet.evaluation.report import run_evaluation, stage_minutes
    from bassnet.training.config import TrainConfig

    params = load_params(args.params, args.profile)
    train_cfg = TrainConfig.from_params(params)
    cfg = EvaluateConfig.from_params(params)
    # "cpu" where the params name no device: the figures then do not depend on the machine's GPU
    device = checked_device(cfg.device, "evaluate.device")
    datasets = args.datasets.split(",")
    # the stage times of every rendered dataset (A5 too, which is not evaluated here)
    timed = sorted({*datasets, *params.get("render", {}).get("seeds", {})})
    run_evaluation(
        Path(args.models), Path(args.features), Path(args.out), Path(args.metrics),
        list(train_cfg.windows), list(train_cfg.ablation_windows), datasets,
        cfg.windows, cfg.folds, cfg.seed,
        params["profile"], stage_minutes(timed),
        list(params.get("collections") or {}),
        train_cfg.collection_window, params["train"].get("models") or {},
        train_windows=cfg.train_windows,
        test_windows=cfg.test_windows,
        control_metrics=Path(args.control_metrics),
        results=Path(args.results) if args.results else None, device=device,
        prior_metrics=Path(args.prior_metrics), batch_windows=cfg.batch_windows,
    )  # fmt: skip
    print(f"report → {args.out}/report.md, metrics → {args.metrics}"
          + (f", results → {args.results}" if args.results else ""))  # fmt: skip


def _encode(args: argparse.Namespace) -> None:
    from bassnet.generation.encode import encode_files
    from bassnet.pretrained import resolve

    rows = encode_files(resolve(args.model), args.mix, args.bass, args.output, args.device)
    print(f"{rows} windows → {args.output}")


def _params(args: argparse.Namespace) -> dict:
    """The parameters: --params, else ./params.yaml if it is bassnet's, else the packaged ones."""
    from bassnet.config import load_params

    return load_params(args.params)


def _generate_config(args: argparse.Namespace):
    from bassnet.generation.config import GenerateConfig

    return GenerateConfig.from_params(_params(args))


def _serve(args: argparse.Namespace) -> None:
    import shutil
    import signal
    import tempfile

    import uvicorn

    from bassnet.generation.config import GenerateConfig
    from bassnet.serve.app import create_app
    from bassnet.serve.config import ServeConfig
    from bassnet.serve.studio import Studio, dataset_songs, shipped_and_trained

    params = _params(args)
    cfg = ServeConfig.from_params(params)
    host, port = args.host or cfg.host, args.port or cfg.port
    # only what the user names: the shipped models, --models DIR and --model PATH (a folder
    # of the current directory is not searched); each is loaded when first picked
    models = shipped_and_trained(Path(args.models) if args.models else None, args.model or [])
    if args.model:  # the models named on the command line come first: the page's default
        first = [n for n in models if n in args.model or str(models[n].path) in args.model]
        models = {n: models[n] for n in first + [n for n in models if n not in first]}
    songs = dataset_songs(Path(args.songs))
    uploads = Path(tempfile.mkdtemp(prefix="bassnet-serve-"))
    # SIGTERM (kill, systemd, a container's stop) ends the server as Ctrl-C does, through the
    # `finally` below that removes the uploads: uvicorn handles both while it runs, then
    # re-raises the signal, which without a handler would end the process on the spot
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        studio = Studio(models, songs, uploads, cfg, GenerateConfig.from_params(params),
                        Path(args.latent), device=args.device)  # fmt: skip
        if host not in ("127.0.0.1", "localhost", "::1"):
            print(f"warning: listening on {host}: anyone who reaches this machine can use the pad")
        print(f"BassNet pad on http://{host}:{port}/ ({len(models)} models, {len(songs)} songs); "
              "Ctrl-C stops it", flush=True)  # fmt: skip
        uvicorn.run(create_app(studio, host), host=host, port=port, log_level="warning")
    finally:
        shutil.rmtree(uploads, ignore_errors=True)


def _generate_targets(mixes: list[str], output: str) -> list[tuple[str, Path]]:
    """(input, output stem) per input: `output` itself for one input, unless it names a folder
    (an existing one, or ending in "/"), where each input's stem goes; with several inputs
    `output` is always a folder."""
    folder = len(mixes) > 1 or Path(output).is_dir() or output.endswith(("/", "\\"))
    if not folder:
        return [(mixes[0], Path(output))]
    if Path(output).exists() and not Path(output).is_dir():
        raise BassnetError(f"{output}: is a file; with several inputs -o names a folder")
    stems: dict[str, str] = {}
    for mix in mixes:
        stem = Path(mix).stem
        if stem in stems:  # two inputs would write the same files
            raise BassnetError(f"{stems[stem]} and {mix} would both write {Path(output) / stem}"
                               ".wav: rename one")  # fmt: skip
        stems[stem] = mix
    return [(mix, Path(output) / Path(mix).stem) for mix in mixes]


def _generate(args: argparse.Namespace) -> None:
    import warnings

    from bassnet.api import generate_files
    from bassnet.generation.latent_path import parse_point
    from bassnet.generation.prior_path import PRIOR_PATHS
    from bassnet.pretrained import resolve

    if sum(v is not None for v in (args.z, args.z_path, args.pattern)) > 1:
        raise BassnetError("give one of --z, --z-path and --pattern")
    z = args.z if args.z in PRIOR_PATHS else parse_point(args.z) if args.z is not None else None
    targets = _generate_targets(args.mix, args.output)
    model_path, cfg, model, failed = resolve(args.model), _generate_config(args), None, []
    for mix, out in targets:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = generate_files(
                    mix, out, model_path, z=z, z_path=args.z_path, render=args.render,
                    with_mix=args.with_mix, cfg=cfg, progress=not args.quiet, force=args.force,
                    pattern=args.pattern, midi_tempo=args.midi_tempo, device=args.device,
                    model=model, seed=args.seed,
                )  # fmt: skip
        except BassnetError as err:
            if len(targets) == 1:
                raise
            print(f"bassnet: error: {mix}: {err}", file=sys.stderr)
            failed.append(mix)
            continue
        if model is None:  # loaded once, for the next inputs
            from bassnet.api import load_model

            model = load_model(model_path, args.device)
        # a warning is both raised and kept in result.warnings: say each once
        for message in dict.fromkeys([str(w.message) for w in caught] + result.warnings):
            print(f"bassnet: warning: {message}", file=sys.stderr)
        written = ", ".join(str(p) for p in (result.wav, result.midi, result.mix) if p)
        print(
            f"generated {result.seconds_audio:.1f} s of bass ({result.notes} notes, MIDI at "
            f"{result.tempo_bpm:.1f} BPM) in {result.seconds_compute:.1f} s "
            f"({result.realtime_factor:.0f}× real time) → {written}"
        )
    if failed:
        raise BassnetError(f"{len(failed)} of {len(targets)} inputs failed: {', '.join(failed)}")


def _models(args: argparse.Namespace) -> None:
    from bassnet.api import load_model
    from bassnet.pretrained import available, score_text

    shipped = available()
    if not shipped:
        print("no shipped models (run `dvc repro ship`)")
    for name, card in shipped.items():
        centre = ", ".join(f"{v:.2f}" for v in (card.get("latent_region") or {}).get("centre", []))
        print(
            f"{name:4} {card['dataset']} {card.get('model', ''):8} {card['window']:>6} "
            f"profile {card['profile']:8} test QDA {score_text(card.get('test_qda'))}  "
            f"control {score_text(card.get('control_test'))}  default z ({centre})  "
            f"patterns: {', '.join(card.get('patterns') or load_model(name).patterns) or 'none'}"
        )


def _ship(args: argparse.Namespace) -> None:
    from bassnet.config import load_params
    from bassnet.pretrained.ship import ship

    params = load_params(args.params)
    cards = ship(args.models, args.datasets.split(","), args.window, params["profile"],
                 args.metrics, args.out, args.latent, args.control, args.priors)  # fmt: skip
    size = sum(c["bytes"] for c in cards.values())
    print(f"shipped {', '.join(cards)} ({size / 1e6:.1f} MB) → {args.out}")


def _control(args: argparse.Namespace) -> None:
    import json
    import time

    from bassnet.atomic import write_text
    from bassnet.config import (
        ControlConfig,
        EvaluateConfig,
        RenderConfig,
        checked_device,
        load_params,
    )
    from bassnet.evaluation.control_test import control_test, score_line
    from bassnet.pretrained import resolve
    from bassnet.synth.dataset import check_dataset

    params = load_params(args.params, args.profile)
    render_cfg = RenderConfig.from_params(params)
    control = ControlConfig.from_params(params)
    device = checked_device(control.device, "control.device")
    check_dataset(args.dataset)
    if args.model:  # the models named, by their folder (or shipped) name
        candidates = {Path(m).parent.name if m.endswith(".pt") else m: Path(resolve(m))
                      for m in args.model}  # fmt: skip
    else:  # the dataset's candidates that were trained
        folder = Path(args.models) / args.dataset
        candidates = {c: folder / c / "model.pt" for c in control.candidates
                      if (folder / c / "model.pt").is_file()}  # fmt: skip
        if not candidates:
            raise BassnetError(f"{folder}: none of control.candidates {list(control.candidates)} "
                               "is trained; run `dvc repro train`")  # fmt: skip
    features, data = Path(args.features), Path(args.datasets)
    started = time.perf_counter()
    result = control_test(
        candidates, args.dataset, features / args.dataset, features / f"{args.dataset}-test",
        data / args.dataset, data / f"{args.dataset}-test", render_cfg,
        _generate_config(args), control.centroid_windows, figure=args.figure,
        progress=not args.quiet, device=device,
        batch_windows=EvaluateConfig.from_params(params).batch_windows,
    )  # fmt: skip
    result["wall_minutes"] = round((time.perf_counter() - started) / 60, 2)  # the report's table
    Path(args.metrics).parent.mkdir(parents=True, exist_ok=True)
    write_text(args.metrics, json.dumps(result, indent=2) + "\n")
    print(score_line(result))


def _prior(args: argparse.Namespace) -> None:
    import json
    import time

    from bassnet.atomic import write_text
    from bassnet.config import EvaluateConfig, PriorConfig, load_params
    from bassnet.evaluation.prior import prior_line, train_and_score
    from bassnet.evaluation.report import selected_model
    from bassnet.evaluation.scoring import load_model
    from bassnet.model import write_checkpoint

    params = load_params(args.params, args.profile)
    cfg = PriorConfig.from_params(params)
    name = selected_model(Path(args.control), args.dataset, args.window)
    model_path = Path(args.models) / args.dataset / name / "model.pt"
    started = time.perf_counter()
    features = Path(args.features)
    batch = EvaluateConfig.from_params(params).batch_windows  # µ's windows a call
    prior, metrics, latent_map = train_and_score(
        load_model(model_path), features / args.dataset, features / f"{args.dataset}-test", cfg,
        batch,
    )  # fmt: skip
    metrics = {"dataset": args.dataset, "model": name, **metrics,
               "wall_minutes": round((time.perf_counter() - started) / 60, 2)}  # fmt: skip
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    write_checkpoint({"prior": prior.to_state(), "model": f"{args.dataset}/{name}",
                      "metrics": metrics, "latent_map": latent_map}, args.out)  # fmt: skip
    Path(args.metrics).parent.mkdir(parents=True, exist_ok=True)
    write_text(args.metrics, json.dumps(metrics, indent=2) + "\n")
    print(prior_line(args.dataset, metrics) + f" → {args.out}")


def _manifest(args: argparse.Namespace) -> None:
    from bassnet.atomic import check_outputs
    from bassnet.config import StemsConfig
    from bassnet.stems.layouts import scan, write_manifest

    tolerance = StemsConfig.from_params(_params(args)).length_tolerance_s
    check_outputs([args.output])  # a folder or an unwritable place: said before the scan
    try:
        rows, skipped, padded = scan(args.format, args.root, args.split_seed,
                                     args.valid_fraction, tolerance)  # fmt: skip
    except (ValueError, FileNotFoundError) as err:
        raise BassnetError(str(err)) from err
    for item in skipped:
        print(f"skipped {item.song}: {item.reason}", file=sys.stderr)
    for item in padded:
        print(f"padded {item.song}: {item.note}", file=sys.stderr)
    if not rows:
        raise BassnetError(f"{args.root}: no usable song in the {args.format} layout")
    write_manifest(rows, args.output)
    songs = {r.track_id: r.split for r in rows}
    splits = ", ".join(f"{sum(v == k for v in songs.values())} {k or 'unsplit'}"
                       for k in sorted(set(songs.values()), key=str))  # fmt: skip
    print(f"{len(songs)} songs ({splits}), {len(rows)} stem files, {len(padded)} padded, "
          f"{len({s.song for s in skipped})} songs with skips → {args.output}")  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `bassnet` and its subcommands."""
    parser = argparse.ArgumentParser(prog="bassnet", description=__doc__)
    parser.add_argument("--version", action="version", version=f"bassnet {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    render = sub.add_parser(
        "render",
        help="render an artificial dataset (A1-A5) to MIDI, WAV and labels",
        description="Render songs 0..N-1 of an artificial dataset (paper §5.1; A5: the bass "
        "pattern follows the chord instrument). Values not "
        "given come from params.yaml (the active profile).",
    )
    render.add_argument("dataset", help="A1, A2, A3, A4 or A5")
    render.add_argument(
        "--songs", type=int, help="number of songs (default: render.songs, or render.test_songs)"
    )
    render.add_argument("--split", choices=["trainvalid", "test"], default="trainvalid",
                        help="trainvalid: songs 0… split into train and validation; test: the "
                        "held-out test songs from render.test_seeds (default --out: "
                        "datasets/DATASET-test)")  # fmt: skip
    render.add_argument("--seed", type=int,
                        help="dataset seed, 0..2^63-1 (default: render.seeds, or "
                        "render.test_seeds)")  # fmt: skip
    render.add_argument("--out", help="output folder (default: datasets/DATASET)")
    render.add_argument("--seconds", type=float,
                        help="approximate song length in seconds (0 < s <= 3600)")  # fmt: skip
    render.add_argument("--workers", type=int, help="render processes (0 = one per core)")
    render.add_argument("--params", help=PARAMS_HELP)
    render.add_argument("--profile", help="profile in the params file (default: its `profile`)")
    render.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    render.set_defaults(func=_render)

    features = sub.add_parser(
        "features",
        help="extract CQTs and bass descriptors into Parquet shards (an Apache Beam job)",
        description="bassnet features --manifest M --out DIR [--metrics FILE] [beam options]; "
        "see `bassnet features -- --help`. Flags we do not know go to Beam (e.g. --runner); "
        "flags Beam does not know either are refused.",
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
    train.add_argument("--window", help="multi-resolution window, e.g. 40/40")
    train.add_argument("--control", action="store_true",
                       help="train the dataset's control model (params control.models: its "
                       "window and settings; default --out: models/DATASET/control)")  # fmt: skip
    train.add_argument("--out", help="output folder (default: models/DATASET/WINDOW)")
    train.add_argument("--ablation", action="store_true", help="train on Eq. (10) (§6.3)")
    train.add_argument("--max-mini-epochs", type=int, help="stop after this many mini-epochs")
    train.add_argument("--max-minutes", type=float, help="stop after this many minutes")
    train.add_argument("--device", choices=["cpu", "cuda", "auto"], help="default: train.device")
    train.add_argument(
        "--seed",
        type=int,
        help="a seed other than train.seed (default --out: the model's folder "
        "with -seedN; `bassnet evaluate` aggregates the seeds it finds)",
    )
    train.add_argument("--params", help=PARAMS_HELP)
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
    evaluate.add_argument(
        "--control-metrics",
        default="metrics/control",
        help="the control stage's metrics folder (read where present)",
    )
    evaluate.add_argument("--prior-metrics", default="metrics/prior",
                          help="the prior stage's metrics folder (read where present)")  # fmt: skip
    evaluate.add_argument("--results", help="also write the results page here (docs/results.md)")
    evaluate.add_argument("--params", help=PARAMS_HELP)
    evaluate.add_argument("--profile", help="profile in the params file")
    evaluate.set_defaults(func=_evaluate)

    encode = sub.add_parser(
        "encode",
        help="where a song sits in the latent space: µ and σ per window, as CSV",
        description="Writes time_s,mu1,mu2,sigma1,sigma2 for each window (hop: half the "
        "expanded window) of a mix and its bass.",
    )
    encode.add_argument("--model", required=True, help="a model.pt or a shipped model's name")
    encode.add_argument("--mix", required=True, help="audio of the mix (without bass)")
    encode.add_argument("--bass", required=True, help="audio of the bass")
    encode.add_argument("-o", "--output", required=True, help="CSV to write")
    encode.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"],
                        help="where the model runs (auto: cuda if torch sees a GPU)")  # fmt: skip
    encode.set_defaults(func=_encode)

    generate = sub.add_parser(
        "generate",
        help="generate a bass track for a song at a point or path in the latent space",
        description="Writes OUT.wav (the bass, at the input's rate and length), OUT.mid and, "
        "with --with-mix, OUT.mix.wav. z defaults to the centre of the training data's µ. An "
        "existing OUT.wav or OUT.mix.wav that is a WAV file and OUT.mid that is a MIDI file "
        "are replaced, atomically (never half-written); any other file there is refused unless "
        "--force, and an output that is one of the inputs always is.",
    )
    generate.add_argument("mix", nargs="+",
                          help="audio of the song (any rate, mono or stereo); several: one "
                          "WAV + MIDI each in the folder -o")  # fmt: skip
    generate.add_argument("-o", "--output", required=True,
                          help="output path without suffix, or a folder (an existing one, "
                          "a name ending in /, or with several inputs): FOLDER/<input "
                          "name>.wav, .mid")  # fmt: skip
    generate.add_argument("--model", default="A1", help="a shipped model's name or a model.pt")
    generate.add_argument("--z", help="a point z1,z2 (e.g. 0.4,0.0); auto: where the model's "
                          "prior p(z|x) is densest for this mix, moment by moment; sample: a "
                          "path drawn from that prior (--seed)")  # fmt: skip
    generate.add_argument("--seed", type=int, default=0, help="the draw of --z sample")
    generate.add_argument("--z-path", help="CSV time_s,z1,z2, interpolated linearly")
    generate.add_argument("--pattern",
                          help="a pattern of the model by name, at its centroid of µ (e.g. "
                          "fifth; `bassnet models` lists them)")  # fmt: skip
    generate.add_argument("--midi-tempo", type=float,
                          help="the MIDI's tempo in BPM, bar 1 at 0 s (default: the song's, "
                          "from madmom's beat tracker)")  # fmt: skip
    generate.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"],
                          help="where the model runs (auto: cuda if torch sees a GPU)")  # fmt: skip
    generate.add_argument("--render", choices=["synth", "soundfont"], default="synth",
                          help="additive synthesis, or the MIDI through FluidSynth")  # fmt: skip
    generate.add_argument("--with-mix", action="store_true", help="also write mix + bass")
    generate.add_argument("--params", help=PARAMS_HELP)
    generate.add_argument("--force", action="store_true",
                          help="replace existing outputs that are not WAV or MIDI files (never "
                          "an input)")  # fmt: skip
    generate.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    generate.set_defaults(func=_generate)

    control = sub.add_parser(
        "control",
        help="test the latent control: generate at each pattern's centroid of µ, score it on the "
        "validation songs (selection) and the test songs (report)",
    )
    control.add_argument("--dataset", required=True, help="A1, A2, A3 or A4")
    control.add_argument("--model", action="append",
                         help="a model.pt or a shipped model's name (repeatable; default: the "
                         "trained models of params.yaml control.candidates)")  # fmt: skip
    control.add_argument("--models", default="models", help="folder of trained models")
    control.add_argument(
        "--features",
        default="data/features",
        help="feature folders DATASET (training, validation) and DATASET-test",
    )
    control.add_argument(
        "--datasets",
        default="datasets",
        help="rendered datasets DATASET and DATASET-test (the mixes' WAVs)",
    )
    control.add_argument("--metrics", required=True, help="JSON of the scores")
    control.add_argument("--figure", help="PNG of the selected model's basses on a test song")
    control.add_argument("--params", help=PARAMS_HELP)
    control.add_argument("--profile", help="profile in the params file")
    control.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    control.set_defaults(func=_control)

    prior = sub.add_parser(
        "prior",
        help="fit the prior p(z|x) of a dataset's selected model on its training songs and "
        "score it on the test songs",
    )
    prior.add_argument("--dataset", required=True, help="A1 … A5")
    prior.add_argument("--models", default="models", help="folder of trained models")
    prior.add_argument(
        "--control", default="metrics/control",
        help="the control stage's metrics: which model of the dataset ships",
    )  # fmt: skip
    prior.add_argument(
        "--window", default="40-40",
        help="the window's model, where the control stage selected none",
    )  # fmt: skip
    prior.add_argument(
        "--features", default="data/features",
        help="feature folders DATASET (training, validation) and DATASET-test",
    )  # fmt: skip
    prior.add_argument("--out", required=True, help="the prior's file (priors/DATASET.pt)")
    prior.add_argument("--metrics", required=True, help="JSON of its scores")
    prior.add_argument("--params", help=PARAMS_HELP)
    prior.add_argument("--profile", help="profile in the params file")
    prior.set_defaults(func=_prior)

    manifest = sub.add_parser(
        "manifest",
        help="write a feature-job manifest for a folder of multitrack songs",
        description="Layouts: slakh2100 (TrackNNNNN/metadata.yaml + stems/SNN.flac), musdb18 "
        "(<song>/{bass,drums,vocals,other}.wav) and flat (<song>/<stem>.<ext>). Skipped songs "
        "are listed with their reason; songs whose stems end up to stems.length_tolerance_s "
        "apart are kept (the feature job pads them with silence) and listed.",
    )
    manifest.add_argument("format", choices=["slakh2100", "musdb18", "flat"])
    manifest.add_argument("root", help="the collection's folder")
    manifest.add_argument("-o", "--output", required=True, help="datasets/<name>/manifest.csv")
    manifest.add_argument(
        "--split-seed", type=int, help="write a 90/10 split (default: the params entry's)"
    )
    manifest.add_argument("--valid-fraction", type=float, default=0.1)
    manifest.add_argument("--params", help="params file (default: ./params.yaml, if any): "
                          "stems.length_tolerance_s")  # fmt: skip
    manifest.set_defaults(func=_manifest)

    models = sub.add_parser("models", help="list the models shipped in the package")
    models.set_defaults(func=_models)

    ship_models = sub.add_parser(
        "ship-models",
        help="copy trained models into the package with a model card (DVC stage `ship`)",
    )
    ship_models.add_argument("--models", default="models", help="folder of trained models")
    ship_models.add_argument("--window", default="40-40",
                             help="the window's model ships where the control stage selected "
                             "none")  # fmt: skip
    ship_models.add_argument(
        "--control",
        default="metrics/control",
        help="the control stage's metrics: each dataset's selected model",
    )
    ship_models.add_argument("--datasets", default="A1,A2,A3,A4", help="comma-separated")
    ship_models.add_argument("--metrics", default="metrics/evaluation.json",
                             help="evaluation metrics to put on the card")  # fmt: skip
    ship_models.add_argument("--latent", default="reports/latent_points.json",
                             help="validation µ per model (the `serve` pad's map)")  # fmt: skip
    ship_models.add_argument("--priors", default="priors",
                             help="the prior stage's DATASET.pt files")  # fmt: skip
    ship_models.add_argument("--out", default="bassnet/pretrained", help="package folder")
    ship_models.add_argument("--params", help=PARAMS_HELP)
    ship_models.set_defaults(func=_ship)

    serve = sub.add_parser(
        "serve",
        help="the 2-D bass pad in the browser: pick a song, move on the pad, hear and export",
        description="Starts a local web app (default http://127.0.0.1:8000/). Offers the shipped "
        "models, those trained under --models, and any --model; the rendered songs under "
        "--songs, and uploads.",
    )
    serve.add_argument("--model", action="append", help="a shipped name or a model.pt (repeatable)")
    serve.add_argument(
        "--models",
        help="folder of trained models to offer (<dataset>/<window>/model.pt; default: none, "
        "only the shipped ones)",
    )
    serve.add_argument("--songs", default="datasets", help="folder of rendered datasets to offer")
    serve.add_argument("--latent", default="reports/latent_points.json",
                       help="validation µ of the trained models (their pad maps)")  # fmt: skip
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, help="port (default: serve.port, 8000)")
    serve.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"],
                       help="where the models run (auto: cuda if torch sees a GPU)")  # fmt: skip
    serve.add_argument("--params", help=PARAMS_HELP)
    serve.set_defaults(func=_serve)
    return parser


def _attach_negative_values(argv: list[str]) -> list[str]:
    """`--z -0.5,0` → `--z=-0.5,0`: argparse takes a value starting with "-" for an option
    unless it is one plain negative number, and a z point is two."""
    out, i = [], 0
    while i < len(argv):
        if argv[i] == "--z" and i + 1 < len(argv) and re.fullmatch(r"-[0-9.].*", argv[i + 1]):
            out.append(f"--z={argv[i + 1]}")
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `bassnet` console script."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["generate"]:
        argv = _attach_negative_values(argv)
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
    except ModuleNotFoundError as err:
        extra = EXTRA_OF.get(args.command, "pipeline")
        if args.command in CORE_COMMANDS or not err.name or err.name.startswith("bassnet"):
            raise  # the core install lacks a module it needs: a packaging bug, not the user's
        print(f"bassnet: error: `bassnet {args.command}` needs {err.name}, which the {extra} "
              f"extra installs: pip install 'bassnet[{extra}]'", file=sys.stderr)  # fmt: skip
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
