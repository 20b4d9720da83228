"""Typed view of the `generate` section of `params.yaml`; its defaults apply where a params
file has no such section."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bassnet.config import build_config, finite, located, raise_failed
from bassnet.generation.beat import TEMPO_RANGE_BPM


@dataclass(frozen=True)
class GenerateConfig:
    """Settings of `bassnet generate` (paper §4.2, §7)."""

    segment_s: float = 60.0  # the mix is processed in segments of this length: bounded memory
    batch_windows: int = 16  # windows per model call (16 ran faster on 2 cores than 64 or 256)
    onset_threshold: float = 0.5  # peak picking on the generated onset strength
    min_note_frames: int = 5  # shortest note; a pitch change without onset holds this long (10 ms)
    # the onset strength a pitch change without a picked onset needs within min_note_frames to
    # start a note (0: any held change does; `bassnet.generation.notes`)
    legato_onset: float = 0.1
    # mix frames quieter than this get no bass; so do frames generated this quiet by a model
    # without the unvoiced class (`bassnet.generation.curves.curves_from_factors`)
    silence_db: float = -60.0
    bass_program: int = 33  # GM program of the MIDI bass, 0-based (Electric Bass (finger))
    soundfont: str = "/usr/share/sounds/sf2/FluidR3_GM.sf2"  # for --render soundfont
    max_hours: float = 4.0  # longer inputs are refused (memory is bounded; time is not)
    # (low, high) BPM: the MIDI's tempo is the song's within this range (`generation.beat`);
    # a range of one octave fixes the octave, as a DJ program's BPM range does
    tempo_range_bpm: tuple[float, float] = TEMPO_RANGE_BPM
    # `--z auto` / `--z sample` and the pad's density: the prior p(z|x) every prior_hop_s
    # seconds; the path through it is smoothed over prior_smooth_s seconds
    prior_hop_s: float = 0.25
    prior_smooth_s: float = 2.0

    def __post_init__(self) -> None:
        tempo = self.tempo_range_bpm
        # the MIDI's tempo limits (`midi_out.TempoMap`)
        tempo_ok = isinstance(tempo, tuple) and len(tempo) == 2 and finite(*tempo)
        tempo_ok = tempo_ok and 20 <= tempo[0] < tempo[1] <= 400
        checks = {
            "segment_s must be >= 10": self.segment_s >= 10,
            "batch_windows must be >= 1": self.batch_windows >= 1,
            "onset_threshold must be in (0, 1)": 0 < self.onset_threshold < 1,
            "min_note_frames must be >= 1": self.min_note_frames >= 1,
            "legato_onset must be in [0, 1)": finite(self.legato_onset)
            and 0 <= self.legato_onset < 1,
            "silence_db must be negative": self.silence_db < 0,
            "bass_program must be 0..127": 0 <= self.bass_program <= 127,
            "max_hours must be positive": self.max_hours > 0,
            "tempo_range_bpm must be [low, high] with 20 <= low < high <= 400": tempo_ok,
            "prior_hop_s must be in 0.01 .. 10": finite(self.prior_hop_s)
            and 0.01 <= self.prior_hop_s <= 10,
            "prior_smooth_s must be >= 0": finite(self.prior_smooth_s) and self.prior_smooth_s >= 0,
        }
        raise_failed(checks, "generate")

    @classmethod
    def from_params(cls, params: dict[str, Any] | None) -> GenerateConfig:
        """Read the `generate` section of loaded params (defaults where absent)."""
        return build_config(cls, (params or {}).get("generate"), located(params, "generate"))
