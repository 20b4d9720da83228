"""The training and test objectives of paper §4.4.2: Eq. (9) and Eq. (10).

Every term is a mean over the batch of a per-instance value:
- KL terms sum over the latent dimensions (closed form for diagonal Gaussians);
- MSE is the mean squared error per spectrogram element of a window;
- CCE (f0, over 264 bins + unvoiced) and BCE (level, onset) are means per frame and
  resolution channel, with soft targets (see `training.targets`). A model without the unvoiced
  class (`ModelConfig.unvoiced_class` false, the paper's 264 bins) has no f0 target on an
  unvoiced frame: the frame adds 0 to the CCE's sum and counts in its mean.

These per-frame values are what is logged and reported (Table 1). `reconstruction`
(`train.reconstruction`) says how the objective "loss" adds them to the per-window KL terms:
- "mean" (Eq. 9 as written): the per-frame means themselves;
- "sum": each weighed by the window's frame count C·a, i.e. summed over the frames, as a
  log-likelihood of the whole window. A nat in z then costs less the larger the window: C·a
  is 10 at 10/10, 40 at 40/40 and 200 at 40/640, so the KL's weight differs 20× across Table
  1's windows. With per-frame means, the full latent of short CPU runs collapsed to the prior
  (KL 0.01–0.03 nats, QDA at chance; docs/design.md, switches).

`free_bits` (nats, `train.free_bits`) makes KL(N(x,y) ‖ N(0, I)) cost nothing below that much
per instance on average (Kingma et al. 2016): early in training the decoder learns the bass
without z before the encoder has found anything worth its KL, and the latent collapses to
the prior for good; a few free nats keep z informative until the pattern is found. 0 is
the paper's objective. Logged terms are the true values either way.

`weights` (`train.loss_weights`) scale reconstruction terms in "loss" (absent: 1, Eq. 9). An
onset is a few frames per note, so its BCE per frame is small, and in a short run the decoder
learns the f0 and leaves the onset at its marginal (A4: onset BCE 0.25, the generated onset
curve flat at 0.03, the bass re-struck only where its pitch moved).

`noise` (`train.posterior_noise`) scales σ in the training sample z ~ N(µ, σ²): 1 is Eq. (9);
0 decodes the neighbour's µ itself, as generation does (the KL terms are unchanged). It took
the control test of a 16-map A4 model at 80/80 from 71% to 81.5% in one run (docs/design.md,
the control models).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from bassnet.model import BassNet

TERMS = ("kl_cross", "kl_prior", "mse", "f0", "level", "onset")


def kl_normal(
    mu1: torch.Tensor, logvar1: torch.Tensor, mu2: torch.Tensor, logvar2: torch.Tensor
) -> torch.Tensor:
    """KL(N(µ1, σ1²) ‖ N(µ2, σ2²)) per instance: (B, D) → (B,), summed over D."""
    ratio = torch.exp(logvar1 - logvar2)
    return 0.5 * (ratio + (mu1 - mu2) ** 2 / torch.exp(logvar2) - 1 - (logvar1 - logvar2)).sum(1)


def kl_prior(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(µ, σ²) ‖ N(0, I)) per instance: (B, D) → (B,)."""
    return kl_normal(mu, logvar, torch.zeros_like(mu), torch.zeros_like(logvar))


RECONSTRUCTIONS = ("mean", "sum")  # values of `reconstruction` (train.reconstruction)


def reconstruction_terms(
    y: torch.Tensor, y_hat: torch.Tensor, logits: dict, targets: dict
) -> dict[str, torch.Tensor]:
    """MSE(y, ŷ) and the descriptor cross-entropies, each per instance (B,). The f0 targets
    (…, F + 1) are read up to the logits' classes: without the unvoiced class, the bins."""
    b = y.shape[0]
    f0_target = targets["f0"][..., : logits["f0"].shape[-1]]
    f0 = -(f0_target * F.log_softmax(logits["f0"], dim=-1)).sum(-1)
    bce = F.binary_cross_entropy_with_logits
    return {
        "mse": ((y_hat - y) ** 2).reshape(b, -1).mean(1),
        "f0": f0.reshape(b, -1).mean(1),
        "level": bce(logits["level"], targets["level"], reduction="none").reshape(b, -1).mean(1),
        "onset": bce(logits["onset"], targets["onset"], reduction="none").reshape(b, -1).mean(1),
    }


def train_loss(
    model: BassNet, x, y, u, v, targets_y: dict, targets_v: dict, free_bits: float = 0.0,
    weights: dict[str, float] | None = None, noise: float = 1.0, reconstruction: str = "sum",
) -> dict[str, torch.Tensor]:  # fmt: skip
    """Eq. (9), symmetrised as Eqs. (6)–(7) suggest: (x, y) is reconstructed from
    z ~ N(u,v) and (u, v) from z ~ N(x,y); the cross-KL pulls N(x,y) and N(u,v) together.
    Returns each term's batch mean and their sum under "loss" (see `free_bits`, `weights`,
    `noise`, `reconstruction`)."""
    n = x.shape[0]
    fx = model.mix_factors(torch.cat([x, u]))
    mu, logvar = model.posterior(fx, torch.cat([y, v]))
    swap = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(mu.device)
    z = model.sample(mu, logvar, noise)[swap]  # each instance decodes its neighbour's z
    y_hat = model.generate(fx, z)
    targets = {k: torch.cat([targets_y[k], targets_v[k]]) for k in targets_y}
    terms = {
        "kl_cross": kl_normal(mu, logvar, mu[swap], logvar[swap]),
        "kl_prior": kl_prior(mu, logvar),
        **reconstruction_terms(torch.cat([y, v]), y_hat, model.descriptors(y_hat), targets),
    }
    return _reduce(terms, y.shape[1] * y.shape[2], free_bits, weights, reconstruction)


def test_loss(
    model: BassNet, x, y, targets: dict, sample: bool = False, free_bits: float = 0.0,
    weights: dict[str, float] | None = None, noise: float = 1.0, reconstruction: str = "sum",
) -> dict[str, torch.Tensor]:  # fmt: skip
    """Eq. (10): no neighbour, no cross-KL; ŷ from the instance's own z. With `sample`
    False (validation, testing) z = µ, so the criterion is deterministic; True trains the
    ablation model (with `free_bits`, `weights`, `noise` and `reconstruction` as in Eq. 9's
    training)."""
    return test_loss_and_mu(model, x, y, targets, sample, free_bits, weights, noise,
                            reconstruction)[0]  # fmt: skip


def test_loss_and_mu(
    model: BassNet, x, y, targets: dict, sample: bool = False, free_bits: float = 0.0,
    weights: dict[str, float] | None = None, noise: float = 1.0, reconstruction: str = "sum",
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:  # fmt: skip
    """`test_loss` and the µ (B, latent_dim) it decoded from: validation and the evaluation's
    latent points come from one pass."""
    fx = model.mix_factors(x)
    mu, logvar = model.posterior(fx, y)
    y_hat = model.generate(fx, model.sample(mu, logvar, noise) if sample else mu)
    terms = {
        "kl_prior": kl_prior(mu, logvar),
        **reconstruction_terms(y, y_hat, model.descriptors(y_hat), targets),
    }
    return _reduce(terms, y.shape[1] * y.shape[2], free_bits, weights, reconstruction), mu


def _reduce(
    terms: dict[str, torch.Tensor], frames: int, free_bits: float = 0.0,
    weights: dict[str, float] | None = None, reconstruction: str = "sum",
) -> dict[str, torch.Tensor]:  # fmt: skip
    """Batch means of the terms, and "loss": KL terms + weighted reconstruction terms, those
    times `frames` (the window's C·a) where `reconstruction` is "sum"; the prior KL counted as
    at least `free_bits`."""
    if reconstruction not in RECONSTRUCTIONS:
        raise ValueError(f"reconstruction must be one of {RECONSTRUCTIONS}, got {reconstruction!r}")
    if reconstruction == "mean":
        frames = 1
    out = {name: value.mean() for name, value in terms.items()}
    priced = dict(out, kl_prior=torch.clamp(out["kl_prior"], min=free_bits))
    weights = weights or {}
    out["loss"] = sum(
        v if name.startswith("kl") else frames * weights.get(name, 1.0) * v
        for name, v in priced.items()
    )
    return out
