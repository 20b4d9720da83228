"""The switches: every setting in which the default profile (or a control model) departs from
the paper, as a key of params.yaml with the paper's value.

params.yaml's shared sections (or, for the sizes that only profiles set, `profiles.paper`) hold
the paper's value of each switch, so `profile: paper` runs the paper; `profiles.default` and
`control.models` override those they change. docs/design.md's switch table has one row per
switch, with the evidence for each departure (tests/test_switches.py keeps the two in step).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bassnet.errors import ConfigError


@dataclass(frozen=True)
class Switch:
    """One departure: where it lives, what the paper does, what it means."""

    key: str  # dotted path in params.yaml, read after the profile is merged in
    paper: Any  # the paper's value, as params.yaml spells it
    meaning: str  # one line
    # "method": how the model, its objective or its training data read the paper; the shared
    # section holds the paper's value. "size": how much data, model and training; where the
    # DVC stages read the shared value as the default profile's, `profiles.paper` sets it.
    kind: str = "method"


PAPER_WINDOWS = ["10-10", "20-20", "40-40", "10-20", "10-40", "20-40", "10-640", "20-640",
                 "40-640"]  # fmt: skip

SWITCHES: tuple[Switch, ...] = (
    # how the model and its objective read the paper (§4.4)
    Switch("model.latent_input", "full",
           "f_µ, f_σ read the whole mapping (full) or its mean over time and frequency (pooled)"),
    Switch("train.reconstruction", "mean",
           "reconstruction terms enter the objective as per-frame means or summed over the "
           "window's C·a frames"),
    Switch("model.unvoiced_class", False,
           "f0 is a categorical over the 264 CQT bins, or over those plus a class 'unvoiced'"),
    Switch("train.free_bits", 0.0, "nats of KL(N(x,y) ‖ N(0, I)) that cost nothing"),
    Switch("train.neighbourhood_s", 5.0, "the neighbour (u, v) starts within ± this many s"),
    Switch("train.posterior_noise", 1.0,
           "scale of σ in the z decoded in training (1: a sample of N(µ, σ²); 0: µ)"),
    Switch("train.transpose", 0, "training windows transposed by up to ± this many semitones"),
    Switch("train.mix_gain_db", 0.0, "training mixes get a random gain of up to ± this many dB"),
    Switch("train.mix_tilt_db", 0.0,
           "training mixes get a random spectral tilt of up to ± this many dB per octave"),
    Switch("train.loss_weights", {}, "weights of reconstruction terms in the objective"),
    Switch("train.precision", "float32",
           "the training step's arithmetic: float32, or its forward pass under bf16 autocast"),
    # sizes (§5.1, §5.3, and the descriptors of §4.2)
    Switch("render.songs", 1000, "songs per artificial dataset", "size"),
    Switch("render.seconds", 60, "length of a song in s, whole measures", "size"),
    Switch("model.maps", 128, "feature maps per residual block", "size"),
    Switch("model.blocks", 5, "residual blocks per encoder and decoder", "size"),
    Switch("train.learning_rate", 1.0e-4, "Adam's learning rate", "size"),
    Switch("train.batch_size", 20, "training instances per step", "size"),
    Switch("train.mini_epoch", 1000, "training instances between validations", "size"),
    Switch("train.max_mini_epochs", None, "a cap on training (null: early stopping alone)", "size"),
    Switch("train.windows", PAPER_WINDOWS, "the window sizes trained (Table 1)", "size"),
    Switch("features.crepe_model", "full", "the CREPE model that gives the bass's f0", "size"),
    Switch("features.f0_stride", 1, "CREPE on every frame (1) or every other, refined (2)", "size"),
)  # fmt: skip


def lookup(params: dict[str, Any], key: str) -> Any:
    """The value at dotted `key` of loaded params (`bassnet.config.load_params`), or a
    ConfigError naming the key."""
    value: Any = params
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            raise ConfigError(f"params have no {key}")
        value = value[part]
    return value
