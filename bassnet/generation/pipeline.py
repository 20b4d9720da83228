"""`bassnet generate`: a mix file and a z (point or path) → bass WAV, MIDI, and mix + bass.

The mix is read segment by segment (`GenerateConfig.segment_s`), each with enough audio either
side for the CQT kernels and the windows that overlap its edges, so any length runs in bounded
memory and gives the same curves as one pass. Only the per-frame curves (a few floats per
10 ms) are kept for the whole song; notes, MIDI and audio are made from them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf
from tqdm import tqdm

from bassnet.atomic import atomic_path
from bassnet.audio_io import _check_truncation
from bassnet.config import checked_device
from bassnet.constants import FRAME_RATE, HOP, SR
from bassnet.errors import AudioError, ConfigError, DataError
from bassnet.features.audio import resample, to_mono
from bassnet.features.cqt import GroupedCQT
from bassnet.features.level import level_db
from bassnet.generation.config import GenerateConfig
from bassnet.generation.curves import BassCurves, segment_curves
from bassnet.generation.folded import FoldedBassNet, GenerationModel
from bassnet.generation.latent_path import check_z, outside_region, read_path, z_at
from bassnet.generation.notes import BassNote
from bassnet.generation.sonify import synthesize
from bassnet.model import BassNet

RENDERERS = ("synth", "soundfont")


@dataclass
class Generated:
    """What `generate_files` wrote and how long it took."""

    wav: Path
    midi: Path
    mix: Path | None
    seconds_audio: float
    seconds_compute: float
    curves: BassCurves = field(repr=False)
    bass_notes: list[BassNote] = field(repr=False)
    warnings: list[str] = field(default_factory=list)
    tempo_bpm: float | None = None  # the MIDI's tempo (the song's, or --midi-tempo)

    @property
    def notes(self) -> int:
        """Number of notes generated."""
        return len(self.bass_notes)

    @property
    def realtime_factor(self) -> float:
        """Seconds of audio generated per second of compute."""
        return self.seconds_audio / max(self.seconds_compute, 1e-9)


class _Mix:
    """Spans of a mix as 16 kHz mono, zeros outside it; subclasses give `read`, `sr`, `frames`,
    `channels` and `name`."""

    sr: int
    frames: int
    channels: int
    name: str

    def _set_rate(self, sr: int) -> None:
        self.sr = int(sr)
        # original-rate reads start at multiples of `step`, which map to whole 16 kHz samples
        self.step = self.sr // gcd(self.sr, SR)
        self.margin = math.ceil(0.05 * self.sr / self.step) * self.step  # resampler's reach

    @property
    def seconds(self) -> float:
        return self.frames / self.sr

    def read(self, start: int, stop: int) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def read_16k(self, start16: int, stop16: int) -> np.ndarray:
        """16 kHz mono samples [start16, stop16) (zeros outside the mix)."""
        first = (start16 * self.sr // SR) // self.step * self.step - self.margin
        last = -(-stop16 * self.sr // SR) + self.margin
        audio = resample(to_mono(self.read(first, last)), self.sr)
        offset = first * SR // self.sr  # exact: `first` is a multiple of `step`
        return audio[start16 - offset : stop16 - offset]


class MixReader(_Mix):
    """Spans of a mix file as 16 kHz mono, zeros outside the file, read without loading it."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.name = str(self.path)
        if not self.path.is_file():
            raise AudioError(f"{self.path}: file not found")
        try:
            self.info = sf.info(self.path)
            _check_truncation(self.path, self.info)
        except (sf.LibsndfileError, RuntimeError, ValueError) as err:
            raise AudioError(f"{self.path}: unreadable audio ({err})") from err
        self._set_rate(self.info.samplerate)
        self.frames = int(self.info.frames)
        self.channels = int(self.info.channels)
        if self.frames == 0:
            raise AudioError(f"{self.path}: no samples")

    def read(self, start: int, stop: int) -> np.ndarray:
        """Original-rate samples [start, stop) as (n, channels) float32, zeros outside."""
        lo, hi = max(start, 0), min(stop, self.frames)
        out = np.zeros((stop - start, self.channels), dtype=np.float32)
        if hi > lo:
            try:
                data, _ = sf.read(self.path, start=lo, stop=hi, dtype="float32", always_2d=True)
            except (sf.LibsndfileError, RuntimeError, ValueError) as err:
                raise AudioError(f"{self.path}: unreadable audio ({err})") from err
            if not np.all(np.isfinite(data)):
                raise AudioError(f"{self.path}: NaN or infinite samples")
            out[lo - start : lo - start + len(data)] = data
        return out


class ArrayMix(_Mix):
    """A mix held in memory: (samples,) or (samples, channels) at `sample_rate` Hz."""

    path = None

    def __init__(self, audio, sample_rate: int | None, name: str = "the mix array") -> None:
        self.name = name
        if sample_rate is None:
            raise ConfigError("a mix given as an array needs its sample_rate (Hz)")
        if (
            isinstance(sample_rate, bool)
            or not float(sample_rate).is_integer()
            or not (1000 <= sample_rate <= 384_000)
        ):
            raise ConfigError(f"sample_rate must be a whole number of Hz, 1000..384000, "
                              f"got {sample_rate!r}")  # fmt: skip
        try:
            data = np.asarray(audio, dtype=np.float32)
        except (TypeError, ValueError) as err:
            raise AudioError(f"{name}: not an array of samples ({err})") from err
        if data.ndim == 1:
            data = data[:, None]
        if data.ndim != 2 or not 1 <= data.shape[1] <= 8:
            raise AudioError(f"{name}: shape {data.shape}: give (samples,) or "
                             "(samples, channels) with at most 8 channels")  # fmt: skip
        if len(data) == 0:
            raise AudioError(f"{name}: no samples")
        if not np.all(np.isfinite(data)):
            raise AudioError(f"{name}: NaN or infinite samples")
        self.data = data
        self._set_rate(int(sample_rate))
        self.frames, self.channels = data.shape

    def read(self, start: int, stop: int) -> np.ndarray:
        """Samples [start, stop) as (n, channels) float32, zeros outside."""
        out = np.zeros((stop - start, self.channels), dtype=np.float32)
        lo, hi = max(start, 0), min(stop, self.frames)
        if hi > lo:
            out[lo - start : hi - start] = self.data[lo:hi]
        return out


def load_folded(path: Path, device: str = "cpu") -> FoldedBassNet:
    """A BassNet checkpoint ready for generation on `device` (blocks folded, see `folded`), or
    a DataError saying why the file is not one."""
    device = checked_device(device)
    if not path.is_file():
        raise DataError(f"{path}: no such model file")
    try:
        model = BassNet.load(path)
    except Exception as err:  # unpickling garbage raises anything; say what the file is not
        raise DataError(f"{path}: not a BassNet model this version can load ({err})") from err
    return FoldedBassNet(model.to(device))  # folded from the weights on the device


def _segment_z(z_fn, first_window: int, count: int, hop: int) -> np.ndarray:
    """z for windows first_window … first_window + count − 1 (window i is centred at frame
    i·hop)."""
    centres = (first_window + np.arange(count)) * hop / FRAME_RATE
    return z_fn(centres)


@dataclass
class Segment:
    """A stretch of the mix: frames `first` … `first` + `frames` − 1 (100/s) are its own; its
    `spectrum` (log |CQT|, (rows, 264)) starts at frame `spectrum_first`, its 16 kHz `audio`
    at frame `audio_first` (both reach further, as asked)."""

    first: int
    frames: int
    spectrum: np.ndarray
    spectrum_first: int
    audio: np.ndarray
    audio_first: int


def segments(mix: MixReader, seg: int, before: int, after: int, progress: bool = True,
             desc: str = "generate"):  # fmt: skip
    """The mix in segments of `seg` frames, each with the features' CQT of `before` frames
    before it to `after` frames after it (zeros outside the mix), and the audio behind them:
    `Segment`s, one after another, in bounded memory."""
    total = song_frames(mix)
    cqt = GroupedCQT()  # the features' CQT
    kernel_frames = -(-cqt.kernel_width // 2 // HOP) + 1  # CQT context either side
    for f0 in tqdm(range(0, total, seg), desc=desc, unit="segment", disable=not progress):
        n = min(seg, total - f0)
        lo = f0 - before - kernel_frames  # frames of context: windows and CQT kernels
        hi = f0 + n + after + kernel_frames
        audio = mix.read_16k(lo * HOP, hi * HOP)
        spectrum = cqt(audio)[kernel_frames : kernel_frames + (hi - lo - 2 * kernel_frames)]
        yield Segment(f0, n, spectrum, f0 - before, audio, lo)


def song_frames(mix: MixReader) -> int:
    """The number of 100/s frames of a mix."""
    return 1 + round(mix.seconds * SR) // HOP


def song_curves(
    model: GenerationModel, mix: MixReader, z_fn, cfg: GenerateConfig, progress: bool = True
) -> BassCurves:
    """Frame curves of the generated bass for the whole mix, segment by segment; frames where
    the mix is quieter than `cfg.silence_db` get no bass."""
    spec = model.config.spec
    hop = spec.hop
    seg = max(hop, int(cfg.segment_s * FRAME_RATE) // hop * hop)
    parts = []
    for part in segments(mix, seg, hop, 2 * hop, progress):
        f0, n = part.first, part.frames
        count = -(-n // hop) + 1
        z = _segment_z(z_fn, f0 // hop, count, hop)
        curves = segment_curves(model, part.spectrum, z, n, cfg.silence_db,
                                batch=cfg.batch_windows)  # fmt: skip
        # the mix's own level at frames f0 … f0 + n − 1: no bass where the mix is silent
        first = f0 - part.audio_first
        curves.silence(level_db(part.audio)[first : first + n] < cfg.silence_db,
                       model.config.level_floor_db)  # fmt: skip
        parts.append(curves)
    return BassCurves.concat(parts)


def z_function(
    region: dict | None, z: np.ndarray | None, z_path: str | Path | None
) -> tuple[callable, list[str]]:
    """A function of window-centre times (s) → z (N, 2), and warnings about z outside the
    model's trained `region` (its checkpoint's "latent_region")."""
    if z_path is not None:
        times, points = read_path(z_path)
    else:
        times, points = np.zeros(1), point_or_centre(z, region)[None]
    note = region_warning(points, region)
    notes = [note] if note else []
    return (lambda t: z_at(np.asarray(t, dtype=np.float64), times, points)), notes


def point_or_centre(z, region: dict | None) -> np.ndarray:
    """z as a (2,) float32 array; None: the centre of the training data's µ (`region`), else 0.
    A ConfigError for a z that is not finite or beyond ±`latent_path.Z_LIMIT`."""
    if z is None:
        z = region["centre"] if region else [0.0, 0.0]
    try:
        values = np.asarray(z, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"z must be numbers, got {z!r}") from err
    check_z(values, "z")  # before float32, where 1e39 would become inf
    return values.astype(np.float32)


def region_warning(points: np.ndarray, region: dict | None) -> str | None:
    """The warning for z points (K, 2) outside the model's trained region, else None."""
    if not region or not np.any(outside_region(points, np.array(region["low"]),
                                               np.array(region["high"]))):  # fmt: skip
        return None
    return (
        f"z outside the region the model was trained on (µ of the training data lies in "
        f"z1 {region['low'][0]:.2f}…{region['high'][0]:.2f}, "
        f"z2 {region['low'][1]:.2f}…{region['high'][1]:.2f}): the bass is extrapolated"
    )


def _write_audio(path: Path, mix: MixReader, bass_at, with_mix: bool, block_s: float = 10.0) -> int:
    """Write the bass, `bass_at(start, count)` → (count,) samples at the mix's rate, block by
    block into `path` (alone, or added to every channel of the mix); returns the number of
    samples clipped at full scale."""
    channels = mix.channels if with_mix else 1
    block, clipped = int(block_s * mix.sr), 0
    with (
        atomic_path(path) as tmp,
        sf.SoundFile(
            tmp, "w", samplerate=mix.sr, channels=channels, subtype="PCM_16", format="WAV"
        ) as out,
    ):
        for start in range(0, mix.frames, block):
            count = min(block, mix.frames - start)
            bass = bass_at(start, count)[:, None]
            audio = mix.read(start, start + count) + bass if with_mix else bass
            clipped += int(np.count_nonzero(np.abs(audio) > 1.0))
            out.write(np.clip(audio, -1.0, 1.0))
    return clipped


class _Synth:
    """Additive synthesis of the curves span by span, carrying the oscillator phase."""

    def __init__(self, curves: BassCurves, starts: np.ndarray, sample_rate: int) -> None:
        self.curves, self.starts, self.sr, self.phase = curves, starts, sample_rate, 0.0

    def __call__(self, start: int, count: int) -> np.ndarray:
        audio, self.phase = synthesize(self.curves, self.starts, self.sr, start, count, self.phase)
        return audio
