"""The model's hyper-parameters as one typed value, stored in every checkpoint."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from bassnet.config import check_types
from bassnet.errors import ConfigError
from bassnet.features.cqt import N_BINS
from bassnet.model.multires import WindowSpec

LATENT_INPUTS = ("full", "pooled")  # values of ModelConfig.latent_input


@dataclass(frozen=True)
class ModelConfig:
    """Sizes of the VGAE (paper §4.4, §5.3: 5 blocks × 128 maps, kernel 3, z in 2-D) and its
    two switches off the paper (`bassnet.switches`). The switches default to what a model file
    that names neither holds (see `to_dict`); params.yaml's shared section sets the paper's."""

    window: str  # multi-resolution window "a/b" (paper §4.3), e.g. "40/40", "10/640"
    maps: int = 128  # feature maps per residual block (paper: 128)
    blocks: int = 5  # residual blocks per encoder/decoder (paper: 5)
    kernel: int = 3  # convolution kernel, both axes
    latent_dim: int = 2  # z (paper: 2, so a user can steer it on a pad)
    n_bins: int = N_BINS  # CQT bins (frequency axis)
    head_maps: int = 16  # hidden maps of the f0 head
    level_floor_db: float = -100.0  # level target l = (dB − floor) / −floor, clipped to [0, 1]
    # Fixed standardisation of log |CQT| inside the network, (v − mean) / std; measured on A1
    # (mix −7.1 ± 1.2, bass −8.2 ± 1.0), so inputs and ŷ's output layer start near unit scale.
    cqt_mean: float = -7.5
    cqt_std: float = 1.2
    # What f_µ and f_σ read (`bassnet.model.vgae`): "full", the paper's, a linear map of the
    # whole mapping (n·a·F values, so z can say where in time and pitch); "pooled", the
    # mapping averaged over time and frequency (n values: how bass and mix relate, not where)
    latent_input: str = "pooled"
    # f0 as a categorical over the F bins plus a last class "unvoiced" (True), or over the F
    # bins alone as in the paper (False: unvoiced frames have no f0 target; generation reads
    # voicing from the level)
    unvoiced_class: bool = True

    def __post_init__(self) -> None:
        try:
            WindowSpec.parse(self.window)
        except ValueError as err:
            raise ConfigError(f"model.window: {err}") from err
        checks = {
            "maps must be >= 1": self.maps >= 1,
            "blocks must be >= 1": self.blocks >= 1,
            "kernel must be odd and >= 3": self.kernel >= 3 and self.kernel % 2 == 1,
            "latent_dim must be >= 1": self.latent_dim >= 1,
            "level_floor_db must be negative": self.level_floor_db < 0,
            "cqt_std must be positive": self.cqt_std > 0,
            f"latent_input must be one of {LATENT_INPUTS}": self.latent_input in LATENT_INPUTS,
            "unvoiced_class must be true or false": isinstance(self.unvoiced_class, bool),
        }
        failed = [msg for msg, ok in checks.items() if not ok]
        if failed:
            raise ConfigError("model: " + "; ".join(failed))

    @property
    def spec(self) -> WindowSpec:
        """The parsed multi-resolution window."""
        return WindowSpec.parse(self.window)

    @property
    def f0_classes(self) -> int:
        """Classes of the f0 head: the CQT bins, plus one where there is an unvoiced class."""
        return self.n_bins + int(self.unvoiced_class)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict, less the switches of OMITTED_AT_DEFAULT that hold their
        defaults: a model file at the defaults is then also one that a bassnet without those
        switches loads, and its bytes do not depend on them."""
        values = dataclasses.asdict(self)
        for name in OMITTED_AT_DEFAULT:
            if values[name] == _DEFAULTS[name]:
                del values[name]
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any], where: str = "model") -> ModelConfig:
        """Build from a params section or a checkpoint, naming unknown keys and values of the
        wrong type (`where`: the section's name in messages, e.g. "params.yaml: model")."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - names
        if unknown:
            raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")
        check_types(cls, values, where)
        return cls(**values)


# Switches that `ModelConfig.to_dict` writes only where they are off their defaults.
OMITTED_AT_DEFAULT = ("latent_input", "unvoiced_class")
_DEFAULTS = {f.name: f.default for f in dataclasses.fields(ModelConfig)}
