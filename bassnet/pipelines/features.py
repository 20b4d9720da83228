"""The feature job (Apache Beam): manifest → audio → CQTs and bass descriptors → Parquet shards.

    tracks ─ LoadTrack ─ AddCQT ─ AddF0 ─ AddOnset ─ AddLevel ─ ToRow ─ by shard ─ WriteGroup
    (a track that fails a step passes the later ones as a Failure, grouped into the failures
    file beside the output folder, `<out>.failures.json`)

ToRow stores each track's row as a one-row Arrow file in OUT/.rows and only its id and file go
through the grouping; WriteGroup reads a shard's row files (memory-mapped) and writes the shard.
A 20-minute track's row is ≈ 130 MB: carried through Beam's GroupByKey it would be encoded,
buffered and decoded, copies that set the job's peak memory.

Each step is a thin DoFn around `bassnet.features`: heavy models are built once per worker in
`setup()`, a `Metrics.counter` counts what each step did, and a track that fails any step goes
to the failures output with its name and the reason, while the others go on. Shards are written
atomically (temporary file + rename), so a reader never sees a partial shard, and a killed run
simply runs again. The output folder ends up holding only the shards (the rows and progress
markers pass through hidden folders in it, gone when the job ends), so any Parquet reader takes
it as one table; each shard's key-value metadata names the settings it was made with. The same
job runs on the DirectRunner (default: one process per core) and unchanged on Dask, Flink,
Spark or Dataflow: runner flags pass straight to Beam, and a flag that neither this job nor
Beam knows is refused (`pipelines.beam_cli`, which also keeps Beam's own log lines out of the
output unless -v).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import shutil
import threading
import time
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TextIO

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
from apache_beam.metrics import Metrics
from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions
from tqdm import tqdm

from bassnet import atomic
from bassnet.audio_io import read_mono
from bassnet.config import FeatureConfig, StemsConfig, load_params
from bassnet.constants import SR, frame_count
from bassnet.errors import AudioError, BassnetError, ManifestError
from bassnet.features.audio import aligned_length, check_audio, mix_stems, pad_to, resample
from bassnet.features.schema import (
    LABEL_ARRAYS,
    failures_path,
    rows_to_table,
    shard_metadata,
    stem_store,
)
from bassnet.pipelines.beam_cli import check_beam_flags, quiet_stderr
from bassnet.pipelines.manifest import TrackSpec, read_manifest

NAMESPACE = "bassnet.features"
LOG = logging.getLogger(__name__)
ROWS_DIR = ".rows"  # in the output folder: the rows between ToRow and WriteGroup


def track_file_name(track_id: str) -> str:
    """A file name for a track's id: a hash, as an id is data, never a path."""
    return hashlib.sha1(track_id.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Failure:
    """A track that failed a step, and why. Later steps pass it on untouched."""

    track_id: str
    step: str
    error: str


class Step(beam.DoFn):
    """A step that adds to a track's element; an exception becomes the track's Failure.

    Failures travel in the main output rather than a tagged one: the Dask runner does not keep
    tagged outputs apart (measured with Beam 2.77), and this works on every runner.
    """

    name = "step"
    progress_dir: str | None = None  # where finished tracks leave a marker (see `run`)

    def done(self, track_id: str) -> None:
        """Mark a track finished (as a row or a failure) for the progress bar."""
        if self.progress_dir:
            Path(self.progress_dir, track_file_name(track_id)).touch()

    def apply(self, element):  # pragma: no cover - overridden
        raise NotImplementedError

    def process(self, element):
        if isinstance(element, Failure):
            yield element
            return
        track_id = element.track_id if isinstance(element, TrackSpec) else element["track_id"]
        try:
            result = self.apply(element)
        except Exception as err:  # noqa: BLE001 - any failure of one track is reported, not fatal
            Metrics.counter(NAMESPACE, f"{self.name}_failed").inc()
            LOG.warning("%s: %s failed: %s", track_id, self.name, err)
            self.done(track_id)
            yield Failure(track_id, self.name, f"{type(err).__name__}: {err}")
            return
        Metrics.counter(NAMESPACE, f"{self.name}_ok").inc()
        yield result


def _fit(values: np.ndarray, n: int) -> np.ndarray:
    """Trim or edge-pad a per-frame label array to n frames (labels are computed from the
    song's nominal length, audio frames from its samples; they differ by at most a frame)."""
    values = np.asarray(values)[:n]
    return np.pad(values, (0, n - len(values)), mode="edge") if len(values) else values


class LoadTrack(Step):
    """Read the stems, check them, make the 16 kHz mono mix and bass; join the labels. Stems
    that end up to `length_tolerance_s` seconds apart are padded with silence to the longest
    (`bassnet.features.audio.aligned_length`)."""

    name = "load"

    def __init__(self, dataset: str, labels_path: str | None, length_tolerance_s: float = 0.0):
        self.dataset, self.labels_path = dataset, labels_path
        self.length_tolerance_s = length_tolerance_s

    def setup(self):
        self.labels = {}
        if self.labels_path and Path(self.labels_path).is_file():
            for row in pq.read_table(self.labels_path).to_pylist():
                self.labels[row["track_id"]] = row

    def apply(self, spec: TrackSpec) -> dict:
        if spec.problems:
            raise ManifestError("; ".join(spec.problems))
        mix_names = ["mix"] if "mix" in spec.stems else sorted(set(spec.stems) - {"bass"})
        mono, rates, lengths = {}, {}, {}
        for stem in [*mix_names, "bass"]:
            parts = []
            for i, path in enumerate(spec.stems[stem]):  # several files of one stem are summed
                name = stem if i == 0 else f"{stem}[{i}]"
                audio, rates[name] = read_mono(path)
                lengths[name] = len(audio)
                parts.append(audio)
            # summed as they come (one stem's files at a time in memory); how far apart all
            # stems end is checked below, before anything uses the sums
            longest = max(len(p) for p in parts)
            mono[stem] = mix_stems([pad_to(p, longest) for p in parts])
        if len(set(rates.values())) > 1:
            raise AudioError(f"stems differ in sample rate: {rates}")
        sr = rates["bass"]
        samples = aligned_length(lengths, sr, self.length_tolerance_s)
        mono = {stem: pad_to(audio, samples) for stem, audio in mono.items()}
        mix = resample(mix_stems([mono[s] for s in mix_names]), sr, SR)
        if mix_names == ["mix"]:  # only the 16 kHz mix is needed now (212 MB at 20 min, 44.1k)
            del mono["mix"]
        del parts, audio  # the last stem read: the bass, resampled next and then freed
        bass = resample(mono.pop("bass"), sr, SR)
        check_audio(mix, "mix")
        check_audio(bass, "bass")
        n = frame_count(len(bass))
        element = {
            "track_id": spec.track_id,
            "dataset": self.dataset,
            "split": spec.split,
            "n_frames": n,
            "duration_s": len(bass) / SR,
            "source_sample_rate": sr,
            "stems": mix_names + ["bass"],
            "mix": mix,
            "bass": bass,
        }
        if mix_names != ["mix"]:  # a stem collection: keep the stems for re-mixing in training
            element.update(stem_store([resample(mono[s], sr, SR) for s in mix_names]))
        label = self.labels.get(spec.track_id)
        if label is not None:
            element.update(
                tonic=label["tonic"],
                mode=label["mode"],
                tempo_bpm=label["tempo_bpm"],
                instruments=label["chord_programs"],
            )
            element.update({k: _fit(label[k], n) for k in LABEL_ARRAYS})
        return element


class TorchStep(Step):
    """A step with a torch model: device and threads from the config, model built in setup."""

    def __init__(self, cfg: FeatureConfig):
        self.cfg = cfg

    def setup(self):
        import torch

        torch.set_num_threads(self.cfg.torch_threads)
        self.device = self.cfg.torch_device()


class AddCQT(TorchStep):
    """Log-magnitude CQTs of the mix and of the bass, (frames, 264) float16."""

    name = "cqt"

    def setup(self):
        from bassnet.features.cqt import GroupedCQT

        super().setup()
        self.cqt = GroupedCQT(self.device)

    def apply(self, element: dict) -> dict:
        element["cqt_mix"] = self.cqt(element["mix"]).astype(np.float16)
        element["cqt_bass"] = self.cqt(element["bass"]).astype(np.float16)
        return element


class AddF0(TorchStep):
    """Bass f0 and confidence with CREPE; the mix's predominant f0 on the configured splits."""

    name = "f0"

    def setup(self):
        from bassnet.features.f0 import Crepe

        super().setup()
        self.crepe = Crepe(self.cfg.crepe_model, self.device)

    def apply(self, element: dict) -> dict:
        cfg = self.cfg
        element["f0_hz"], element["f0_confidence"] = self.crepe(
            element["bass"], cfg.f0_fmin_hz, cfg.f0_fmax_hz, cfg.silence_db, cfg.f0_stride
        )
        if element["split"] in cfg.mix_f0_splits:
            element["f0_mix_hz"], _ = self.crepe(
                element["mix"], cfg.f0_fmin_hz, cfg.mix_f0_fmax_hz, cfg.silence_db, cfg.f0_stride
            )
        del element["mix"]  # its last use: freed now, not when the bundle ends (77 MB at 20 min)
        return element


class AddOnset(Step):
    """Bass onset strength with madmom's CNN."""

    name = "onset"

    def setup(self):
        from bassnet.features.onset import OnsetDetector

        self.detector = OnsetDetector()

    def apply(self, element: dict) -> dict:
        element["onset"] = self.detector(element["bass"], SR)
        return element


class AddLevel(Step):
    """Bass level in dB."""

    name = "level"

    def __init__(self, cfg: FeatureConfig):
        self.cfg = cfg

    def apply(self, element: dict) -> dict:
        from bassnet.features.level import level_db

        element["level_db"] = level_db(element["bass"], self.cfg.level_n_fft)
        return element


class ToRow(Step):
    """Drop the waveforms; store what is left, one shard row, as a one-row Arrow IPC file in
    `rows_dir` (written atomically, named by a hash of the id) and pass on only
    {"track_id", "rows_file"}: see the module doc."""

    name = "row"

    def __init__(self, rows_dir: str):
        self.rows_dir = rows_dir

    def apply(self, element: dict) -> dict:
        track_id = element["track_id"]
        row = {k: v for k, v in element.items() if k not in ("mix", "bass")}
        element.clear()  # upstream frames still hold the dict: free the arrays with the row
        table = rows_to_table([row])
        del row
        target = Path(self.rows_dir, track_file_name(track_id) + ".arrow")
        with (
            atomic.atomic_path(target) as tmp,
            pa.OSFile(str(tmp), "wb") as sink,
            ipc.new_file(sink, table.schema) as writer,
        ):
            writer.write_table(table)
        self.done(track_id)
        return {"track_id": track_id, "rows_file": str(target)}


def shard_of(track_id: str, n_shards: int) -> int:
    """The shard a track goes to: a stable hash of its id (same on every worker and run)."""
    return zlib.crc32(track_id.encode("utf-8")) % n_shards


# The glue below is DoFn classes rather than lambdas in beam.Map/Filter, and the graph is one
# chain with no branches: the Dask runner pickles such lambdas by value, losing this module's
# names, and feeds a PCollection with two consumers to only one of them (both measured with
# Beam 2.77 and Dask 2026.8).

FAILURES_KEY = -1  # the group that collects failures; shards are 0..n-1


class KeyByShard(beam.DoFn):
    """(shard index, row) for a finished row; (FAILURES_KEY, failure) for a failure."""

    def __init__(self, n_shards: int):
        self.n_shards = n_shards

    def process(self, element):
        if isinstance(element, Failure):
            yield FAILURES_KEY, element
        else:
            yield shard_of(element["track_id"], self.n_shards), element


def shard_name(index: int, n_shards: int) -> str:
    """File name of shard `index`."""
    return f"part-{index:05d}-of-{n_shards:05d}.parquet"


class WriteGroup(beam.DoFn):
    """Write one shard's rows, sorted by track id, with `metadata` as the file's key-value
    metadata, or the failures file; atomically. The rows come from ToRow's files,
    memory-mapped (the page cache holds them, not the heap), which are removed once the shard
    is written."""

    def __init__(self, out_dir: str, n_shards: int, metadata: dict[str, str]):
        self.out_dir, self.n_shards, self.metadata = out_dir, n_shards, metadata

    def process(self, keyed):
        key, elements = keyed
        if key == FAILURES_KEY:
            yield write_failures(list(elements), Path(self.out_dir))
            return
        rows = sorted(elements, key=lambda r: r["track_id"])
        tables = [ipc.open_file(pa.memory_map(r["rows_file"])).read_all() for r in rows]
        table = pa.concat_tables(tables)
        if len(tables) > 1:
            # one chunk per column: Parquet pages, and so the shard's bytes, follow the chunks;
            # this way a shard is the same file as when written from one table of all its rows
            table = table.combine_chunks()
        del tables
        table = table.replace_schema_metadata(self.metadata)
        target = Path(self.out_dir) / shard_name(key, self.n_shards)
        with atomic.atomic_path(target) as tmp:
            # no dictionary encoding for the arrays: it never pays for floats and costs memory
            pq.write_table(
                table,
                tmp,
                compression="zstd",
                use_dictionary=["track_id", "dataset", "split", "mode", "stems"],
            )
        del table
        for row in rows:
            Path(row["rows_file"]).unlink(missing_ok=True)
        Metrics.counter(NAMESPACE, "shards_written").inc()
        Metrics.counter(NAMESPACE, "tracks_written").inc(len(rows))
        yield target.name


def write_failures(failures: list[Failure], out_dir: Path) -> str:
    """The failures file beside `out_dir` (`failures_path`): one entry per failed track (id,
    step, error), sorted by id; returns its name."""
    entries = [asdict(f) for f in sorted(failures, key=lambda f: f.track_id)]
    target = failures_path(out_dir)
    atomic.write_text(target, json.dumps(entries, indent=2) + "\n")
    return target.name


def build(
    pipeline: beam.Pipeline,
    tracks: list[TrackSpec],
    cfg: FeatureConfig,
    out_dir: str,
    dataset: str,
    labels_path: str | None,
    progress_dir: str | None = None,
    stems: StemsConfig | None = None,
):
    """Add the feature job to `pipeline`; returns the PCollection of the files it writes.
    `stems`: how far apart a track's stems may end (default: StemsConfig's).

    The failures file is written only when a track failed: `run` writes an empty one first. The
    rows pass through `out_dir`/.rows (made here; `run` removes it before and after).
    """
    rows_dir = Path(out_dir) / ROWS_DIR
    rows_dir.mkdir(parents=True, exist_ok=True)
    n_shards = max(1, -(-len(tracks) // cfg.tracks_per_shard))
    pcoll = pipeline | "Tracks" >> beam.Create(tracks) | "Spread" >> beam.Reshuffle()
    for label, step in [
        ("Load", LoadTrack(dataset, labels_path, (stems or StemsConfig()).length_tolerance_s)),
        ("CQT", AddCQT(cfg)),
        ("F0", AddF0(cfg)),
        ("Onset", AddOnset()),
        ("Level", AddLevel(cfg)),
        ("Row", ToRow(str(rows_dir))),
    ]:
        step.progress_dir = progress_dir
        pcoll = pcoll | label >> beam.ParDo(step)
    return (
        pcoll
        | "Key" >> beam.ParDo(KeyByShard(n_shards))
        | "Group" >> beam.GroupByKey()
        | "Write" >> beam.ParDo(WriteGroup(out_dir, n_shards, shard_metadata(cfg)))
    )


def runner_options(beam_args: list[str], cfg: FeatureConfig) -> PipelineOptions:
    """Beam options from the leftover command-line flags; with no --runner, the DirectRunner
    in multi-processing mode on all cores (or `features.workers`)."""
    if not any(a.startswith("--default_sdk_harness_log_level") for a in beam_args):
        beam_args = [*beam_args, "--default_sdk_harness_log_level=WARNING"]  # quiet workers
    options = PipelineOptions(beam_args)
    standard = options.view_as(StandardOptions)
    if standard.runner is None:
        standard.runner = "DirectRunner"
        direct = options.view_as(DirectOptions)
        if not any(a.startswith("--direct_running_mode") for a in beam_args):
            direct.direct_running_mode = "multi_processing"
        if not any(a.startswith("--direct_num_workers") for a in beam_args):
            direct.direct_num_workers = cfg.workers or os.cpu_count() or 1
    return options


def feature_metrics(out_dir: Path, cfg: FeatureConfig) -> dict:
    """Counts, storage and accuracy against the MIDI truth (when the shards carry labels)."""
    from bassnet.features.accuracy import onset_f_measure, raw_pitch_accuracy

    parts = sorted(out_dir.glob("part-*.parquet"))
    failures = json.loads(failures_path(out_dir).read_text())
    cols = ["track_id", "duration_s", "f0_hz", "onset", "bass_pitch", "bass_onset"]
    rows = [r for p in parts for r in pq.read_table(p, columns=cols).to_pylist()]
    minutes = sum(r["duration_s"] for r in rows) / 60
    metrics = {
        "tracks": len(rows),
        "failed": len(failures),
        "audio_minutes": round(minutes, 2),
        "bytes_per_audio_minute": round(sum(p.stat().st_size for p in parts) / max(minutes, 1e-9)),
        "crepe_model": cfg.crepe_model,
    }
    labelled = [r for r in rows if r["bass_pitch"] is not None]
    if labelled:
        f0 = np.concatenate([np.asarray(r["f0_hz"]) for r in labelled])
        pitch = np.concatenate([np.asarray(r["bass_pitch"]) for r in labelled])
        metrics["f0_raw_pitch_accuracy"] = round(raw_pitch_accuracy(f0, pitch), 4)
        metrics["onset_f_measure"] = round(
            float(
                np.mean(
                    [
                        onset_f_measure(
                            np.asarray(r["onset"]), np.asarray(r["bass_onset"]), cfg.onset_threshold
                        )
                        for r in labelled
                    ]
                )
            ),
            4,
        )
    return metrics


def run_with_progress(
    pipeline: beam.Pipeline,
    progress: Path,
    total: int,
    desc: str,
    file: TextIO | None = None,
    disable: bool = False,
) -> None:
    """Run the pipeline in a thread while a progress bar on `file` (default: standard error)
    counts the tracks' markers; `disable`: no bar."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            pipeline.run().wait_until_finish()
        except BaseException as err:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(err)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    with tqdm(total=total, desc=desc, unit="track", file=file, disable=disable) as bar:
        while thread.is_alive():
            thread.join(timeout=1.0)
            bar.update(sum(1 for _ in progress.iterdir()) - bar.n)
    if errors:
        raise errors[0]


def run(argv: list[str] | None = None) -> dict:
    """`bassnet features`: parse our flags, pass the rest to Beam, run, summarise."""
    parser = argparse.ArgumentParser(prog="bassnet features", description=__doc__.split("\n")[0])
    parser.add_argument("--manifest", required=True, help="CSV: track_id,stem,path[,split]")
    parser.add_argument(
        "--out",
        required=True,
        help="folder for part-*.parquet shards; failures go to OUT.failures.json beside it",
    )
    parser.add_argument(
        "--dataset", help="dataset name stored in the rows (default: the manifest's folder name)"
    )
    parser.add_argument("--metrics", help="also write the metrics JSON here")
    parser.add_argument(
        "--split-seed", type=int, help="90/10 split by id where the manifest gives no split"
    )
    parser.add_argument("--params", help="params file (default: ./params.yaml)")
    parser.add_argument("--profile", help="profile in the params file")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="also show Beam's own log lines"
    )
    args, beam_args = parser.parse_known_args(argv)
    with quiet_stderr(not args.verbose) as terminal:
        return _run(args, beam_args, terminal)


def _run(args: argparse.Namespace, beam_args: list[str], terminal: TextIO) -> dict:
    """`run` once its flags are parsed, with standard error filtered; progress on `terminal`."""
    check_beam_flags(beam_args)
    params = load_params(args.params, args.profile)
    cfg, stems = FeatureConfig.from_params(params), StemsConfig.from_params(params)
    manifest = Path(args.manifest)
    tracks = read_manifest(manifest, args.split_seed)
    out_dir = Path(args.out)
    if out_dir.exists() and not out_dir.is_dir():
        raise BassnetError(f"output folder {out_dir} exists and is not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    # Shards of an earlier run, and temporary files of a killed one, go before this run writes;
    # so does an old folder's failures.json, which Parquet readers would take for a shard.
    for stale in [*out_dir.glob("part-*.parquet"), *out_dir.glob(".part-*.tmp")]:
        stale.unlink()
    (out_dir / "failures.json").unlink(missing_ok=True)
    write_failures([], out_dir)
    labels = manifest.parent / "labels.parquet"
    dataset = args.dataset or manifest.resolve().parent.name

    started = time.perf_counter()
    options = runner_options(beam_args, cfg)
    print(
        f"features {dataset}: {len(tracks)} tracks on "
        f"{options.view_as(StandardOptions).runner} ...",
        flush=True,
    )
    progress = out_dir / ".progress"
    for folder in (progress, out_dir / ROWS_DIR):  # a killed run's
        shutil.rmtree(folder, ignore_errors=True)
    progress.mkdir()
    pipeline = beam.Pipeline(options=options)
    build(
        pipeline,
        tracks,
        cfg,
        str(out_dir.resolve()),
        dataset,
        str(labels.resolve()) if labels.is_file() else None,
        str(progress.resolve()),
        stems,
    )
    try:
        run_with_progress(pipeline, progress, len(tracks), f"features {dataset}",
                          file=terminal, disable=args.quiet)  # fmt: skip
    finally:
        for folder in (progress, out_dir / ROWS_DIR):
            shutil.rmtree(folder, ignore_errors=True)
    wall = time.perf_counter() - started

    metrics = feature_metrics(out_dir, cfg)
    metrics["wall_minutes"] = round(wall / 60, 2)  # this run's time (the report's stage table)
    if args.metrics:
        atomic.write_text(args.metrics, json.dumps(metrics, indent=2) + "\n")
    accuracy = ""
    if "f0_raw_pitch_accuracy" in metrics:
        accuracy = (
            f", f0 RPA {metrics['f0_raw_pitch_accuracy']:.3f}, "
            f"onset F {metrics['onset_f_measure']:.3f}"
        )
    print(
        f"features {dataset}: {metrics['tracks']} tracks, {metrics['failed']} failed "
        f"(see {failures_path(out_dir)}), {metrics['audio_minutes']:.1f} min of audio in "
        f"{wall:.1f} s ({metrics['audio_minutes'] * 60 / wall:.1f}x real time){accuracy} "
        f"-> {out_dir}"
    )
    return metrics


if __name__ == "__main__":
    run()
