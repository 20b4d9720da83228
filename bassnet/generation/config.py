"""Typed views of the `generate` and `control` sections of `params.yaml`; their defaults apply
outside a checkout."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bassnet.config import _build, _raise_failed


@dataclass(frozen=True)
class GenerateConfig:
    """Settings of `bassnet generate` (paper §4.2, §7)."""

    segment_s: float = 60.0  # the mix is processed in segments of this length: bounded memory
    batch_windows: int = 16  # windows per model call (16 ran faster on 2 cores than 64 or 256)
    onset_threshold: float = 0.5  # peak picking on the generated onset strength
    min_note_frames: int = 5  # shortest note; a pitch change without onset holds this long (10 ms)
    silence_db: float = -60.0  # mix frames quieter than this get no bass
    bass_program: int = 33  # GM program of the MIDI bass, 0-based (Electric Bass (finger))
    soundfont: str = "/usr/share/sounds/sf2/FluidR3_GM.sf2"  # for --render soundfont
    max_hours: float = 4.0  # longer inputs are refused (memory is bounded; time is not)

    def __post_init__(self) -> None:
        checks = {
            "segment_s must be >= 10": self.segment_s >= 10,
            "batch_windows must be >= 1": self.batch_windows >= 1,
            "onset_threshold must be in (0, 1)": 0 < self.onset_threshold < 1,
            "min_note_frames must be >= 1": self.min_note_frames >= 1,
            "silence_db must be negative": self.silence_db < 0,
            "bass_program must be 0..127": 0 <= self.bass_program <= 127,
            "max_hours must be positive": self.max_hours > 0,
        }
        _raise_failed(checks, "generate")

    @classmethod
    def from_params(cls, params: dict[str, Any] | None) -> GenerateConfig:
        """Read the `generate` section of loaded params (defaults where absent)."""
        return _build(cls, (params or {}).get("generate", {}) or {}, "generate")


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
            "device must be cpu, cuda or auto": self.device in ("cpu", "cuda", "auto"),
            "centroid_windows must be >= 10": isinstance(self.centroid_windows, int)
            and self.centroid_windows >= 10,
            "candidates must be a non-empty list of model folder names": bool(self.candidates)
            and all(isinstance(c, str) and c and "/" not in c for c in self.candidates),
            "models must map datasets to settings with a window, e.g. {A4: {window: 80-80}}": (
                isinstance(self.models, dict)
                and all(isinstance(m, dict) and "window" in m for m in self.models.values())
            ),
        }
        _raise_failed(checks, "control")

    @classmethod
    def from_params(cls, params: dict[str, Any] | None) -> ControlConfig:
        """Read the `control` section of loaded params (defaults where absent)."""
        return _build(cls, (params or {}).get("control", {}) or {}, "control")
