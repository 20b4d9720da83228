"""`bassnet generate`: a mix file and a z (point or path) → bass WAV, MIDI, and mix + bass.

The mix is read segment by segment (`GenerateConfig.segment_s`), each with enough audio either
side for the CQT kernels and the windows that overlap its edges, so any length runs in bounded
memory and gives the same curves as one pass. Only the per-frame curves (a few floats per
10 ms) are kept for the whole song; notes, MIDI and audio are made from them.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf
from tqdm import tqdm

from bassnet.atomic import atomic_path, check_outputs
from bassnet.audio_io import _check_truncation
from bassnet.constants import FRAME_RATE, HOP, SR
from bassnet.errors import AudioError, ConfigError, DataError
from bassnet.features.audio import resample, to_mono
from bassnet.features.cqt import GroupedCQT
from bassnet.features.level import level_db
from bassnet.generation.config import GenerateConfig
from bassnet.generation.curves import BassCurves, segment_curves
from bassnet.generation.folded import FoldedBassNet, GenerationModel
from bassnet.generation.latent_path import check_z, outside_region, read_path, z_at
from bassnet.generation.midi_out import notes_to_midi
from bassnet.generation.notes import BassNote, curves_to_notes
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

    @property
    def notes(self) -> int:
        """Number of notes generated."""
        return len(self.bass_notes)

    @property
    def realtime_factor(self) -> float:
        """Seconds of audio generated per second of compute."""
        return self.seconds_audio / max(self.seconds_compute, 1e-9)


class MixReader:
    """Spans of a mix file as 16 kHz mono, zeros outside the file, read without loading it."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise AudioError(f"{self.path}: file not found")
        try:
            self.info = sf.info(self.path)
            _check_truncation(self.path, self.info)
        except (sf.LibsndfileError, RuntimeError, ValueError) as err:
            raise AudioError(f"{self.path}: unreadable audio ({err})") from err
        self.sr = int(self.info.samplerate)
        self.frames = int(self.info.frames)
        if self.frames == 0:
            raise AudioError(f"{self.path}: no samples")
        # original-rate reads start at multiples of `step`, which map to whole 16 kHz samples
        self.step = self.sr // gcd(self.sr, SR)
        self.margin = math.ceil(0.05 * self.sr / self.step) * self.step  # resampler's reach

    @property
    def seconds(self) -> float:
        return self.frames / self.sr

    def read(self, start: int, stop: int) -> np.ndarray:
        """Original-rate samples [start, stop) as (n, channels) float32, zeros outside."""
        lo, hi = max(start, 0), min(stop, self.frames)
        out = np.zeros((stop - start, self.info.channels), dtype=np.float32)
        if hi > lo:
            try:
                data, _ = sf.read(self.path, start=lo, stop=hi, dtype="float32", always_2d=True)
            except (sf.LibsndfileError, RuntimeError, ValueError) as err:
                raise AudioError(f"{self.path}: unreadable audio ({err})") from err
            if not np.all(np.isfinite(data)):
                raise AudioError(f"{self.path}: NaN or infinite samples")
            out[lo - start : lo - start + len(data)] = data
        return out

    def read_16k(self, start16: int, stop16: int) -> np.ndarray:
        """16 kHz mono samples [start16, stop16) (zeros outside the file)."""
        first = (start16 * self.sr // SR) // self.step * self.step - self.margin
        last = -(-stop16 * self.sr // SR) + self.margin
        audio = resample(to_mono(self.read(first, last)), self.sr)
        offset = first * SR // self.sr  # exact: `first` is a multiple of `step`
        return audio[start16 - offset : stop16 - offset]


def load_folded(path: Path) -> FoldedBassNet:
    """A BassNet checkpoint ready for generation (blocks folded, see `folded`), or a DataError
    saying why the file is not one."""
    if not path.is_file():
        raise DataError(f"{path}: no such model file")
    try:
        model = BassNet.load(path)
    except Exception as err:  # unpickling garbage raises anything; say what the file is not
        raise DataError(f"{path}: not a BassNet model this version can load ({err})") from err
    return FoldedBassNet(model)


def _segment_z(z_fn, first_window: int, count: int, hop: int) -> np.ndarray:
    """z for windows first_window … first_window + count − 1 (window i is centred at frame
    i·hop)."""
    centres = (first_window + np.arange(count)) * hop / FRAME_RATE
    return z_fn(centres)


def song_curves(
    model: GenerationModel, mix: MixReader, z_fn, cfg: GenerateConfig, progress: bool = True
) -> BassCurves:
    """Frame curves of the generated bass for the whole mix, segment by segment; frames where
    the mix is quieter than `cfg.silence_db` get no bass."""
    spec = model.config.spec
    hop = spec.hop
    total = 1 + round(mix.seconds * SR) // HOP  # frames of the song at 100/s
    seg = max(hop, int(cfg.segment_s * FRAME_RATE) // hop * hop)
    cqt = GroupedCQT()  # the features' CQT
    kernel_frames = -(-cqt.kernel_width // 2 // HOP) + 1  # CQT context either side
    parts = []
    for f0 in tqdm(range(0, total, seg), desc="generate", unit="segment", disable=not progress):
        n = min(seg, total - f0)
        lo = f0 - hop - kernel_frames  # frames of context: windows and CQT kernels
        hi = f0 + n + 2 * hop + kernel_frames
        audio = mix.read_16k(lo * HOP, hi * HOP)
        spectrum = cqt(audio)[kernel_frames : kernel_frames + (hi - lo - 2 * kernel_frames)]
        count = -(-n // hop) + 1
        z = _segment_z(z_fn, f0 // hop, count, hop)
        curves = segment_curves(model, spectrum, z, n, batch=cfg.batch_windows)
        # the mix's own level at frames f0 … f0 + n − 1 (frame f0 is the segment's frame
        # hop + kernel_frames): no bass where the mix is silent
        first = hop + kernel_frames
        curves.silence(level_db(audio)[first : first + n] < cfg.silence_db,
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
    channels = mix.info.channels if with_mix else 1
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


def generate_files(
    mix_path: str | Path, out: str | Path, model_path: str | Path, z: np.ndarray | None = None,
    z_path: str | Path | None = None, render: str = "synth", with_mix: bool = False,
    cfg: GenerateConfig | None = None, progress: bool = True, force: bool = False,
) -> Generated:  # fmt: skip
    """Write OUT.wav (bass), OUT.mid and, with `with_mix`, OUT.mix.wav; see the module doc.
    An existing output is replaced atomically if it is a WAV (a MIDI) file, as an earlier
    run's is; any other file there is an OutputError unless `force`. An input never is."""
    cfg = cfg or GenerateConfig()
    if render not in RENDERERS:
        raise ValueError(f"render must be one of {RENDERERS}, got {render!r}")
    started = time.perf_counter()
    model_path = Path(model_path)
    out = Path(out)
    wav, mid = out.with_name(out.name + ".wav"), out.with_name(out.name + ".mid")
    mixed = out.with_name(out.name + ".mix.wav") if with_mix else None
    # before any work: an output must not replace what this run reads, nor fail at the end
    kinds = {wav: "WAV", mid: "MIDI", **({mixed: "WAV"} if mixed else {})}
    check_outputs(list(kinds), [mix_path, model_path, z_path], kinds, force)
    model = load_folded(model_path)
    mix = MixReader(mix_path)
    if mix.seconds > cfg.max_hours * 3600:
        raise AudioError(
            f"{mix.path}: {mix.seconds / 3600:.1f} h is longer than generate.max_hours "
            f"({cfg.max_hours} h)"
        )
    z_fn, notes_ = z_function(model.extra.get("latent_region"), z, z_path)
    for note in notes_:
        warnings.warn(note, stacklevel=2)
    curves = song_curves(model, mix, z_fn, cfg, progress)
    notes = curves_to_notes(curves, cfg.onset_threshold, cfg.min_note_frames)
    midi = notes_to_midi(notes, mix.seconds, program=cfg.bass_program)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(mid) as tmp:
        midi.save(tmp)
    starts = np.array([n.start_s for n in notes])
    if render == "synth":  # streamed: a fresh synthesizer per file, each from sample 0

        def bass_for():
            return _Synth(curves, starts, mix.sr)
    else:  # FluidSynth renders the whole song in memory (one array of the song's length)
        from bassnet.synth.fluidsynth_render import FluidRenderer

        renderer = FluidRenderer(cfg.soundfont, sample_rate=mix.sr, effects=False)
        try:
            rendered = renderer.render(midi, ("bass",), mix.frames).mean(axis=1)
        finally:
            renderer.close()

        def bass_for():
            return lambda start, count: rendered[start : start + count]

    targets = [(wav, False)] + ([(mixed, True)] if mixed else [])
    clipped = sum(_write_audio(p, mix, bass_for(), m) for p, m in targets)
    if clipped:
        notes_.append(f"{clipped} samples clipped at full scale in the output")
    return Generated(wav, mid, mixed, mix.seconds, time.perf_counter() - started, curves, notes,
                     notes_)  # fmt: skip
