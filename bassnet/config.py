"""Typed views of `params.yaml`, the one place where the project's knobs live.

`params.yaml` holds shared settings per stage plus `profiles`: `default` (a 2-core CPU runs the
whole pipeline in minutes) and `paper` (the paper's sizes, a GPU job). The active `profile` is
deep-merged over the shared settings, so `dvc exp run -S profile=paper` switches everything.

The package carries these parameters: `bassnet/params.yaml` is a symbolic link to the
checkout's `params.yaml`, the one file DVC reads and edits, so the two cannot differ; a wheel
(setuptools copies the link's target) holds the file itself and works outside any checkout.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
import sys
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bassnet.errors import ConfigError

# the checkout's params.yaml, the one DVC reads (absent where the package is installed)
REPO_PARAMS = Path(__file__).resolve().parents[1] / "params.yaml"
# The sections of params.yaml that map keys to settings (the typed configs read them)
SECTIONS = ("render", "features", "stems", "model", "train", "evaluate", "collections",
            "generate", "control", "prior", "serve")  # fmt: skip
# The key of loaded params that names their file, so that an error can say where it lies
SOURCE_KEY = "params_file"
# the parameters the package carries: a link to REPO_PARAMS in a checkout, a copy in a wheel
PACKAGED_PARAMS = Path(__file__).parent / "params.yaml"


def deep_merge(base: dict, override: dict) -> dict:
    """`override` merged into a copy of `base`, mappings key by key, other values replaced."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _read(file: Path) -> Any:
    """A params file's YAML (ConfigError if it is not valid YAML)."""
    try:
        return yaml.safe_load(file.read_text())
    except yaml.YAMLError as err:
        raise ConfigError(f"{file}: not valid YAML: {err}") from err


def is_bassnet_params(raw: Any) -> bool:
    """Whether loaded YAML is a bassnet params file: a mapping with a `profiles` section (a
    DVC project's own params.yaml has none)."""
    return isinstance(raw, dict) and "profiles" in raw


_noted: set[Path] = set()  # foreign params files already noted on stderr, once per process


def find_params(path: str | Path | None = None) -> Path:
    """The params file to use: `path` (which must be bassnet's), else ./params.yaml if it is
    bassnet's (in a checkout), else the packaged parameters. A ./params.yaml of another
    project (no `profiles` section) is passed over with a one-line note on stderr."""
    if path:
        file = Path(path)
        if not file.is_file():
            raise ConfigError(f"no params file found (looked for {file})")
        if not is_bassnet_params(_read(file)):
            raise ConfigError(f"{file}: not a bassnet params file (it has no `profiles` section)")
        return file
    local = Path("params.yaml")
    if local.is_file():
        if is_bassnet_params(_read(local)):
            return local
        if local.resolve() not in _noted:
            _noted.add(local.resolve())
            note = "./params.yaml is not bassnet's (no `profiles` section); using the packaged"
            print(f"bassnet: note: {note} parameters ({PACKAGED_PARAMS})", file=sys.stderr)
    if PACKAGED_PARAMS.is_file():
        return PACKAGED_PARAMS
    raise ConfigError(f"no params file found: the package lacks {PACKAGED_PARAMS}; reinstall it")


def load_params(path: str | Path | None = None, profile: str | None = None) -> dict[str, Any]:
    """The parameters with the active (or the given) profile merged in, as plain dicts, from
    the file `find_params(path)`, whose path they hold under SOURCE_KEY. A file, profile or
    section that is not a mapping is a ConfigError naming it."""
    file = find_params(path)
    raw = _read(file) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: expected a mapping of sections, got {_shown(raw)}")
    profiles = raw.pop("profiles", {}) or {}
    if not isinstance(profiles, dict):
        raise ConfigError(f"{file}: profiles: expected a mapping, got {_shown(profiles)}")
    name = profile or raw.pop("profile", "default")
    raw.pop("profile", None)
    if not isinstance(name, str) or name not in profiles:
        raise ConfigError(f"{file}: unknown profile {name!r}; known: {', '.join(profiles)}")
    chosen = profiles[name] or {}
    if not isinstance(chosen, dict):
        raise ConfigError(f"{file}: profiles.{name}: expected a mapping, got {_shown(chosen)}")
    for where, values in ((None, raw), (f"profiles.{name}", chosen)):
        for section in SECTIONS:
            value = values.get(section)
            if value is not None and not isinstance(value, dict):
                key = f"{where}.{section}" if where else section
                raise ConfigError(f"{file}: {key}: expected a mapping, got {_shown(value)}")
    merged = deep_merge(raw, chosen)
    merged["profile"] = name
    merged[SOURCE_KEY] = str(file)
    return merged


def located(params: dict[str, Any] | None, section: str) -> str:
    """`section` prefixed with the file that `params` came from ("params.yaml: render"), or
    alone where they came from no file."""
    source = (params or {}).get(SOURCE_KEY)
    return f"{source}: {section}" if source else section


# The devices a setting may name; "auto" is cuda where torch sees a GPU, else cpu
DEVICES = ("cpu", "cuda", "auto")


def resolve_device(device: str) -> str:
    """ "cpu" or "cuda" as given; "auto": cuda when torch sees a GPU, else cpu."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def checked_device(device: object, where: str = "device") -> str:
    """The device to run models on for a setting or flag named `where`: one of DEVICES or
    "cuda:N", with "auto" resolved; a ConfigError naming `where` for another name or for a GPU
    that torch does not see."""
    if not isinstance(device, str) or not (
        device in DEVICES or (device.startswith("cuda:") and device[5:].isdigit())
    ):
        raise ConfigError(f"{where} must be cpu, cuda or auto, got {device!r}")
    resolved = resolve_device(device)
    if resolved.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ConfigError(
                f"{where} is {resolved}, but torch sees no GPU here (use cpu or auto)"
            )
    return resolved


def _shown(value: Any, limit: int = 60) -> str:
    """A params value as an error message shows it: its repr, cut at `limit` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# What a field's type hint accepts, in words; a float field also takes an integer (YAML's 30)
_NAMES = {int: ("an integer", "integers"), float: ("a number", "numbers"),
          str: ("a string", "strings"), bool: ("true or false", "booleans")}  # fmt: skip


def _describe(hint: Any, plural: bool = False) -> str:
    """A type hint in words: "a number", "a list of 2 numbers", "a mapping or null"."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint in _NAMES:
        return _NAMES[hint][plural]
    if origin in (typing.Union, types.UnionType):
        words = [_describe(a, plural) for a in args if a is not type(None)]
        return " or ".join(words) + (" or null" if type(None) in args else "")
    if hint is dict or origin is dict:
        return "mappings" if plural else "a mapping"
    if hint is tuple or origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {_describe(args[0], True)}"
        if args and len(set(args)) == 1:
            return f"a list of {len(args)} {_describe(args[0], True)}"
        return "a list"
    return getattr(hint, "__name__", str(hint))


def _fits(value: Any, hint: Any) -> bool:
    """Whether `value` (as YAML gives it: lists, dicts, numbers, strings, null) fits `hint`;
    a hint this check does not know fits anything (the config's own checks decide)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(value is None if a is type(None) else _fits(value, a) for a in args)
    if hint is bool:
        return isinstance(value, bool)
    if hint in (int, float):  # a YAML `true` is neither a count nor a number
        kinds = (int,) if hint is int else (int, float)
        return isinstance(value, kinds) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if hint is dict or origin is dict:
        return isinstance(value, dict) and all(_fits(v, args[1]) for v in value.values() if args)
    if hint is tuple or origin is tuple:
        if not isinstance(value, list | tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_fits(v, args[0]) for v in value)
        if not args:
            return True
        return len(value) == len(args) and all(map(_fits, value, args))
    return True


def type_problem(value: Any, hint: Any, where: str) -> str | None:
    """Why `value` does not fit type hint `hint`, as "<where>: expected <type>, got <value>",
    or None where it fits. A typed mapping names its first bad value (<where>.<key>)."""
    if _fits(value, hint):
        return None
    if (typing.get_origin(hint) is dict) and isinstance(value, dict):
        for key, item in value.items():
            problem = type_problem(item, typing.get_args(hint)[1], f"{where}.{key}")
            if problem:
                return problem
    kind = " (a string)" if isinstance(value, str) else ""
    if isinstance(value, str) and re.fullmatch(r"[-+]?[0-9]+[eE][-+]?[0-9]+", value):
        kind = " (a string: YAML reads an exponent without a decimal point as text; write 1.0e-4)"
    return f"{where}: expected {_describe(hint)}, got {_shown(value)}{kind}"


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def check_types(cls: type, section: dict[str, Any], where: str) -> None:
    """Raise ConfigError for the first value of `section` whose type does not fit its field
    of dataclass `cls` ("params.yaml: render.seconds: expected a number, got '30' (a
    string)"), before the config's own checks compare it with anything."""
    hints = _hints(cls)
    for key, value in section.items():
        problem = type_problem(value, hints[key], f"{where}.{key}") if key in hints else None
        if problem:
            raise ConfigError(problem)


def build_config(cls: type, section: dict[str, Any] | None, where: str):
    """Instantiate dataclass `cls` from a params section, naming unknown or missing keys and
    values of the wrong type."""
    if section is None:
        section = {}
    if not isinstance(section, dict):
        raise ConfigError(f"{where}: expected a mapping, got {_shown(section)}")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(section) - names
    missing = {
        f.name
        for f in dataclasses.fields(cls)
        if f.name not in section
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    }
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")
    if missing:
        raise ConfigError(f"{where}: missing keys {sorted(missing)}")
    check_types(cls, section, where)
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in section.items()}
    return cls(**values)


# Songs longer than an hour are refused: a song is rendered whole in memory (float32 stereo at
# 44.1 kHz: 1.3 GB per stem-hour), and the paper's songs are about a minute.
MAX_SONG_SECONDS = 3600.0
# Seeds are stored as int64 in labels.parquet and numpy's SeedSequence takes no negative ones.
MAX_SEED = 2**63 - 1


def is_seed(value: Any) -> bool:
    """Whether `value` is a usable dataset seed: an int in 0..MAX_SEED (not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_SEED


def finite(*values: Any) -> bool:
    """Whether every value is a finite real number (inf passes `> 0`, so ranges need this)."""
    return all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values
    )


def raise_failed(checks: dict[str, bool], section: str) -> None:
    """Raise one ConfigError naming every check of `section` that failed."""
    failed = [msg for msg, ok in checks.items() if not ok]
    if failed:
        raise ConfigError(f"{section}: " + "; ".join(failed))


@dataclass(frozen=True)
class RenderConfig:
    """Settings of the artificial datasets (`render` section); paper §5.1 values in comments."""

    songs: int  # songs per dataset (paper: 1000)
    seconds: float  # approximate song length in s, whole measures (paper: ~60)
    sample_rate: int  # Hz of the rendered WAVs
    soundfont: str  # FluidR3_GM, the paper's soundfont
    gain: float  # FluidSynth master gain
    effects: bool  # FluidSynth reverb and chorus (on by default in FluidSynth)
    tempo_bpm: tuple[float, float]  # uniform tempo range (paper: 100–200)
    root_range: tuple[int, int]  # MIDI range of chord roots, inclusive (paper: 48–60)
    chord_measures: tuple[int, ...]  # a chord lasts one of these numbers of measures (1 or 2)
    proportion_range: tuple[float, float]  # mixing proportion of the two chord instruments
    instrument_switch_prob: float  # A3, A5: chance of changing instrument at a chord change (0.5)
    instrument_rule_prob: float  # A5: chance that a measure plays its chord instrument's pattern
    pattern_switch_prob: float  # A1–A4: chance of a new bass pattern at a measure boundary
    bass_program: int  # GM program, 0-based (33 = Electric Bass (finger), GM #34)
    gate: float  # sounding fraction of each note's notated length
    velocity: dict[str, int]  # MIDI velocities: chords, bass, drums
    valid_fraction: float  # share of songs in the validation split (paper: 0.1)
    workers: int  # render processes; 0 = one per CPU core
    seeds: dict[str, int]  # dataset name -> seed
    # the held-out test split (`bassnet render --split test`): songs per dataset and their own
    # seeds, never used for training, validation, early stopping or model selection
    test_songs: int = 20
    test_seeds: dict[str, int] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        checks = {
            "songs must be a positive integer": isinstance(self.songs, int) and self.songs > 0,
            f"seconds must be a finite number in (0, {MAX_SONG_SECONDS:g}]": finite(self.seconds)
            and 0 < self.seconds <= MAX_SONG_SECONDS,
            "sample_rate must be 8000..192000 Hz": 8000 <= self.sample_rate <= 192000,
            "tempo_bpm must be finite, 0 < low <= high": finite(*self.tempo_bpm)
            and 0 < self.tempo_bpm[0] <= self.tempo_bpm[1],
            "root_range must be MIDI 12..115, low <= high": 12
            <= self.root_range[0]
            <= self.root_range[1]
            <= 115,
            "chord_measures must be positive": all(m > 0 for m in self.chord_measures),
            "proportion_range must lie in [0, 1]": 0
            <= self.proportion_range[0]
            <= self.proportion_range[1]
            <= 1,
            "instrument_switch_prob must lie in [0, 1]": 0 <= self.instrument_switch_prob <= 1,
            "instrument_rule_prob must lie in [0, 1]": 0 <= self.instrument_rule_prob <= 1,
            "pattern_switch_prob must lie in [0, 1]": 0 <= self.pattern_switch_prob <= 1,
            "bass_program must be 0..127": 0 <= self.bass_program <= 127,
            "gate must lie in (0, 1]": 0 < self.gate <= 1,
            "velocity needs chords, bass, drums in 1..127": set(self.velocity)
            == {"chords", "bass", "drums"}
            and all(1 <= v <= 127 for v in self.velocity.values()),
            "valid_fraction must lie in [0, 1)": 0 <= self.valid_fraction < 1,
            "workers must be >= 0": self.workers >= 0,
            "test_songs must be a positive integer": isinstance(self.test_songs, int)
            and self.test_songs > 0,
            f"seeds must be integers in 0..{MAX_SEED}": all(map(is_seed, self.seeds.values())),
            f"test_seeds must be integers in 0..{MAX_SEED}": all(
                map(is_seed, self.test_seeds.values())
            ),
        }
        raise_failed(checks, "render")

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> RenderConfig:
        """Read the `render` section of loaded params."""
        return build_config(cls, params.get("render"), located(params, "render"))


CREPE_MODELS = ("tiny", "small", "medium", "large", "full")


@dataclass(frozen=True)
class FeatureConfig:
    """Settings of the feature job (`features` section; paper §4.1–4.2)."""

    crepe_model: str  # torchcrepe capacity: tiny … full (the paper's CREPE is "full")
    f0_fmin_hz: float  # bass f0 search range (CREPE needs >= 32 Hz)
    f0_fmax_hz: float
    mix_f0_fmax_hz: float  # predominant-f0 range of the mix (from f0_fmin_hz)
    mix_f0_splits: tuple[str, ...]  # splits whose mix f0 is computed (Fig. 8 needs "valid")
    silence_db: float  # frames quieter than this (dBFS RMS) get f0 0 Hz without running CREPE
    f0_stride: int  # 1: CREPE on every frame; 2: every other, refined where notes change
    level_n_fft: int  # STFT size of the level descriptor
    onset_threshold: float  # peak-picking threshold when scoring onsets against the truth
    tracks_per_shard: int  # rows per Parquet shard
    torch_threads: int  # per worker process
    workers: int  # DirectRunner processes; 0 = one per CPU core
    device: str  # "cpu", "cuda" or "auto" (cuda when available)

    def __post_init__(self) -> None:
        checks = {
            f"crepe_model must be one of {CREPE_MODELS}": self.crepe_model in CREPE_MODELS,
            "f0 range must satisfy 32 <= f0_fmin_hz < f0_fmax_hz <= 2006": 32
            <= self.f0_fmin_hz
            < self.f0_fmax_hz
            <= 2006,
            "mix_f0_fmax_hz must lie in (f0_fmin_hz, 2006]": self.f0_fmin_hz
            < self.mix_f0_fmax_hz
            <= 2006,
            "level_n_fft must be a power of two >= 256": self.level_n_fft >= 256
            and self.level_n_fft & (self.level_n_fft - 1) == 0,
            "onset_threshold must lie in (0, 1)": 0 < self.onset_threshold < 1,
            "tracks_per_shard must be >= 1": self.tracks_per_shard >= 1,
            "torch_threads must be >= 1": self.torch_threads >= 1,
            "f0_stride must be 1 or 2": self.f0_stride in (1, 2),
            "workers must be >= 0": self.workers >= 0,
            "device must be cpu, cuda or auto": self.device in DEVICES,
        }
        raise_failed(checks, "features")

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> FeatureConfig:
        """Read the `features` section of loaded params."""
        return build_config(cls, params.get("features"), located(params, "features"))

    def torch_device(self) -> str:
        """The device to run networks on."""
        return resolve_device(self.device)


@dataclass(frozen=True)
class StemsConfig:
    """Settings of stem collections (`stems` section): `bassnet manifest` and the feature job;
    the defaults apply outside a checkout."""

    # seconds: the stems of one song may end this far apart (a release tail, stems exported
    # one by one); the shorter ones are padded with silence at the end to the longest, and a
    # song whose stems lie further apart is skipped
    length_tolerance_s: float = 2.0

    def __post_init__(self) -> None:
        checks = {
            "length_tolerance_s must be a finite number >= 0": finite(self.length_tolerance_s)
            and self.length_tolerance_s >= 0,
        }
        raise_failed(checks, "stems")

    @classmethod
    def from_params(cls, params: dict[str, Any] | None) -> StemsConfig:
        """Read the `stems` section of loaded params (defaults where absent)."""
        return build_config(cls, (params or {}).get("stems"), located(params, "stems"))


@dataclass(frozen=True)
class EvaluateConfig:
    """Settings of `bassnet evaluate` (`evaluate` section; paper §6)."""

    windows: int = 1000  # validation windows per model (Table 1; the paper's QDA protocol)
    folds: int = 5  # stratified k-fold cross-validation on those windows
    train_windows: int = 1000  # song-disjoint QDA: fitted on µ of this many training windows,
    test_windows: int = 1000  # scored on this many windows of the test split
    # windows per call of a model's folded encoders wherever µ of many windows is read (the
    # song-disjoint QDA, the control's centroids, the prior's data): small calls keep a
    # window's activations in cache
    batch_windows: int = 4
    seed: int = 0
    # where the models run: "cpu" (absent from the shared settings: a CPU's scores do not
    # depend on whether the machine has a GPU), "cuda" or "auto"
    device: str = "cpu"

    def __post_init__(self) -> None:
        checks = {
            "device must be cpu, cuda or auto": self.device in DEVICES,
            "windows must be >= 1": self.windows >= 1,
            "folds must be >= 2": self.folds >= 2,
            "train_windows must be >= 1": self.train_windows >= 1,
            "test_windows must be >= 1": self.test_windows >= 1,
            "batch_windows must be >= 1": self.batch_windows >= 1,
        }
        raise_failed(checks, "evaluate")

    @classmethod
    def from_params(cls, params: dict[str, Any] | None) -> EvaluateConfig:
        """Read the `evaluate` section of loaded params (defaults where absent)."""
        return build_config(cls, (params or {}).get("evaluate"), located(params, "evaluate"))


@dataclass(frozen=True)
class ControlConfig:
    """Settings of `bassnet control`, the test that z steers the bass
    (`bassnet.evaluation.control_test`)."""

    # windows of the training songs whose µ gives each pattern's centroid
    centroid_windows: int = 1000
    # the models of a dataset the control test scores, by folder under models/<dataset>/ (those
    # trained); the best on the validation songs is the one `ship` ships
    candidates: tuple[str, ...] = ("40-40", "control")
    # dataset → the model trained for the control (`bassnet train --control`, models/<dataset>/
    # control): its window and its settings over the `train` and `model` sections
    models: dict[str, dict] = field(default_factory=dict)
    # where the models run: "cpu" (absent from the shared settings: a CPU's scores do not
    # depend on whether the machine has a GPU), "cuda" or "auto"
    device: str = "cpu"

    def __post_init__(self) -> None:
        checks = {
            "device must be cpu, cuda or auto": self.device in DEVICES,
            "centroid_windows must be >= 10": isinstance(self.centroid_windows, int)
            and self.centroid_windows >= 10,
            "candidates must be a non-empty list of model folder names": bool(self.candidates)
            and all(isinstance(c, str) and c and "/" not in c for c in self.candidates),
            "models must map datasets to settings with a window, e.g. {A4: {window: 80-80}}": (
                isinstance(self.models, dict)
                and all(isinstance(m, dict) and "window" in m for m in self.models.values())
            ),
        }
        raise_failed(checks, "control")

    @classmethod
    def from_params(cls, params: dict[str, Any] | None) -> ControlConfig:
        """Read the `control` section of loaded params (defaults where absent)."""
        return build_config(cls, (params or {}).get("control"), located(params, "control"))


@dataclass(frozen=True)
class PriorConfig:
    """Settings of the input-conditional prior p(z | x) (`prior` section; paper §7's outlook):
    a mixture of the training songs' µ whose weights a small network reads from the mix
    (`bassnet.model.prior`), trained by `bassnet prior` after the VGAE."""

    components: int = 8  # Gaussians of the training-set density of µ (a GMM)
    hidden: int = 64  # units of the network's one hidden layer
    inputs: int = 32  # principal components of the mix features the network reads
    context_frames: int = 100  # mix frames (10 ms) the network hears, centred on the window
    train_windows: int = 2000  # training-song windows: (mix, µ) pairs it is fitted on
    valid_windows: int = 500  # validation-song windows, whose NLL is reported (0: none)
    test_windows: int = 1000  # test-song windows it is scored on
    steps: int = 300  # full-batch Adam steps at most
    learning_rate: float = 3.0e-3
    weight_decay: float = 1.0e-3
    seed: int = 0

    def __post_init__(self) -> None:
        checks = {
            "components must be >= 1": self.components >= 1,
            "hidden must be >= 1": self.hidden >= 1,
            "inputs must be 1 .. 528": 1 <= self.inputs <= 528,
            "context_frames must be >= 2": self.context_frames >= 2,
            "train_windows must be >= 10": self.train_windows >= 10,
            "valid_windows must be >= 0": self.valid_windows >= 0,
            "test_windows must be >= 1": self.test_windows >= 1,
            "steps must be >= 1": self.steps >= 1,
            "learning_rate must be > 0": finite(self.learning_rate) and self.learning_rate > 0,
            "weight_decay must be >= 0": finite(self.weight_decay) and self.weight_decay >= 0,
            "seed must be a whole number in 0 .. 2**63 - 1": is_seed(self.seed),
        }
        raise_failed(checks, "prior")

    @classmethod
    def from_params(cls, params: dict[str, Any] | None) -> PriorConfig:
        """Read the `prior` section of loaded params (defaults where absent)."""
        return build_config(cls, (params or {}).get("prior"), located(params, "prior"))
