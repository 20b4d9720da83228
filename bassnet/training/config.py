"""Typed view of the `train` section of `params.yaml` (see `bassnet.config` for profiles)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bassnet.config import (
    DEVICES,
    SOURCE_KEY,
    _shown,
    build_config,
    deep_merge,
    located,
    raise_failed,
    resolve_device,
)
from bassnet.errors import ConfigError

RECONSTRUCTION_TERMS = ("mse", "f0", "level", "onset")  # the terms `loss_weights` may weigh
RECONSTRUCTIONS = ("mean", "sum")  # values of `reconstruction` (training.losses reads them)
PRECISIONS = ("float32", "bfloat16")  # values of `precision`


@dataclass(frozen=True)
class TrainConfig:
    """Settings of the training stage (`train` section; paper §5.3 values in comments)."""

    windows: tuple[str, ...]  # window sizes trained with Eq. (9) (the DVC matrix)
    ablation_windows: tuple[str, ...]  # window sizes also trained with Eq. (10) (paper: 40/40)
    learning_rate: float  # Adam (paper: 1e-4)
    batch_size: int  # paper: 20
    mini_epoch: int  # training instances between validations (paper: 1000)
    patience: int  # mini-epochs without a better validation loss before stopping (paper: 1000)
    max_mini_epochs: int | None  # cap for CPU profiles (None: until early stopping)
    max_minutes: float | None  # wall-clock cap (None: none); makes runs machine-dependent
    neighbourhood_s: float  # neighbour pairs within ± this many seconds (paper: 5)
    free_bits: float  # nats of KL(N(x,y) ‖ N(0, I)) that cost nothing (paper: 0; see losses)
    valid_windows: int  # fixed validation windows, spread evenly over the validation songs
    max_shards_in_memory: int  # shards held at once by the training sampler
    seed: int
    device: str  # "cpu", "cuda" or "auto"
    threads: int  # torch CPU threads; 0 = one per core
    # stem collections: each stem's mixing coefficient is drawn from [low, high] per instance
    # (paper §5.3: 0.5–1.0); None turns re-mixing off. Datasets without stems are unaffected.
    remix: tuple[float, float] | None = (0.5, 1.0)
    collection_window: str = "40-40"  # the window of models trained on stem collections
    # weight of each reconstruction term (mse, f0, level, onset) in the objective; absent: 1,
    # as in Eq. (9). Logged and reported terms stay unweighted.
    loss_weights: dict[str, float] = field(default_factory=dict)
    # semitones: each training window and its neighbour are transposed by independent random
    # whole semitones in [-transpose, transpose] (`training.data.WindowSampler.batch`); 0: off,
    # as in the paper
    transpose: int = 0
    # dB and dB per octave: each training window's mix and its neighbour's get their own random
    # gain in [-mix_gain_db, mix_gain_db] and spectral tilt in [-mix_tilt_db, mix_tilt_db]
    # (`bassnet.training.data.recolour_log_cqt`); 0: off, as in the paper
    mix_gain_db: float = 0.0
    mix_tilt_db: float = 0.0
    # scale of σ in the z decoded in training (`training.losses`): 1 samples N(µ, σ²) as Eq. (9)
    # does; 0 decodes µ itself
    posterior_noise: float = 1.0
    # how the objective adds the reconstruction terms to the per-window KL terms
    # (`training.losses`): "mean", the paper's, per frame; "sum", over the window's C·a frames.
    # The default is what a params file that does not name it trains; params.yaml's shared
    # section sets the paper's
    reconstruction: str = "sum"
    # the training step's forward pass and loss: "float32" (the paper's), or "bfloat16" under
    # torch.autocast (convolutions in bf16; weights, Adam and validation stay float32): on a
    # CPU with AVX512-BF16 a step ran 1.6-1.9x as fast (experiments/bf16_training.py)
    precision: str = "float32"
    # validation windows per model call: the validation loss does not depend on it (eval mode,
    # up to float rounding); on a CPU small calls stay in cache: A4's 16-map 80/80 control
    # model validated 200 windows in 17 s at 16 a call against 50 s at 64 (one thread)
    valid_batch: int = 16

    def __post_init__(self) -> None:
        from bassnet.model.multires import WindowSpec

        def parses(text: str) -> bool:
            try:
                WindowSpec.parse(text)
                return True
            except ValueError:
                return False

        checks = {
            "windows must be specs like '40/40' or '10-640'": all(
                parses(w) for w in (*self.windows, *self.ablation_windows, self.collection_window)
            ),
            "learning_rate must be positive": self.learning_rate > 0,
            "batch_size must be >= 1": self.batch_size >= 1,
            "mini_epoch must be >= batch_size": self.mini_epoch >= self.batch_size,
            "patience must be >= 1": self.patience >= 1,
            "max_mini_epochs must be >= 1 or null": self.max_mini_epochs is None
            or self.max_mini_epochs >= 1,
            "max_minutes must be positive or null": self.max_minutes is None
            or self.max_minutes > 0,
            "neighbourhood_s must be >= 0": self.neighbourhood_s >= 0,
            "free_bits must be >= 0": self.free_bits >= 0,
            "transpose must be a whole number of semitones from 0 to 12": isinstance(
                self.transpose, int
            )
            and 0 <= self.transpose <= 12,
            "mix_gain_db must be from 0 to 40": 0 <= self.mix_gain_db <= 40,
            "mix_tilt_db must be from 0 to 12": 0 <= self.mix_tilt_db <= 12,
            "posterior_noise must be from 0 to 1": isinstance(self.posterior_noise, int | float)
            and 0 <= self.posterior_noise <= 1,
            f"reconstruction must be one of {RECONSTRUCTIONS}": self.reconstruction
            in RECONSTRUCTIONS,
            f"precision must be one of {PRECISIONS}": self.precision in PRECISIONS,
            "valid_windows must be >= 1": self.valid_windows >= 1,
            "valid_batch must be >= 1": isinstance(self.valid_batch, int) and self.valid_batch >= 1,
            "max_shards_in_memory must be >= 1": self.max_shards_in_memory >= 1,
            "device must be cpu, cuda or auto": self.device in DEVICES,
            "threads must be >= 0": self.threads >= 0,
            "remix must be [low, high] with 0 < low <= high, or null": self.remix is None
            or (len(self.remix) == 2 and 0 < self.remix[0] <= self.remix[1]),
            f"loss_weights must map some of {RECONSTRUCTION_TERMS} to numbers >= 0": isinstance(
                self.loss_weights, dict
            )
            and set(self.loss_weights) <= set(RECONSTRUCTION_TERMS)
            and all(isinstance(w, int | float) and w >= 0 for w in self.loss_weights.values()),
        }
        raise_failed(checks, "train")

    @classmethod
    def from_params(
        cls, params: dict[str, Any], model: str | None = None, overrides: dict | None = None
    ) -> TrainConfig:
        """Read the `train` section of loaded params. For one model (its folder under models/,
        e.g. "A1/40-40"), its entry in `train.models` is merged over the section, then
        `overrides` (the command line's) over both."""
        section = _section(params, "train")
        models = _check_models(section.pop("models", None), params)
        build_config(cls, section, located(params, "train"))  # shared settings: their errors
        for key, entry in models.items():  # a bad entry fails every stage
            try:
                build_config(cls, deep_merge(section, _train_part(entry)), "train")
                model_config({**params, SOURCE_KEY: None}, _key_window(key), key)
            except ConfigError as err:
                raise ConfigError(f"{located(params, 'train.models')}[{key}]: {err}") from err
        entry = _train_part(models.get(model_key(model), {})) if model else {}
        merged = deep_merge(deep_merge(section, entry), overrides or {})
        return build_config(cls, merged, located(params, "train"))

    def torch_device(self) -> str:
        """The device to train on."""
        return resolve_device(self.device)


def model_config(params: dict[str, Any], window: str, model: str | None = None):
    """The `model` section of loaded params as a ModelConfig for one window size; for one
    model (its folder under models/), with the `model` settings of its `train.models` entry
    merged over the section."""
    from bassnet.model import ModelConfig

    section = _section(params, "model")
    if model:
        models = _check_models(_section(params, "train").get("models"), params)
        section = deep_merge(section, models.get(model_key(model), {}).get("model", {}))
    section["window"] = str(window)
    return ModelConfig.from_dict(section, located(params, "model"))


def control_model(params: dict[str, Any], dataset: str) -> tuple[dict[str, Any], str, str]:
    """`dataset`'s control model (`control.models`, the one `bassnet control` scores): loaded
    params whose `train.models` holds its entry under the key "<dataset>/<window>-control", that
    key, and its window. Raises ConfigError where the dataset has none or the entry is bad."""
    from bassnet.config import ControlConfig

    models = ControlConfig.from_params(params).models
    if dataset not in models:
        raise ConfigError(f"{located(params, 'control.models')} has no model for {dataset!r} "
                          f"(it has: {', '.join(models) or 'none'})")  # fmt: skip
    entry = dict(models[dataset])
    window = str(entry.pop("window", "")).replace("/", "-")
    key = f"{dataset}/{window}-control"
    train = _section(params, "train")
    train["models"] = {**_check_models(train.get("models"), params), key: entry}
    inner = {**params, "train": train, SOURCE_KEY: None}  # its errors: named once, below
    try:
        model_config(inner, window, key)
        TrainConfig.from_params(inner, model=key)
    except ConfigError as err:
        raise ConfigError(f"{located(params, f'control.models[{dataset}]')}: {err}") from err
    return {**params, "train": train}, key, window


def _key_window(key: str) -> str:
    """The window of a `train.models` key: "A1/40-40-ablation" → "40-40"."""
    return key.split("/")[1].removesuffix("-ablation").removesuffix("-control")


def _train_part(entry: dict) -> dict:
    """A `train.models` entry without its `model` settings: what it changes in `train`."""
    return {k: v for k, v in entry.items() if k != "model"}


def model_key(model: str) -> str:
    """A model's key in `train.models`: "A1/40/40" and "A1/40-40" both read as "A1/40-40"."""
    dataset, _, window = model.partition("/")
    return f"{dataset}/{window.replace('/', '-')}"


def _section(params: dict[str, Any], name: str) -> dict[str, Any]:
    """A copy of section `name` of loaded params ({} where absent or null)."""
    section = params.get(name) or {}
    if not isinstance(section, dict):
        raise ConfigError(f"{located(params, name)}: expected a mapping, got {_shown(section)}")
    return dict(section)


def _check_models(models: Any, params: dict[str, Any] | None = None) -> dict[str, dict]:
    """`train.models` as a dict of model folder → settings, or a ConfigError saying why not
    (and in which file, that of `params`)."""
    where = located(params, "train.models")
    if not models:
        return {}
    if not isinstance(models, dict) or not all(isinstance(v, dict) for v in models.values()):
        raise ConfigError(f"{where} must map model folders like 'A1/40-40' to settings, got "
                          f"{_shown(models)}")  # fmt: skip
    for key, entry in models.items():
        parts = str(key).split("/")
        if len(parts) != 2 or not all(parts):
            raise ConfigError(f"{where}: {key!r} is not a model folder like 'A1/40-40'")
        if "models" in entry:
            raise ConfigError(f"{where}[{key}]: an entry cannot hold `models`")
        if not isinstance(entry.get("model", {}), dict):
            raise ConfigError(f"{where}[{key}]: `model` must map model settings to values")
    return models
