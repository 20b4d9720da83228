"""What the pad's server knows and does, without HTTP: models, songs and generated basses.

A song is read once into its 16 kHz log |CQT| and silence mask; for each model the mix side of
the network (enc_x of every window) is computed once and kept, so a click on the pad runs only
the z side: dec_z once for the point, then dec_y and the descriptor heads per window
(`generation.curves`). Notes, MIDI and the synthesized bass follow as in `bassnet generate`.
Model work is serialised by one lock (two cores gain nothing from two at once); a request that
waits longer than `ServeConfig.busy_timeout_s` gets a `Busy` error instead of hanging.

A model file that carries a prior p(z | x) (`bassnet.model.prior`) gives each song its density
over the pad: the mixture weights every `GenerateConfig.prior_hop_s` from the song's CQT, the
same as `bassnet generate --z auto` follows, kept with the song per model.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from bassnet.constants import FRAME_RATE, SR
from bassnet.errors import AudioError, BassnetError, ConfigError
from bassnet.features.cqt import GroupedCQT
from bassnet.features.level import level_db
from bassnet.generation.config import GenerateConfig
from bassnet.generation.curves import (
    SILENT_LOG_CQT,
    BassCurves,
    curves_from_factors,
    mix_factors,
    window_batches,
)
from bassnet.generation.folded import FoldedBassNet
from bassnet.generation.latent_path import PATH_COLUMNS, path_points, z_at
from bassnet.generation.midi_out import notes_to_midi
from bassnet.generation.notes import generated_notes
from bassnet.generation.pipeline import (
    MixReader,
    _Synth,
    load_folded,
    point_or_centre,
    region_warning,
)
from bassnet.generation.prior_path import hop_frames, spectrum_prior
from bassnet.model.prior import LatentPrior
from bassnet.serve.config import ServeConfig
from bassnet.serve.pad import pad_extent, pad_png

UPLOAD_CHUNK = 1 << 20
# Songs the pad decodes, checked from the file's header before any sample is read: a file of
# many channels at a high rate is small when silent or compressed but huge as float32.
MIN_RATE, MAX_RATE = 8_000, 96_000  # Hz, the rates the README promises
MAX_CHANNELS = 8
DECODE_BLOCK_S = 2.0  # seconds of audio decoded at a time (8 ch at 96 kHz: 6 MB as float32)


class NotFound(BassnetError):
    """An unknown song, model or result id."""


class Busy(BassnetError):
    """The model stayed busy with other requests for longer than the configured wait."""


class TooLarge(BassnetError):
    """An upload above the configured size or length."""


class NoPrior(NotFound):
    """A model whose file carries no prior p(z|x): there is no density to show."""


@dataclass
class ModelEntry:
    """A model the pad offers, loaded on first use."""

    name: str
    path: Path
    label: str
    latent_key: str | None = None  # its entry in reports/latent_points.json, for trained models
    model: FoldedBassNet | None = None
    region: dict | None = None
    points: np.ndarray | None = None
    labels: np.ndarray | None = None
    png: bytes | None = None
    prior: LatentPrior | None = None

    @property
    def has_prior(self) -> bool:
        """Whether the (loaded) model's file carries a prior p(z|x)."""
        return self.model is not None and "prior" in self.model.extra

    def summary(self) -> dict:
        """What the page lists before a model is picked (nothing is loaded for it)."""
        return {"name": self.name, "label": self.label}

    def describe(self) -> dict:
        """The JSON the page gets for a loaded model: name, label, window, the pad's extent."""
        return {
            "name": self.name,
            "label": self.label,
            "window": str(self.model.config.spec),
            "extent": list(pad_extent(self.points, self.region)),
            "centre": list(self.region["centre"]) if self.region else [0.0, 0.0],
            "has_map": self.points is not None,
            "has_prior": self.has_prior,
        }


@dataclass
class Song:
    """A mix as the model sees it: (frames, 264) log |CQT| at 100 frames/s and the frames
    where it is silent; the file itself for playback and the mix + bass export."""

    id: str
    name: str
    path: Path
    sample_rate: int
    samples: int  # at sample_rate
    cqt: np.ndarray
    quiet: np.ndarray
    factors: dict[str, list[torch.Tensor] | None] = field(default_factory=dict)
    densities: dict[str, dict] = field(default_factory=dict)  # model name → `Studio.density`

    @property
    def seconds(self) -> float:
        return self.samples / self.sample_rate

    def describe(self) -> dict:
        return {"id": self.id, "name": self.name, "seconds": round(self.seconds, 2)}


@dataclass
class Result:
    """One generated bass: WAV and MIDI bytes, the z-path CSV where a path made it."""

    id: str
    song: str
    model: str
    wav: bytes
    midi: bytes
    notes: int
    compute_ms: float
    path_csv: str | None = None
    warnings: list[str] = field(default_factory=list)


class Studio:
    """Models, songs and results of one `bassnet serve`; see the module doc."""

    def __init__(
        self, models: dict[str, ModelEntry], songs: dict[str, Path], upload_dir: Path,
        cfg: ServeConfig | None = None, gen: GenerateConfig | None = None,
        latent_points: Path | None = None, device: str = "cpu",
    ) -> None:  # fmt: skip
        if not models:
            raise ConfigError("no model to serve: ship or train one, or pass --model PATH")
        self.models, self.song_files = models, dict(songs)
        self.cfg, self.gen = cfg or ServeConfig(), gen or GenerateConfig()
        self.upload_dir = Path(upload_dir)
        self.upload_dir.mkdir(parents=True, exist_ok=True)
        self.latent_points = latent_points
        self.device = device  # where each model runs once loaded ("cpu", "cuda", "auto")
        self.songs: OrderedDict[str, Song] = OrderedDict()
        self.results: OrderedDict[str, Result] = OrderedDict()
        self.lock = threading.Lock()  # the model, the caches
        self.cqt = GroupedCQT()

    # --- models -------------------------------------------------------------------------
    def model(self, name: str) -> ModelEntry:
        """The entry of model `name`, loaded (weights, region, latent map) on first use."""
        entry = self.models.get(name)
        if entry is None:
            raise NotFound(f"no model {name!r} (known: {', '.join(self.models)})")
        if entry.model is None:
            entry.model = load_folded(entry.path, self.device)
            entry.region = entry.model.extra.get("latent_region")
            latent = entry.model.extra.get("latent_map") or self._latent_points(entry.latent_key)
            if latent and latent.get("points"):
                entry.points = np.asarray(latent["points"], dtype=float)
                entry.labels = np.asarray(latent["labels"], dtype=int)
        return entry

    def pad_image(self, name: str) -> bytes:
        """The model's pad background (PNG), drawn once."""
        entry = self.model(name)
        if entry.png is None:
            extent = pad_extent(entry.points, entry.region)
            entry.png = pad_png(entry.points, entry.labels, extent)
        return entry.png

    def density(self, song_id: str, model_name: str) -> dict:
        """The song's density over the pad from the model's prior p(z|x), as JSON for the page:
        the K components (means (K, 2), covariances (K, 2, 2), the training-set weights
        `prior_weights` (K,)), window centres `times` (N,) in s one every `hop_s`, their mixture
        weights (N, K) and the whole song's `average` (K,). NoPrior for a model without one."""
        with self._turn():
            entry, song = self.model(model_name), self.song(song_id)
            if not entry.has_prior:
                raise NoPrior(f"model {model_name} has no prior p(z|x): its file was not "
                              "shipped or trained with one")  # fmt: skip
            if model_name in song.densities:
                return song.densities[model_name]
            if entry.prior is None:  # an invalid prior: a DataError naming the file
                entry.prior = LatentPrior.from_state(entry.model.extra["prior"], str(entry.path))
            prior = entry.prior
            hop = hop_frames(self.gen)
            centres = np.arange(0, len(song.cqt), hop)
            weights = spectrum_prior(prior, song.cqt, centres)
            components = prior.density()
            density = {
                "model": model_name,
                "song": song_id,
                "hop_s": hop / FRAME_RATE,
                "context_s": prior.context_frames / FRAME_RATE,
                "means": np.round(components["means"], 6).tolist(),
                "covariances": np.round(components["covariances"], 6).tolist(),
                "prior_weights": np.round(components["weights"], 6).tolist(),
                "times": np.round(centres / FRAME_RATE, 3).tolist(),
                "weights": np.round(weights, 4).tolist(),
                "average": np.round(weights.mean(0), 4).tolist(),
            }
            song.densities[model_name] = density
            return density

    def _latent_points(self, key: str | None) -> dict | None:
        if not key or not self.latent_points or not self.latent_points.is_file():
            return None
        return json.loads(self.latent_points.read_text()).get(key)

    # --- songs --------------------------------------------------------------------------
    def song_list(self) -> list[dict]:
        """Songs to pick from: the dataset songs and the uploads, by id and name."""
        return [{"id": k, "name": _song_name(p)} for k, p in self.song_files.items()]

    def song(self, song_id: str) -> Song:
        """Song `song_id` with its CQT, read on first use; the least recently used songs leave
        memory beyond `cached_songs`. Call with the lock held (`generate` does)."""
        if song_id in self.songs:
            self.songs.move_to_end(song_id)
            return self.songs[song_id]
        path = self.song_files.get(song_id)
        if path is None:
            raise NotFound(f"no song {song_id!r}")
        song = self._read_song(song_id, path)
        self.songs[song_id] = song
        while len(self.songs) > self.cfg.cached_songs:
            self.songs.popitem(last=False)
        return song

    def _read_song(self, song_id: str, path: Path) -> Song:
        mix = MixReader(path)
        # all from the header, before decoding: the decoded song's size is bounded by these
        if not MIN_RATE <= mix.sr <= MAX_RATE:
            raise AudioError(f"{path.name}: {mix.sr} Hz; the pad takes {MIN_RATE // 1000}–"
                             f"{MAX_RATE // 1000} kHz audio")  # fmt: skip
        if mix.info.channels > MAX_CHANNELS:
            raise AudioError(f"{path.name}: {mix.info.channels} channels; the pad takes at most "
                             f"{MAX_CHANNELS}")  # fmt: skip
        limit = self.cfg.max_song_minutes * 60
        if mix.seconds > limit:
            raise TooLarge(
                f"{path.name}: {mix.seconds / 60:.1f} min is longer than the pad's limit of "
                f"{self.cfg.max_song_minutes:g} min (serve.max_song_minutes); use "
                "`bassnet generate` for long songs"
            )
        audio = read_16k_blocks(mix)
        cqt = self.cqt(audio)
        quiet = level_db(audio)[: len(cqt)] < self.gen.silence_db
        return Song(song_id, _song_name(path), path, mix.sr, mix.frames, cqt, quiet)

    def add_upload(self, name: str, chunks: Iterator[bytes], length: int | None = None) -> Song:
        """Store an uploaded file (streamed in `chunks`) and read it as a song; a clear error,
        and nothing kept, for an empty, oversized, too long or non-audio file."""
        self.check_upload_name(name)
        self.check_upload_size(name, length or 0)
        tmp = self.new_upload_path()
        try:
            with open(tmp, "wb") as handle:
                for chunk in chunks:
                    self.check_upload_size(name, handle.tell() + len(chunk))
                    handle.write(chunk)
            return self.add_upload_file(name, tmp)
        finally:
            tmp.unlink(missing_ok=True)

    def new_upload_path(self) -> Path:
        """A fresh file name in the upload folder, for an upload on its way in."""
        return self.upload_dir / f".{uuid.uuid4().hex}.part"

    def add_upload_file(self, name: str, received: Path) -> Song:
        """Take over the uploaded file `received` (moved, not copied) as song `name`; as
        `add_upload` for the errors (the caller removes `received` when this raises)."""
        safe = self.check_upload_name(name)
        if received.stat().st_size == 0:
            raise AudioError(f"{safe}: the file is empty (0 bytes)")
        digest = hashlib.sha1()
        with open(received, "rb") as handle:
            for chunk in iter(lambda: handle.read(UPLOAD_CHUNK), b""):
                digest.update(chunk)
        song_id = f"upload-{digest.hexdigest()[:12]}"
        folder = self.upload_dir / song_id
        folder.mkdir(exist_ok=True)
        path = folder / safe
        received.replace(path)
        with self._turn():
            try:
                song = self._read_song(song_id, path)
            except BassnetError as err:  # named by the user's file name, not our folder
                path.unlink(missing_ok=True)
                raise type(err)(str(err).replace(str(path), safe)) from err
            self.song_files[song_id] = path
            self.songs[song_id] = song
            while len(self.songs) > self.cfg.cached_songs:
                self.songs.popitem(last=False)
        return song

    @staticmethod
    def check_upload_name(name: str) -> str:
        """The file name an upload is stored and shown under (`name` without folders), or a
        ConfigError for one that cannot name a file: empty, ".", "..", NUL or other control
        characters, more than 255 bytes."""
        safe = Path((name or "upload").replace("\\", "/")).name
        problem = (
            "no file name" if safe in ("", ".", "..") else
            "a control character in it" if any(ord(c) < 32 or ord(c) == 127 for c in safe) else
            "longer than 255 bytes" if len(safe.encode("utf-8", "surrogatepass")) > 255 else None
        )  # fmt: skip
        if problem:
            raise ConfigError(f"upload name {name[:60]!r}: {problem}")
        return safe

    def check_upload_size(self, name: str, size: int) -> None:
        """TooLarge if `size` bytes of upload `name` exceed `max_upload_mb`."""
        if size > self.cfg.max_upload_mb * 1e6:
            raise TooLarge(f"{Path(name).name}: more than the upload limit of "
                           f"{self.cfg.max_upload_mb:g} MB (serve.max_upload_mb)")  # fmt: skip

    # --- generation ---------------------------------------------------------------------
    def generate(
        self, song_id: str, model_name: str, z: list[float] | None = None,
        path: list[list[float]] | None = None,
    ) -> Result:  # fmt: skip
        """A bass for song `song_id` with model `model_name` at point `z` (z1, z2) or along a
        path of (time_s, z1, z2) rows; None for both: the centre of the training µ."""
        with self._turn():
            started = time.perf_counter()
            entry, song = self.model(model_name), self.song(song_id)
            times, points = _z_points(z, path, entry.region)
            note = region_warning(points, entry.region)
            notes_ = [note] if note else []
            curves = self._curves(entry, song, times, points)
            notes = generated_notes(curves, self.gen)
            midi = io.BytesIO()
            notes_to_midi(notes, song.seconds, program=self.gen.bass_program).save(file=midi)
            starts = np.array([n.start_s for n in notes])
            bass = _Synth(curves, starts, song.sample_rate)(0, song.samples)
            result = Result(
                uuid.uuid4().hex[:12], song_id, model_name, _wav_bytes(bass, song.sample_rate),
                midi.getvalue(), len(notes), 1000 * (time.perf_counter() - started),
                _path_csv(times, points) if path is not None else None, notes_,
            )  # fmt: skip
            self.results[result.id] = result
            while len(self.results) > self.cfg.results:
                self.results.popitem(last=False)
            return result

    @contextmanager
    def _turn(self):
        """Hold the lock (model work, caches), or raise Busy after `busy_timeout_s`."""
        if not self.lock.acquire(timeout=self.cfg.busy_timeout_s):
            raise Busy(f"the server is busy with other requests (waited "
                       f"{self.cfg.busy_timeout_s:g} s); try again")  # fmt: skip
        try:
            yield
        finally:
            self.lock.release()

    def _curves(self, entry: ModelEntry, song: Song, times, points) -> BassCurves:
        model, spec = entry.model, entry.model.config.spec
        n = len(song.cqt)
        factors = song.factors.get(entry.name)
        if factors is None:
            padded = np.concatenate([np.full((spec.hop, song.cqt.shape[1]), SILENT_LOG_CQT,
                                             dtype=np.float32), song.cqt])  # fmt: skip
            batches = window_batches(padded, spec, n, self.gen.batch_windows)
            factors = [mix_factors(model, w) for w in batches]
            size = sum(f.numel() * f.element_size() for f in factors)
            if size <= self.cfg.factor_cache_mb * 1e6:
                song.factors[entry.name] = factors
        count = sum(len(f) for f in factors)
        centres = np.arange(count) * spec.hop / FRAME_RATE  # window j is centred at frame j·hop
        z = z_at(centres, times, points)
        curves = curves_from_factors(model, factors, z, n, self.gen.silence_db)
        curves.silence(song.quiet, model.config.level_floor_db)
        return curves

    def result(self, result_id: str) -> Result:
        """A generated bass by id (the most recent `results` are kept)."""
        if result_id not in self.results:
            raise NotFound(f"no result {result_id!r} (only the last {self.cfg.results} are kept)")
        return self.results[result_id]

    def mix_with_bass(self, result_id: str) -> bytes:
        """The song with the generated bass added to every channel, 16-bit WAV bytes."""
        result = self.result(result_id)
        mix = MixReader(self.song_files[result.song])
        bass, _ = sf.read(io.BytesIO(result.wav), dtype="float32")
        out, block = io.BytesIO(), int(DECODE_BLOCK_S * mix.sr)
        # block by block: the mix is never held whole as float32 at its rate and channels
        with sf.SoundFile(out, "w", mix.sr, mix.info.channels, subtype="PCM_16",
                          format="WAV") as wav:  # fmt: skip
            for start in range(0, mix.frames, block):
                stop = min(start + block, mix.frames)
                wav.write(np.clip(mix.read(start, stop) + bass[start:stop, None], -1.0, 1.0))
        return out.getvalue()


def read_16k_blocks(mix: MixReader, block_s: float = DECODE_BLOCK_S) -> np.ndarray:
    """The whole song as 16 kHz mono float32, decoded `block_s` seconds at a time: memory
    holds the result and one block at the file's rate and channels, never the whole file as
    float32 (8 channels at 96 kHz are 48× the 16 kHz mono result). The same samples as one
    `read_16k` of the whole song: each block is resampled with its own margins."""
    n16, block = round(mix.seconds * SR), max(1, int(block_s * SR))
    audio = np.empty(n16, dtype=np.float32)
    for start in range(0, n16, block):
        stop = min(start + block, n16)
        audio[start:stop] = mix.read_16k(start, stop)
    return audio


def _song_name(path: Path) -> str:
    """A rendered song is named by its track id (A1_00003), an upload by its file name."""
    return path.name.removesuffix(".mix.wav")


def _z_points(z, path, region) -> tuple[np.ndarray, np.ndarray]:
    """(times (K,), z (K, 2)) of a point or a path, checked; the region's centre for neither."""
    if path is not None:
        table = np.asarray(path, dtype=np.float64)
        if table.ndim != 2 or table.shape[1] != 3:
            raise ConfigError("path must be a non-empty list of [time_s, z1, z2] rows")
        return path_points(table, "path")
    if z is not None:
        values = np.asarray(z, dtype=np.float64)
        if values.shape != (2,) or not np.all(np.isfinite(values)):
            raise ConfigError(f"z must be two finite numbers, got {z!r}")
    return np.zeros(1), point_or_centre(z, region)[None]  # refuses |z| beyond Z_LIMIT


def _path_csv(times: np.ndarray, points: np.ndarray) -> str:
    """A z-path as the CSV `bassnet generate --z-path` reads."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(PATH_COLUMNS)
    for t, (z1, z2) in zip(times, points, strict=True):
        writer.writerow([f"{t:.3f}", f"{z1:.4f}", f"{z2:.4f}"])
    return out.getvalue()


def _wav_bytes(audio: np.ndarray, sample_rate: int) -> bytes:
    """float audio (n,) or (n, channels) → 16-bit PCM WAV bytes, clipped at full scale."""
    out = io.BytesIO()
    sf.write(out, np.clip(audio, -1.0, 1.0), sample_rate, subtype="PCM_16", format="WAV")
    return out.getvalue()


def shipped_and_trained(models_dir: Path | None, extra: list[str] = ()) -> dict[str, ModelEntry]:
    """The models to offer: the shipped ones (A1–A5), those trained under `models_dir`
    (<dataset>/<window>/model.pt, named "<dataset> <window>"), and `extra` names or paths."""
    from bassnet.pretrained import HERE, available, resolve
    from bassnet.synth.patterns import DATASETS

    entries: dict[str, ModelEntry] = {}
    for name, card in available().items():
        what = DATASETS[card["dataset"]].description if card["dataset"] in DATASETS else ""
        label = f"{name} (shipped, {card['window']}) {what}".strip()
        entries[name] = ModelEntry(name, HERE / card["file"], label)
    if models_dir is not None and Path(models_dir).is_dir():
        for path in sorted(Path(models_dir).glob("*/*/model.pt")):
            dataset, slug = path.parent.parent.name, path.parent.name
            name = f"{dataset} {slug}"
            entries[name] = ModelEntry(name, path, f"{name} (trained here)", f"{dataset}/{slug}")
    for item in extra:
        path = resolve(item)
        name = item if item in entries else str(path)
        entries.setdefault(name, ModelEntry(name, path, name))
    return entries


def dataset_songs(datasets_dir: Path | None) -> dict[str, Path]:
    """The rendered dataset songs to pick from: <datasets_dir>/<dataset>/audio/*.mix.wav, by
    track id, validation songs (not seen in training) first."""
    songs: dict[str, Path] = {}
    if datasets_dir is None or not Path(datasets_dir).is_dir():
        return songs
    for folder in sorted(Path(datasets_dir).glob("*/audio")):
        valid = _valid_ids(folder.parent / "manifest.csv")
        files = sorted(folder.glob("*.mix.wav"), key=lambda p: (p.name[:-8] not in valid, p.name))
        for path in files:
            songs[path.name[: -len(".mix.wav")]] = path
    return songs


def _valid_ids(manifest: Path) -> set[str]:
    if not manifest.is_file():
        return set()
    with open(manifest, newline="") as handle:
        return {row["track_id"] for row in csv.DictReader(handle) if row.get("split") == "valid"}
