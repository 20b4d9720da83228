"""The model's hyper-parameters as one typed value, stored in every checkpoint."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from bassnet.config import check_types
from bassnet.errors import ConfigError
from bassnet.features.cqt import N_BINS
from bassnet.model.multires import WindowSpec


@dataclass(frozen=True)
class ModelConfig:
    """Sizes of the VGAE (paper §4.4, §5.3: 5 blocks × 128 maps, kernel 3, z in 2-D)."""

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
        }
        failed = [msg for msg, ok in checks.items() if not ok]
        if failed:
            raise ConfigError("model: " + "; ".join(failed))

    @property
    def spec(self) -> WindowSpec:
        """The parsed multi-resolution window."""
        return WindowSpec.parse(self.window)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

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
