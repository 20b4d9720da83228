"""On-the-fly re-mixing of stem collections (paper §5.3): a random coefficient per stem, the mix
summed in the waveform domain, normalised, and its CQT computed for the window (`GroupedCQT`,
the feature job's transform).

With every coefficient 1 the re-mix is the stored mix and its CQT the stored `cqt_mix` (up to
the shards' int16 stems and float16 CQTs; tested). Normalising keeps the re-mix at the RMS of
that unit mix over the same span, so the coefficients change the balance of the stems, not the
overall level. Only the window's frames are computed (the CQT's convolutions at those frames
alone), batched over instances; on a GPU when training runs there.
"""

from __future__ import annotations

import numpy as np
import torch

from bassnet.constants import HOP
from bassnet.features.cqt import LOG_FLOOR, GroupedCQT


class Remixer:
    """Draws mixing coefficients and turns stems into mix CQT windows."""

    def __init__(self, low: float, high: float, device: str = "cpu") -> None:
        if not 0 < low <= high:
            raise ValueError(f"remix coefficients need 0 < low <= high, got {low}, {high}")
        self.low, self.high = low, high
        self.cqt = GroupedCQT(device)
        self.half = self.cqt.kernel_width // 2

    def coefficients(self, rng: np.random.Generator, n_stems: int) -> np.ndarray:
        """(n_stems,) drawn uniformly from [low, high]."""
        return rng.uniform(self.low, self.high, n_stems).astype(np.float32)

    def span(self, stems: np.ndarray, start: int, frames: int) -> np.ndarray:
        """The samples behind frames [start, start + frames) with half a CQT kernel either side,
        (stems, kernel + (frames − 1)·hop), zeros beyond the song (as the stored CQT's padding)."""
        first = start * HOP - self.half
        last = (start + frames - 1) * HOP + self.half + (self.cqt.kernel_width % 2)
        out = np.zeros((len(stems), last - first), dtype=np.float32)
        lo, hi = max(first, 0), min(last, stems.shape[1])
        if hi > lo:
            out[:, lo - first : hi - first] = stems[:, lo:hi]
        return out

    def mix_cqt(self, spans: list[np.ndarray], coefficients: list[np.ndarray]) -> torch.Tensor:
        """Per instance, stems (S_i, n) and coefficients (S_i,) → log |CQT| (B, frames, 264)."""
        mixes = []
        for span, c in zip(spans, coefficients, strict=True):
            unit, mixed = span.sum(0), (c[:, None] * span).sum(0)
            rms_unit, rms_mixed = np.sqrt(np.mean(unit**2)), np.sqrt(np.mean(mixed**2))
            mixes.append(mixed * (rms_unit / rms_mixed if rms_mixed > 0 else 1.0))
        audio = torch.from_numpy(np.stack(mixes)).to(self.cqt.device)
        with torch.no_grad():
            magnitude = self.cqt.magnitude(audio)  # (B, 264, frames)
        return torch.log(magnitude + LOG_FLOOR).transpose(1, 2).float().cpu()
