"""The BassNet model (paper §4.4): dilated residual stacks, tied decoders, VGAE, heads."""

from bassnet.model.config import ModelConfig
from bassnet.model.vgae import BassNet, load_checkpoint, write_checkpoint

__all__ = ["BassNet", "ModelConfig", "load_checkpoint", "write_checkpoint"]
