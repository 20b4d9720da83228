"""BassNet: conditional bass generation with a variational gated autoencoder (Grachten 2020)."""

__version__ = "0.1.0"
