"""Generation (paper §4.2, §7): a mix and a point or path in the latent space → a bass track.

latent_path   z as a point or a time-stamped path, interpolated per window
curves        the model at z over every window, expanded and overlap-added to frame curves
notes         frame curves → notes (onsets, pitch, pitch bend, velocity)
midi_out      notes → a Standard MIDI File
sonify        frame curves → audio by additive synthesis
pipeline      files in, files out (`bassnet generate`), streamed in segments
"""
