"""Test signals with known answers, at 16 kHz."""

import numpy as np

SR = 16_000


def sine(freq_hz: float, seconds: float, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def bursts(times_s, seconds: float, seed: int = 0) -> np.ndarray:
    """Plucked-like tone bursts (220 Hz + noise, 50 ms decay) starting at `times_s`."""
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * SR), dtype=np.float32)
    n = int(0.2 * SR)
    env = np.exp(-np.arange(n) / (0.05 * SR))
    for t in times_s:
        i = int(t * SR)
        tone = 0.5 * np.sin(2 * np.pi * 220 * np.arange(n) / SR) + 0.2 * rng.standard_normal(n)
        out[i : i + n] += (env * tone)[: len(out) - i].astype(np.float32)
    return out
