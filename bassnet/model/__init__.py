"""The BassNet model (paper §4.4): dilated residual stacks, tied decoders, VGAE, heads."""

from bassnet.model.config import ModelConfig
from bassnet.model.vgae import BassNet, write_checkpoint

__all__ = ["BassNet", "ModelConfig", "write_checkpoint"]
