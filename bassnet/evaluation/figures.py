"""The paper's figures as PNG: Fig. 5 (latent maps with QDA regions and p(c|z) = 0.75
isolines) and Fig. 7 (latent trajectories). matplotlib with the file-only Agg backend."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from bassnet.atomic import atomic_path  # noqa: E402
from bassnet.evaluation.scoring import ModelEvaluation, qda  # noqa: E402

COLOURS = plt.get_cmap("tab10")


def latent_map(ax, points: np.ndarray, labels: np.ndarray, title: str) -> None:
    """µ points coloured by pattern over the QDA decision regions, with p(c|z) = 0.75 lines;
    without labels (a stem collection: all < 0), the points in grey."""
    ax.set_title(title, fontsize=8)
    ax.tick_params(labelsize=6)
    keep = labels >= 0
    if not keep.any():
        ax.scatter(*np.asarray(points).T, s=4, color="#555555")
        return
    points, labels = points[keep], labels[keep]
    classes = np.unique(labels)
    low, high = points.min(0), points.max(0)
    pad = 0.1 * np.maximum(high - low, 1e-3)
    gx, gy = np.meshgrid(
        *(np.linspace(lo - p, hi + p, 200) for lo, hi, p in zip(low, high, pad, strict=True))
    )
    if len(classes) >= 2:
        classifier = qda().fit(points, labels)
        proba = classifier.predict_proba(np.c_[gx.ravel(), gy.ravel()])
        winner = proba.argmax(1).reshape(gx.shape)
        colours = [COLOURS(int(c) - 1) for c in classifier.classes_]
        ax.contourf(gx, gy, winner, levels=np.arange(len(classes) + 1) - 0.5, colors=colours,
                    alpha=0.2)  # fmt: skip
        for i, colour in enumerate(colours):
            ax.contour(gx, gy, proba[:, i].reshape(gx.shape), levels=[0.75], colors=[colour],
                       linewidths=0.8)  # fmt: skip
    for c in classes:
        at = labels == c
        ax.scatter(*points[at].T, s=4, color=COLOURS(int(c) - 1), label=f"pattern {c}")
    ax.legend(fontsize=5, markerscale=2, loc="best")


def figure5(evaluations: list[ModelEvaluation], path: str | Path) -> None:
    """One latent map per (model, dataset): rows are window sizes (and the ablation)."""
    rows = sorted({(e.ablation, e.window) for e in evaluations})
    datasets = sorted({e.dataset for e in evaluations})
    fig, axes = plt.subplots(len(rows), len(datasets), figsize=(3 * len(datasets), 3 * len(rows)),
                             squeeze=False)  # fmt: skip
    for e in evaluations:
        ax = axes[rows.index((e.ablation, e.window)), datasets.index(e.dataset)]
        name = f"{e.dataset} {e.window}{' ablation' if e.ablation else ''}"
        score = "" if np.isnan(e.qda_accuracy) else f": QDA {e.qda_accuracy:.3f}"
        latent_map(ax, e.points, e.labels, name + score)
    fig.tight_layout()
    _save(fig, path)


def figure7(trajectories: dict[str, tuple[np.ndarray, np.ndarray]], path: str | Path) -> None:
    """µ1 (top) and µ2 (bottom) over time for each named model, one column per model."""
    names = list(trajectories)
    fig, axes = plt.subplots(2, len(names), figsize=(4 * len(names), 4), squeeze=False)
    for j, name in enumerate(names):
        times, mu = trajectories[name]
        for i in range(2):
            axes[i, j].plot(times, mu[:, i], lw=0.8)
            axes[i, j].set_ylabel(f"µ{i + 1}", fontsize=7)
            axes[i, j].tick_params(labelsize=6)
        axes[0, j].set_title(name, fontsize=8)
        axes[1, j].set_xlabel("time (s)", fontsize=7)
    fig.tight_layout()
    _save(fig, path)


def figure8(data: np.ndarray, generated: dict, title: str, path: str | Path) -> None:
    """A grid of panels, one per z: the share of frames at each bass–mix interval (semitones)
    of basses generated at z, minus that of the data (paper Fig. 8)."""
    from bassnet.evaluation.scoring import INTERVALS

    xs = sorted({z[0] for z in generated})
    ys = sorted({z[1] for z in generated}, reverse=True)
    fig, axes = plt.subplots(len(ys), len(xs), figsize=(2.4 * len(xs), 1.8 * len(ys)),
                             sharex=True, sharey=True, squeeze=False)  # fmt: skip
    for (zx, zy), hist in generated.items():
        ax = axes[ys.index(zy), xs.index(zx)]
        diff = hist - data
        ax.bar(INTERVALS, diff, width=0.9, color=np.where(diff >= 0, "tab:blue", "tab:red"))
        ax.axhline(0, color="black", lw=0.5)
        ax.set_title(f"z = ({zx:g}, {zy:g})", fontsize=7)
        ax.tick_params(labelsize=6)
    for ax in axes[-1]:
        ax.set_xlabel("bass − mix f0 (semitones)", fontsize=6)
    fig.suptitle(title, fontsize=8)
    fig.tight_layout()
    _save(fig, path)


def _save(fig, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)


def control_figure(panels: dict[str, tuple], title: str, path: str | Path) -> None:
    """The latent control at work: per pattern, the generated bass (f0 as MIDI pitch over time,
    dots at note starts) over the steps that pattern plays (grey bars). `panels` maps a label
    to (times_s, midi_pitch (NaN unvoiced), note_starts_s, [(start_s, seconds, pitch), …])."""
    fig, axes = plt.subplots(len(panels), 1, figsize=(9, 1.6 * len(panels) + 0.6), sharex=True,
                             squeeze=False)  # fmt: skip
    for ax, (label, (times, pitch, starts, steps)) in zip(axes[:, 0], panels.items(), strict=True):
        for start, seconds, midi in steps:
            ax.plot(
                [start, start + seconds], [midi, midi], color="0.75", lw=5, solid_capstyle="butt"
            )
        ax.plot(times, pitch, lw=0.9, color="C0")
        on = np.searchsorted(times, starts).clip(0, len(times) - 1)
        ax.plot(starts, pitch[on], ".", color="C3", ms=4)
        ax.set_ylabel("MIDI", fontsize=7)
        ax.set_title(label, fontsize=8, loc="left")
        ax.tick_params(labelsize=6)
    axes[-1, 0].set_xlabel("time (s)", fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    _save(fig, path)
