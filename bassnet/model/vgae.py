"""BassNet's variational gated autoencoder (paper §4.4, Fig. 1).

    fx = enc_x(x), fy = enc_y(y)                      factors of mix and bass
    µ, log σ² = linear(read(enc_z(fx ⊙ fy)))           f_µ, f_σ (Eqs. 1–2): one z per window
    ŷ = dec_y(fx ⊙ dec_z(unread(linear(z))))           g(x, z) (Eq. 4)
    f0, level, onset = heads(ŷ)                        descriptors for sonification (§4.2)

`ModelConfig.latent_input` says what f_µ and f_σ read of the mapping enc_z(fx ⊙ fy):
- "full" (the paper's): the whole mapping, flattened (n·a·F values), and z enters dec_z as a
  whole (n, a, F) input. z can say where in time and pitch bass and mix relate.
- "pooled": the mapping averaged over time and frequency (n values), and z enters dec_z as the
  same n values at every (t, f). z can say how bass and mix relate (root, third or fifth of
  the chord; on which beats), not at which pitch or time, so a pattern keeps its z under
  transposition. On the default profile's budget the full reading neither separated A1's
  patterns nor steered the bass (docs/design.md, switches).

x and y are compressed multi-resolution windows (B, C, a, 264) of log |CQT|: the C resolutions
are the input channels of 2-D convolutions over (time, frequency). Inside the network they are
standardised with fixed constants (`ModelConfig.cqt_mean`, `cqt_std`); ŷ is returned in the
log-magnitude scale of y. Decoders are the encoders' blocks run as
tied transposed convolutions; the linear map z → dec_z's input is the transpose of the one
that gives µ. dec_x (reconstructing x from y and z) is not needed for g and is not built.
"""

from __future__ import annotations

import io
import pickle
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from bassnet.atomic import write_bytes
from bassnet.errors import BassnetError, DataError
from bassnet.model.config import ModelConfig
from bassnet.model.heads import DescriptorHeads
from bassnet.model.stack import ResidualStack


class BassNet(nn.Module):
    """The VGAE plus descriptor heads; `BassNet.load(path)` rebuilds it from a checkpoint."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        spec, n = config.spec, config.maps
        size = (spec.compressed, config.n_bins)
        stack = dict(n=n, blocks=config.blocks, kernel=config.kernel, size=size)
        self.enc_x = ResidualStack(spec.channels, decoder=False, **stack)
        self.enc_y = ResidualStack(spec.channels, **stack)  # enc_y / dec_y
        self.enc_z = ResidualStack(n, **stack)  # enc_z / dec_z
        self.factor_shape = (n, *size)
        # One weight matrix maps what f_µ, f_σ read (n pooled values, or the n·a·F of the whole
        # mapping) to [µ, log σ²] and, transposed, z to dec_z's input: tied, as the encoders
        # and decoders. Full: entries are O(1) and the products are scaled by 1/√fan-in, so an
        # Adam step (which moves each entry by about the learning rate) moves µ by a bounded
        # amount instead of one that grows with the 10⁴–10⁶ inputs.
        self.full_latent = config.latent_input == "full"
        width = n * size[0] * size[1] if self.full_latent else n
        self.latent_weight = nn.Parameter(torch.randn(2 * config.latent_dim, width))
        self.latent_bias = nn.Parameter(torch.zeros(2 * config.latent_dim))
        self.from_latent_bias = nn.Parameter(torch.zeros(width))
        self.heads = DescriptorHeads(config.n_bins, config.head_maps, config.unvoiced_class)
        self.extra: dict[str, Any] = {}  # a loaded checkpoint's other entries (`save`'s extra)
        self.to(memory_format=torch.channels_last)

    def mix_factors(self, x: torch.Tensor) -> torch.Tensor:
        """enc_x: (B, C, a, F) → (B, n, a, F)."""
        return self.enc_x.encode(self.standardise(x))

    def mapping(self, fx: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """enc_z(fx ⊙ enc_y(y)): the mapping (B, n, a, F) between mix and bass that f_µ and
        f_σ read; fx are the mix factors, y the bass (B, C, a, F)."""
        return self.enc_z.encode(fx * self.enc_y.encode(self.standardise(y)))

    def posterior(self, fx: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """µ and log σ² of N(x,y), each (B, latent_dim), from the mix factors and y."""
        return self.read_mapping(self.mapping(fx, y))

    def read_mapping(self, mapping: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """f_µ, f_σ: µ and log σ² (B, latent_dim) each, from the mapping (B, n, a, F)."""
        if self.full_latent:
            flat = mapping.flatten(1)  # (B, n·a·F)
            out = flat @ self.latent_weight.T / flat.shape[1] ** 0.5 + self.latent_bias
        else:
            pooled = mapping.mean((2, 3))  # (B, n): over time and frequency
            out = pooled @ self.latent_weight.T + self.latent_bias
        mu, logvar = out.chunk(2, dim=1)
        return mu, logvar

    def generate(self, fx: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """g(x, z): ŷ (B, C, a, F) log magnitudes from the mix factors and z (B, latent_dim)."""
        return self.generate_from_factors(fx, self.latent_factors(z))

    def latent_factors(self, z: torch.Tensor) -> torch.Tensor:
        """dec_z: z (B, latent_dim) → the factors (B, n, a, F) that gate the mix's. They depend
        on z alone, so a constant z is decoded once for any number of windows."""
        w_mu = self.latent_weight[: self.config.latent_dim]  # tied: (latent_dim, width)
        if self.full_latent:
            start = z @ w_mu / z.shape[1] ** 0.5 + self.from_latent_bias  # (B, n·a·F)
            full = start.reshape(-1, *self.factor_shape)
        else:
            start = z @ w_mu + self.from_latent_bias  # (B, n), the same at every (t, f)
            full = start[:, :, None, None].expand(-1, *self.factor_shape)
        return self.enc_z.decode(full.contiguous(memory_format=torch.channels_last))

    def generate_from_factors(self, fx: torch.Tensor, fz: torch.Tensor) -> torch.Tensor:
        """dec_y(fx ⊙ fz): ŷ (B, C, a, F); fz (B or 1, n, a, F) broadcasts over the batch."""
        return self.destandardise(self.enc_y.decode(fx * fz, linear_output=True))

    def descriptors(self, y_hat: torch.Tensor) -> dict[str, torch.Tensor]:
        """Logits of f0 (B, C, a, K: the F bins, then "unvoiced" where the model has that
        class; K = `config.f0_classes`), level and onset (B, C, a)."""
        return self.heads(self.standardise(y_hat))

    def standardise(self, v: torch.Tensor) -> torch.Tensor:
        """Log magnitudes (B, C, a, F) → the network's input scale (fixed mean and std)."""
        # channels-last tensors take oneDNN's faster convolutions on CPU (≈1.3× per step)
        v = (v - self.config.cqt_mean) / self.config.cqt_std
        return v.contiguous(memory_format=torch.channels_last)

    def destandardise(self, h: torch.Tensor) -> torch.Tensor:
        """The network's scale → log magnitudes (B, C, a, F): the inverse of `standardise`."""
        return h * self.config.cqt_std + self.config.cqt_mean

    @staticmethod
    def sample(mu: torch.Tensor, logvar: torch.Tensor, noise: float = 1.0) -> torch.Tensor:
        """z ~ N(µ, σ²) by reparameterisation (Eq. 3); `noise` scales σ (0: z = µ)."""
        return mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) * noise

    def save(self, path: str | Path, **extra: Any) -> None:
        """Write config + weights (+ extra entries) atomically."""
        state = {"config": self.config.to_dict(), "state_dict": self.state_dict(), **extra}
        write_checkpoint(state, path)

    @classmethod
    def load(cls, path: str | Path, map_location: str = "cpu") -> BassNet:
        """Rebuild a model from a checkpoint written by `save`, in eval mode; the checkpoint's
        other entries (latent region, latent map, metrics) are in `model.extra`. A file that is
        not such a checkpoint is a DataError, and nothing in it runs (`load_checkpoint`)."""
        state = load_checkpoint(path, map_location)
        if not isinstance(state.get("config"), dict) or not isinstance(
            state.get("state_dict"), dict
        ):
            raise DataError(f"{path}: not a bassnet model file (no config and weights in it)")
        try:
            model = cls(ModelConfig.from_dict(state.pop("config")))
            model.load_state_dict(state.pop("state_dict"))
        except (BassnetError, TypeError, ValueError, RuntimeError) as err:
            # a config of other sizes, or weights that do not fit them
            raise DataError(f"{path}: not a model this bassnet can load ({err})") from err
        model.extra = state
        return model.eval()


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """The dict a `write_checkpoint` file holds, read with PyTorch's restricted unpickler
    (`weights_only=True`: tensors, numbers, strings, lists and dicts only), so a file that
    would build any other Python object (a pickle with a code-running payload) is refused
    before any of it runs: a DataError, as is a file that is not a PyTorch file at all."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such model file")
    try:
        with warnings.catch_warnings():  # a pickle protocol torch did not write: said below
            warnings.simplefilter("ignore", UserWarning)
            state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        # torch's message is a page long and suggests weights_only=False: give its gist only
        line = next((ln for ln in str(err).splitlines() if "Unsupported" in ln), "")
        what = line.split(". ")[0].replace("WeightsUnpickler error:", "").strip()
        raise DataError(
            f"{path}: not a bassnet model file: it holds Python objects other than weights and "
            f"plain data, which are not loaded since loading them could run code"
            + (f" ({what})" if what else "")
        ) from err
    except Exception as err:  # noqa: BLE001 - the restricted unpickler fails on garbage in
        # many ways (IndexError, KeyError, EOFError, RuntimeError ...), having run nothing
        raise DataError(f"{path}: not a bassnet model file ({type(err).__name__}: {err})") from err
    if not isinstance(state, dict):
        raise DataError(f"{path}: not a bassnet model file (holds a {type(state).__name__})")
    return state


def write_checkpoint(state: dict[str, Any], path: str | Path) -> None:
    """`torch.save(state)` to `path`, atomically and byte for byte reproducibly: PyTorch names
    the zip's records after the file it writes to, which would be the random temporary name, so
    it writes to memory (records "archive/…") and the bytes go to `path` by rename."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    write_bytes(path, buffer.getvalue())
