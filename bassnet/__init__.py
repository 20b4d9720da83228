"""BassNet: conditional bass generation with a variational gated autoencoder (Grachten 2020).

The Python API (the same functions `bassnet generate` runs)::

    >>> import bassnet
    >>> model = bassnet.load_model("A1")               # a shipped model, or a model.pt path
    >>> sorted(model.patterns)                         # its patterns by name
    ['fifth', 'root', 'third']
    >>> import numpy as np
    >>> t = np.arange(4 * 22050) / 22050               # 4 s of a chord at 22.05 kHz
    >>> mix = sum(0.2 * np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6))
    >>> bass = bassnet.generate(mix, model, z="fifth", sample_rate=22050, midi_tempo=120)
    >>> bass.audio.shape                               # the bass at the mix's rate and length
    (88200,)
    >>> bass.midi.ticks_per_beat, round(bass.tempo_bpm)
    (480, 120)
    >>> paths = bass.save("/tmp/bassnet-doctest")      # .wav and .mid

`bassnet.generate("song.mp3", "A4", z="eighths")` reads a file at its own rate instead; `z` may
be None (the centre of the training data's µ), a point (z1, z2), a pattern name or a z-path
CSV; `device` "cpu", "cuda" or "auto". `bass.notes` are the notes (start, end in s, MIDI pitch,
velocity, pitch bend), `bass.curves` the frame curves at 100 frames/s. Without `midi_tempo`
the MIDI takes the song's tempo and first downbeat from madmom's beat tracker.

`import bassnet` stays light: torch and the models load when `load_model` or `generate` is
first used.
"""

from __future__ import annotations

__version__ = "0.1.0"

_API = ("Bass", "Model", "generate", "load_model")
__all__ = ["__version__", *_API]


def __getattr__(name: str):
    """`bassnet.generate` etc., imported on first use (they need torch)."""
    if name in _API:
        from bassnet import api

        return getattr(api, name)
    raise AttributeError(f"module 'bassnet' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
