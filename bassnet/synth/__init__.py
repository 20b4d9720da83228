"""Artificial datasets A1–A4 (paper §5.1) and A5 (the bass pattern implied by the mix's chord
instrument): theory, bass patterns, song plans, MIDI, FluidSynth.

Pure layers first (`theory`, `patterns`, `plan`, `labels`, `midi`), then the I/O at the edge
(`fluidsynth_render`, `dataset`).
"""
