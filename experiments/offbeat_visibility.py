"""Can a model hear A4's off-beats? (experiments/README.md, *Does the control work?*)

A4's pattern 4 plays eighth notes; patterns 1–3 play quarters, pattern 5 one note a measure.
The only drum on the off-beat eighths is the closed hi-hat, whose energy lies mostly above the
CQT's top bin (4.4 kHz); below it, the chords often cover it. Where the mix does not show the
off-beats, a model can only place the eighths by the pulse of the bass and snare drums, and a
40-frame window (0.4 s) holds less than one beat at 100–150 BPM.

For the songs the control test used before it moved to the test split (indices counting down
from `CONTROL_SONG_INDEX`, the dataset's seed; the first `--songs` of them) this measures the
off-beat contrast in the drums alone and in the mix: the mean log |CQT| of the top octave
(2.2–4.4 kHz) over the 3 frames from each off-beat eighth, minus the same a sixteenth later,
where no drum starts. With `--control FILE` (a control result over the same songs, as in
experiments/results/) each song's pattern-4 (eighths) score stands beside it. Visibility turned
out not to be what the eighths lack: with every eighth marked in the mix, a model still did not
play them (experiments/README.md, A4).

    python experiments/offbeat_visibility.py --control experiments/results/control_A4_16maps.json

Writes experiments/results/offbeat_visibility.json; ≈10 s a song on 2 cores.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from bassnet.atomic import write_text
from bassnet.config import RenderConfig, load_params
from bassnet.constants import FRAME_RATE
from bassnet.evaluation.control_rules import CONTROL_SONG_INDEX
from bassnet.features.audio import resample, to_mono
from bassnet.features.cqt import BINS_PER_OCTAVE, N_BINS, GroupedCQT
from bassnet.synth.dataset import render_song
from bassnet.synth.fluidsynth_render import FluidRenderer

RESULTS = Path(__file__).parent / "results"
TOP_OCTAVE = slice(N_BINS - BINS_PER_OCTAVE, N_BINS)  # 2.2–4.4 kHz
EIGHTHS_PATTERN = "4"


def offbeat_contrast(log_cqt: np.ndarray, beat_s: float, bins: slice = TOP_OCTAVE,
                     frames: int = 3) -> float:  # fmt: skip
    """Mean log |CQT| (natural log) over `bins` in the `frames` frames from each off-beat eighth
    of a song whose beat 1 is at 0 s, minus the same a sixteenth later; log_cqt (frames, 264)."""
    n_beats = int(len(log_cqt) / FRAME_RATE / beat_s) - 1

    def level(offset_beats: float) -> float:
        starts = np.rint((np.arange(n_beats) + offset_beats) * beat_s * FRAME_RATE).astype(int)
        return float(np.mean([log_cqt[s : s + frames, bins].mean() for s in starts]))

    return level(0.5) - level(0.75)


def measure(songs: int, params: dict, control: dict | None = None) -> list[dict]:
    """Per control test song: {"index", "tempo_bpm", "drums", "mix"} off-beat contrasts, and
    "eighths_score" from a `bassnet control` result where given."""
    cfg = RenderConfig.from_params(params)
    per_song = {s["index"]: s for s in (control or {}).get("songs", [])}
    renderer = FluidRenderer(cfg.soundfont, cfg.sample_rate, cfg.gain, cfg.effects)
    cqt, rows = GroupedCQT(), []
    try:
        for k in range(songs):
            index = CONTROL_SONG_INDEX - k
            plan, _, audio = render_song("A4", index, cfg.seeds["A4"], cfg, renderer,
                                         (("drums",), ("chords", "drums")))  # fmt: skip
            beat_s = plan.tempo_us / 1e6
            drums, mix = (cqt(resample(to_mono(a), cfg.sample_rate)) for a in audio)
            row = {"index": index, "tempo_bpm": round(60 / beat_s, 1),
                   "drums": round(offbeat_contrast(drums, beat_s), 3),
                   "mix": round(offbeat_contrast(mix, beat_s), 3)}  # fmt: skip
            if index in per_song:
                row["eighths_score"] = per_song[index]["scores"][EIGHTHS_PATTERN]
            print(", ".join(f"{key} {value}" for key, value in row.items()), flush=True)
            rows.append(row)
    finally:
        renderer.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--songs", type=int, default=5, help="control test songs (default 5)")
    parser.add_argument("--control", help="a `bassnet control --metrics` JSON of an A4 model")
    parser.add_argument("--out", default=str(RESULTS / "offbeat_visibility.json"))
    args = parser.parse_args()
    control = json.loads(Path(args.control).read_text()) if args.control else None
    rows = measure(args.songs, load_params(), control)
    for what in ("drums", "mix"):
        values = [r[what] for r in rows]
        print(f"off-beat contrast, {what}: {min(values):.2f} to {max(values):.2f} (log |CQT|)")
    write_text(args.out, json.dumps({"control": args.control, "songs": rows}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
