"""Render MIDI to audio in-process with FluidSynth (libfluidsynth through pyfluidsynth).

Determinism: a FluidSynth synthesizer keeps state between songs that a reset does not clear
(measured: the same song rendered after a different one differs for its first seconds), so
every render gets a fresh synthesizer (≈2 ms). The soundfont is still loaded once per renderer
(≈0.15 s for FluidR3_GM): a holder synthesizer owns it, and each fresh synthesizer borrows the
loaded soundfont object (`fluid_synth_add_sfont`) and gives it back before it is deleted.
Samples are taken as 32-bit floats, which also avoids the dither of FluidSynth's 16-bit output.
"""

from __future__ import annotations

import contextlib
import ctypes
from pathlib import Path

import mido
import numpy as np

from bassnet.errors import ConfigError

FLUID_WARN = 2  # FluidSynth's log level for warnings
_P, _I = ctypes.c_void_p, ctypes.c_int


def _bind(lib: ctypes.CDLL) -> ctypes.CDLL:
    """Declare the libfluidsynth functions used beyond pyfluidsynth's wrappers.

    pyfluidsynth wraps only the 16-bit (dithered) writer and no soundfont sharing.
    """
    signatures = {
        "fluid_synth_write_float": (_I, [_P, _I, _P, _I, _I, _P, _I, _I]),
        "fluid_synth_get_sfont_by_id": (_P, [_P, _I]),
        "fluid_synth_add_sfont": (_I, [_P, _P]),
        "fluid_synth_remove_sfont": (_I, [_P, _P]),
        "fluid_set_log_function": (_P, [_I, _P, _P]),
    }
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)
        function.restype, function.argtypes = restype, argtypes
    return lib


def midi_events(
    midi: mido.MidiFile, tracks: tuple[str, ...], sample_rate: int
) -> list[tuple[int, mido.Message]]:
    """Channel messages of the named tracks as (sample index, message), in playing order.

    Times follow the file's tempo map (set_tempo events in any track), converted exactly
    from ticks and rounded to the nearest sample.
    """
    tempo_changes: list[tuple[int, int]] = [(0, 500_000)]  # MIDI's default 120 BPM
    timed: list[tuple[int, int, mido.Message]] = []
    for order, track in enumerate(midi.tracks):
        tick = 0
        selected = track.name in tracks
        for msg in track:
            tick += msg.time
            if msg.type == "set_tempo":
                tempo_changes.append((tick, msg.tempo))
            elif selected and not msg.is_meta:
                timed.append((tick, order, msg))
    tempo_changes.sort(key=lambda change: change[0])

    # Seconds at each tempo change, then ticks -> samples piecewise.
    starts = [(0, 0.0, tempo_changes[0][1])]
    for tick, tempo in tempo_changes[1:]:
        t0, s0, tempo0 = starts[-1]
        starts.append((tick, s0 + (tick - t0) * tempo0 / (1e6 * midi.ticks_per_beat), tempo))

    def to_sample(tick: int) -> int:
        t0, s0, tempo = next(s for s in reversed(starts) if s[0] <= tick)
        seconds = s0 + (tick - t0) * tempo / (1e6 * midi.ticks_per_beat)
        return round(seconds * sample_rate)

    timed.sort(key=lambda e: (e[0], e[1]))
    return [(to_sample(tick), msg) for tick, _, msg in timed]


class FluidRenderer:
    """Renders MIDI files to arrays with one soundfont, loaded once for the renderer's life."""

    def __init__(
        self,
        soundfont: str | Path,
        sample_rate: int = 44100,
        gain: float = 0.2,
        effects: bool = True,
    ):
        import fluidsynth  # imported here: libfluidsynth is a system library

        path = Path(soundfont)
        if not path.is_file():
            raise ConfigError(
                f"soundfont not found: {path} (on Debian: apt-get install fluid-soundfont-gm)"
            )
        self.soundfont = str(path)
        self.sample_rate = sample_rate
        self.settings = {
            "gain": float(gain),
            "samplerate": float(sample_rate),
            "channels": 16,  # MIDI channels; pyfluidsynth's default of 256 slows creation
            "synth.reverb.active": int(effects),
            "synth.chorus.active": int(effects),
        }
        self._fluidsynth = fluidsynth
        self._lib = _bind(fluidsynth._fl)
        self._holder = fluidsynth.Synth(**self.settings)
        sfid = self._holder.sfload(self.soundfont)
        if sfid < 0:
            self._holder.delete()
            raise ConfigError(f"FluidSynth could not load the soundfont {self.soundfont}")
        self._sfont = self._lib.fluid_synth_get_sfont_by_id(self._holder.synth, sfid)

    @contextlib.contextmanager
    def _fresh_synth(self):
        """A new synthesizer that borrows the loaded soundfont for the duration of the block."""
        lib = self._lib
        synth = self._fluidsynth.Synth(**self.settings)
        lib.fluid_synth_add_sfont(synth.synth, self._sfont)
        try:
            yield synth
        finally:
            # Giving the soundfont back makes FluidSynth warn, once per channel, that the
            # channel lost its preset: expected here, so warnings are muted meanwhile.
            lib.fluid_set_log_function(FLUID_WARN, None, None)
            lib.fluid_synth_remove_sfont(synth.synth, self._sfont)
            default = ctypes.cast(lib.fluid_default_log_function, ctypes.c_void_p)
            lib.fluid_set_log_function(FLUID_WARN, default, None)
            synth.delete()

    def _write(self, synth, out: np.ndarray, start: int, stop: int) -> None:
        """Synthesize frames [start, stop) into the interleaved stereo float32 buffer `out`."""
        if stop > start:
            base = out.ctypes.data + start * out.strides[0]
            self._lib.fluid_synth_write_float(synth.synth, stop - start, base, 0, 2, base, 1, 2)

    @staticmethod
    def _send(synth, msg: mido.Message) -> None:
        if msg.type == "note_on" and msg.velocity > 0:
            synth.noteon(msg.channel, msg.note, msg.velocity)
        elif msg.type in ("note_on", "note_off"):
            synth.noteoff(msg.channel, msg.note)
        elif msg.type == "program_change":
            synth.program_change(msg.channel, msg.program)
        elif msg.type == "control_change":
            synth.cc(msg.channel, msg.control, msg.value)
        elif msg.type == "pitchwheel":
            synth.pitch_bend(msg.channel, msg.pitch)

    def render(self, midi: mido.MidiFile, tracks: tuple[str, ...], n_samples: int) -> np.ndarray:
        """Render the named tracks of `midi` to `(n_samples, 2)` float32 stereo.

        Sound still ringing at `n_samples` is cut off.
        """
        out = np.zeros((n_samples, 2), dtype=np.float32)
        with self._fresh_synth() as synth:
            now = 0
            for sample, msg in midi_events(midi, tracks, self.sample_rate):
                sample = min(sample, n_samples)
                self._write(synth, out, now, sample)
                now = max(now, sample)
                self._send(synth, msg)
            self._write(synth, out, now, n_samples)
        return out

    def close(self) -> None:
        """Free the synthesizer that holds the soundfont."""
        self._holder.delete()
