"""Pure feature functions from waveforms to per-frame arrays (paper §4.1–4.2). No Beam, no files.

Every array lives on one frame grid (`bassnet.constants`): frame t is centred at t/100 s of a
16 kHz signal of n samples, which has `1 + n // 160` frames.
"""
