"""The Python API: `load_model` and `generate`, also exported at the package top (`bassnet.*`).

`bassnet generate` on the command line calls these same functions (through
`generate_files`). See the package docstring for an example.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import mido
import numpy as np

from bassnet.errors import ConfigError
from bassnet.generation.beat import Beat, song_beat
from bassnet.generation.config import GenerateConfig
from bassnet.generation.curves import BassCurves
from bassnet.generation.folded import FoldedBassNet
from bassnet.generation.latent_path import read_path, z_at
from bassnet.generation.midi_out import TempoMap, notes_to_midi
from bassnet.generation.notes import BassNote, generated_notes
from bassnet.generation.pipeline import (
    RENDERERS,
    ArrayMix,
    Generated,
    MixReader,
    _Synth,
    _write_audio,
    load_folded,
    point_or_centre,
    region_warning,
    song_curves,
)
from bassnet.generation.prior_path import PRIOR_PATHS, prior_path, song_prior
from bassnet.model.prior import LatentPrior
from bassnet.synth.patterns import PATTERN_NAMES

__all__ = ["Bass", "Model", "generate", "load_model"]


@dataclass
class Model:
    """A model ready to generate: `net` (folded, on `device`), where it came from, and its
    patterns by name → z (2,) (`pattern_source` says which µ their centroids are of)."""

    name: str
    path: Path
    net: FoldedBassNet = field(repr=False)
    device: str
    dataset: str | None
    patterns: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    pattern_source: str | None = None
    _prior: LatentPrior | None = field(default=None, init=False, repr=False)  # read on first use

    @property
    def region(self) -> dict | None:
        """The box of the training data's µ and its centre ({"centre", "low", "high"})."""
        return self.net.extra.get("latent_region")

    @property
    def prior(self) -> LatentPrior | None:
        """The model's prior p(z | x) (`bassnet.model.prior`), if its file has one."""
        if "prior" not in self.net.extra:
            return None
        if self._prior is None:
            self._prior = LatentPrior.from_state(self.net.extra["prior"], str(self.path))
        return self._prior

    def pattern_z(self, name: str) -> np.ndarray:
        """The z (2,) of a pattern by name, or a ConfigError listing the model's patterns."""
        if name in self.patterns:
            return self.patterns[name]
        known = ", ".join(self.patterns) or "none stored in this model file"
        raise ConfigError(f"model {self.name}: no pattern {name!r} (known: {known})")


def _patterns(extra: dict, dataset: str | None) -> tuple[dict[str, np.ndarray], str | None]:
    """A model file's pattern centroids by name: those `ship-models` stored (of the training
    songs' µ), else, for a shipped model of a known dataset, the centroids of the validation µ
    in its pad map (`latent_map`, labelled by pattern number)."""
    stored = extra.get("pattern_centroids")
    if stored:
        return {k: np.asarray(v, dtype=np.float32) for k, v in stored.items()}, "training songs"
    latent = extra.get("latent_map") or {}
    if dataset in PATTERN_NAMES and latent.get("points") and latent.get("labels"):
        points, labels = np.asarray(latent["points"]), np.asarray(latent["labels"])
        names = PATTERN_NAMES[dataset]
        return {
            names[p - 1]: points[labels == p].mean(axis=0).astype(np.float32)
            for p in range(1, len(names) + 1)
            if np.any(labels == p)
        }, "validation songs"
    return {}, None


def load_model(model: str | Path | Model = "A1", device: str = "cpu") -> Model:
    """A shipped model by name ("A1".."A5", see `bassnet models`) or a model.pt path, loaded on
    `device` ("cpu", "cuda" or "auto": cuda where torch sees a GPU). A `str` is a shipped name
    first, then a path; a `Path` is always a path. DataError for a file that is not a model."""
    from bassnet.pretrained import available, resolve

    if isinstance(model, Model):
        return model
    path = Path(model) if isinstance(model, Path) else resolve(str(model))
    net = load_folded(path, device)
    card = available().get(str(model)) if not isinstance(model, Path) else None
    dataset = (card or {}).get("dataset") or net.extra.get("dataset")
    patterns, source = _patterns(net.extra, dataset)
    device_name = str(next(net.parameters()).device)
    return Model(str(model), path, net, device_name, dataset, patterns, source)


def _z_points(model: Model, z, source, cfg: GenerateConfig, seed: int,
              progress: bool) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """z as a path: times (K,) in s and points (K, 2). `z`: None (the centre of the training
    data's µ), a point (z1, z2), a pattern name, "auto" or "sample" (the model's prior over
    the song `source`), or a z-path CSV (a Path, or a str naming an existing file or ending in
    .csv)."""
    if isinstance(z, str) and z in PRIOR_PATHS:
        if model.prior is None:
            raise ConfigError(f"model {model.name} has no prior p(z|x) for --z {z}: its file "
                              "was not shipped with one (`dvc repro ship`)")  # fmt: skip
        times, weights = song_prior(model.prior, source, cfg, progress)
        return prior_path(model.prior, times, weights, z, cfg, seed)
    if isinstance(z, Path) or (isinstance(z, str) and (Path(z).is_file() or z.endswith(".csv"))):
        return read_path(z)
    if isinstance(z, str):
        return np.zeros(1), model.pattern_z(z)[None]
    return np.zeros(1), point_or_centre(z, model.region)[None]


@dataclass
class Bass:
    """A generated bass: `notes`, frame `curves` (100/s), `midi` (a mido.MidiFile at the song's
    tempo `tempo_bpm`, bar 1 of 4/4 at `downbeat_s`), and `audio` (the bass at the mix's
    `sample_rate`, made on first access); `save` writes them."""

    notes: list[BassNote] = field(repr=False)
    curves: BassCurves = field(repr=False)
    midi: mido.MidiFile = field(repr=False)
    beat: Beat
    sample_rate: int
    seconds: float  # the mix's length
    render: str = "synth"
    program: int = 33
    soundfont: str = ""
    warnings: list[str] = field(default_factory=list)
    seconds_compute: float = 0.0
    mix: MixReader | ArrayMix | None = field(default=None, repr=False)
    _audio: np.ndarray | None = field(default=None, repr=False)

    @property
    def tempo_bpm(self) -> float:
        """The MIDI's tempo in quarter notes per minute."""
        return self.beat.tempo_bpm

    @property
    def downbeat_s(self) -> float:
        """Where bar 1 of the MIDI's 4/4 starts, in s."""
        return self.beat.downbeat_s

    def _bass_at(self):
        """A function (start, count) → bass samples at the mix's rate, from sample 0 on."""
        if self._audio is not None:
            return lambda start, count: self._audio[start : start + count]
        if self.render == "synth":  # streamed: a fresh synthesizer, from sample 0
            return _Synth(self.curves, np.array([n.start_s for n in self.notes]),
                          self.sample_rate)  # fmt: skip
        return lambda start, count: self.audio[start : start + count]

    @property
    def audio(self) -> np.ndarray:
        """The bass (samples,) float32 at the mix's rate and length (a whole song in memory:
        `save` streams it to a file instead)."""
        if self._audio is None:
            frames = self.mix.frames
            if self.render == "synth":
                self._audio = self._bass_at()(0, frames)
            else:  # FluidSynth renders the whole song in memory
                from bassnet.synth.fluidsynth_render import FluidRenderer

                renderer = FluidRenderer(self.soundfont, sample_rate=self.sample_rate,
                                         effects=False)  # fmt: skip
                try:
                    self._audio = renderer.render(self.midi, ("bass",), frames).mean(axis=1)
                finally:
                    renderer.close()
        return self._audio

    def save(self, stem: str | Path, with_mix: bool = False, force: bool = False) -> list[Path]:
        """Write STEM.wav (the bass, 16-bit), STEM.mid and, with `with_mix`, STEM.mix.wav (the
        mix with the bass added to every channel); returns the paths written. Audio goes to
        the files block by block; samples beyond full scale are clipped (counted in
        `warnings`). An existing WAV (MIDI) file there is replaced; another kind of file is
        an OutputError unless `force`; the mix file never is."""
        from bassnet.atomic import atomic_path, check_outputs

        stem = Path(stem)
        wav, mid = stem.with_name(stem.name + ".wav"), stem.with_name(stem.name + ".mid")
        mixed = stem.with_name(stem.name + ".mix.wav") if with_mix else None
        written = [p for p in (wav, mid, mixed) if p]
        kinds = {wav: "WAV", mid: "MIDI", **({mixed: "WAV"} if mixed else {})}
        check_outputs(written, [self.mix.path], kinds, force)
        stem.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(mid) as tmp:
            self.midi.save(tmp)
        clipped = sum(_write_audio(path, self.mix, self._bass_at(), m)
                      for path, m in ((wav, False), (mixed, True)) if path)  # fmt: skip
        if clipped:
            self.warnings.append(f"{clipped} samples clipped at full scale in the output")
        return written


def generate(
    mix: str | Path | np.ndarray, model: str | Path | Model = "A1", z=None,
    sample_rate: int | None = None, device: str = "cpu", render: str = "synth",
    midi_tempo: float | None = None, cfg: GenerateConfig | None = None, progress: bool = False,
    seed: int = 0,
) -> Bass:  # fmt: skip
    """A bass for a song.

    Args:
        mix: an audio file (any rate, mono or stereo), or samples (samples,) or
            (samples, channels) with their `sample_rate` in Hz.
        model: a shipped model's name, a model.pt path, or a `Model` from `load_model`.
        z: where in the latent space: None (the centre of the training data's µ), a point
            (z1, z2), a pattern name of the model (`Model.patterns`, e.g. "fifth"), "auto"
            (where the model's prior p(z|x) is densest for each moment of this mix,
            smoothed over `cfg.prior_smooth_s`), "sample" (a path drawn from that prior,
            from `seed`), or a z-path CSV (columns time_s,z1,z2, interpolated linearly).
        device: "cpu", "cuda" or "auto", where a name or path is loaded.
        render: "synth" (additive synthesis) or "soundfont" (the MIDI through FluidSynth).
        midi_tempo: the MIDI's tempo in BPM, bar 1 at 0 s; default: the song's, estimated
            by madmom's beat tracker (`generation.beat`) within `cfg.tempo_range_bpm`.
        cfg: generation settings (params.yaml's `generate` section; defaults otherwise).

    A z outside the region the model was trained on warns (UserWarning) and is in
    `Bass.warnings`.
    """
    cfg = cfg or GenerateConfig()
    if render not in RENDERERS:
        raise ConfigError(f"render must be one of {RENDERERS}, got {render!r}")
    if midi_tempo is not None:
        TempoMap(midi_tempo)  # a ConfigError for a tempo out of range, before any work
    started = time.perf_counter()
    model = load_model(model, device)
    source = MixReader(mix) if isinstance(mix, (str, Path)) else ArrayMix(mix, sample_rate)
    if source.seconds > cfg.max_hours * 3600:
        from bassnet.errors import AudioError

        raise AudioError(f"{source.name}: {source.seconds / 3600:.1f} h is longer than "
                         f"generate.max_hours ({cfg.max_hours} h)")  # fmt: skip
    times, points = _z_points(model, z, source, cfg, seed, progress)
    notes_: list[str] = []
    note = region_warning(points, model.region)
    if note:
        notes_.append(note)
        warnings.warn(note, stacklevel=2)
    z_fn = lambda t: z_at(np.asarray(t, dtype=np.float64), times, points)  # noqa: E731
    curves = song_curves(model.net, source, z_fn, cfg, progress)
    notes = generated_notes(curves, cfg)
    if midi_tempo is not None:
        beat = Beat(float(midi_tempo), 0.0)
    else:
        beat = song_beat(source, tempo_range_bpm=cfg.tempo_range_bpm)
        if not beat.found:
            notes_.append(f"no beat found in {source.name}: the MIDI is at {beat.tempo_bpm:g} BPM")
    midi = notes_to_midi(notes, source.seconds, program=cfg.bass_program,
                         tempo_bpm=beat.tempo_bpm, downbeat_s=beat.downbeat_s)  # fmt: skip
    return Bass(notes, curves, midi, beat, source.sr, source.seconds, render, cfg.bass_program,
                cfg.soundfont, notes_, time.perf_counter() - started, source)  # fmt: skip


def generate_files(
    mix_path: str | Path, out: str | Path, model_path: str | Path, z: np.ndarray | None = None,
    z_path: str | Path | None = None, render: str = "synth", with_mix: bool = False,
    cfg: GenerateConfig | None = None, progress: bool = True, pattern: str | None = None,
    midi_tempo: float | None = None, device: str = "cpu", model=None, force: bool = False,
    seed: int = 0,
) -> Generated:  # fmt: skip
    """Write OUT.wav (bass), OUT.mid and, with `with_mix`, OUT.mix.wav; see the module doc.
    An existing output is replaced atomically if it is a WAV (a MIDI) file, as an earlier
    run's is; any other file there is an OutputError unless `force`. An input never is.

    z is one of `z` (a point, or "auto" / "sample": the model's prior over this mix, see
    `generate`), `z_path` (a CSV time_s,z1,z2) and `pattern` (a pattern name of the model),
    or none (the centre of the training data's µ). The MIDI is at the song's
    tempo (`beat`), or `midi_tempo` BPM. `model`: an already loaded `bassnet.api.Model`
    (several songs, one load); else `model_path` is loaded on `device`.
    """
    from bassnet.atomic import check_outputs

    given = [v for v in (z, z_path, pattern) if v is not None]
    if len(given) > 1:
        raise ConfigError("give one of z, z_path and pattern")
    if render not in RENDERERS:
        raise ValueError(f"render must be one of {RENDERERS}, got {render!r}")
    started = time.perf_counter()
    out = Path(out)
    wav, mid = out.with_name(out.name + ".wav"), out.with_name(out.name + ".mid")
    mixed = out.with_name(out.name + ".mix.wav") if with_mix else None
    # before any work: an output must not replace what this run reads, nor fail at the end
    kinds = {wav: "WAV", mid: "MIDI", **({mixed: "WAV"} if mixed else {})}
    check_outputs(list(kinds), [mix_path, model_path, z_path], kinds, force)
    if model is None:
        model = load_model(Path(model_path), device=device)
    spec = Path(z_path) if z_path is not None else pattern if pattern is not None else z
    bass = generate(Path(mix_path), model, z=spec, render=render, midi_tempo=midi_tempo,
                    cfg=cfg, progress=progress, seed=seed)  # fmt: skip
    bass.save(out, with_mix=with_mix, force=force)
    return Generated(wav, mid, mixed, bass.seconds, time.perf_counter() - started, bass.curves,
                     bass.notes, bass.warnings, bass.tempo_bpm)  # fmt: skip
