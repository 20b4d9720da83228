"""Typed view of the `serve` section of `params.yaml`; its defaults apply where a params file
has no such section."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bassnet.config import build_config, located, raise_failed


@dataclass(frozen=True)
class ServeConfig:
    """Limits and caches of `bassnet serve`."""

    host: str = "127.0.0.1"  # localhost only unless `--host` says otherwise
    port: int = 8000
    max_upload_mb: float = 200.0  # larger uploads are refused before they are read
    max_song_minutes: float = 10.0  # longer songs are refused (the pad keeps a song in memory)
    cached_songs: int = 4  # songs whose CQT (and mix factors per model) stay in memory
    factor_cache_mb: float = 512.0  # mix factors of one song and model kept up to this size
    results: int = 16  # generated basses kept for playback and export
    busy_timeout_s: float = 30.0  # a request waiting longer than this for the model gets "busy"

    def __post_init__(self) -> None:
        checks = {
            "port must be 1..65535": 0 < self.port < 65536,
            "max_upload_mb must be positive": self.max_upload_mb > 0,
            "max_song_minutes must be positive": self.max_song_minutes > 0,
            "cached_songs must be >= 1": self.cached_songs >= 1,
            "factor_cache_mb must be >= 0": self.factor_cache_mb >= 0,
            "results must be >= 1": self.results >= 1,
            "busy_timeout_s must be positive": self.busy_timeout_s > 0,
        }
        raise_failed(checks, "serve")

    @classmethod
    def from_params(cls, params: dict[str, Any] | None) -> ServeConfig:
        """Read the `serve` section of loaded params (defaults where absent)."""
        return build_config(cls, (params or {}).get("serve"), located(params, "serve"))
