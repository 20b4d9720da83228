"""The pad's picture: where the training data's µ lie (density contours) and, for labelled
data, which bass pattern QDA predicts where (regions, p(c|z) = 0.75 lines, labels), as the
paper's Fig. 5. Drawn with matplotlib (Agg) to a PNG that fills the square pad edge to edge."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from bassnet.evaluation.scoring import qda  # noqa: E402

COLOURS = plt.get_cmap("tab10")
GRID = 160  # cells per side for the density and the QDA regions


def pad_extent(points: np.ndarray | None, region: dict | None, margin: float = 0.15):
    """The square (z1_min, z1_max, z2_min, z2_max) the pad shows: the trained region (or the
    points' 1st–99th percentile box, or ±2 around 0), widened by `margin` on every side."""
    if region:
        low, high = np.asarray(region["low"], float), np.asarray(region["high"], float)
    elif points is not None and len(points):
        low, high = np.percentile(points, 1, axis=0), np.percentile(points, 99, axis=0)
    else:
        low, high = np.array([-2.0, -2.0]), np.array([2.0, 2.0])
    centre, half = (low + high) / 2, max(float(np.max(high - low)) / 2, 1e-3) * (1 + margin)
    return (centre[0] - half, centre[0] + half, centre[1] - half, centre[1] + half)


def pad_png(
    points: np.ndarray | None, labels: np.ndarray | None, extent, size_px: int = 480
) -> bytes:
    """The pad's background as PNG bytes (size_px square): density contours of `points`
    (N, 2), QDA regions of `labels` (N,) where there are at least two patterns (labels < 0
    are unlabelled), pattern numbers at their centroids."""
    fig = plt.figure(figsize=(size_px / 100, size_px / 100), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_axis_off()
    ax.add_patch(plt.Rectangle((extent[0], extent[2]), extent[1] - extent[0],
                               extent[3] - extent[2], color="#fbfbf8", zorder=-2))  # fmt: skip
    gx, gy = np.meshgrid(
        np.linspace(extent[0], extent[1], GRID), np.linspace(extent[2], extent[3], GRID)
    )
    grid = np.c_[gx.ravel(), gy.ravel()]
    if points is not None and len(points) >= 3:
        points = np.asarray(points, dtype=float)
        labels = np.full(len(points), -1) if labels is None else np.asarray(labels)
        keep = labels >= 0
        classes = np.unique(labels[keep])
        if len(classes) >= 2:
            classifier = qda().fit(points[keep], labels[keep])
            proba = classifier.predict_proba(grid)
            winner = proba.argmax(1).reshape(gx.shape)
            colours = [COLOURS(int(c) - 1) for c in classifier.classes_]
            ax.contourf(gx, gy, winner, levels=np.arange(len(classes) + 1) - 0.5, colors=colours,
                        alpha=0.22)  # fmt: skip
            for i, c in enumerate(classifier.classes_):
                ax.contour(gx, gy, proba[:, i].reshape(gx.shape), levels=[0.75],
                           colors=[colours[i]], linewidths=1.0)  # fmt: skip
                at = np.median(points[labels == c], axis=0)
                box = dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.7)
                ax.text(*at, f"pattern {c}", ha="center", va="center", fontsize=11,
                        weight="bold", color=colours[i], bbox=box)  # fmt: skip
        density = _density(points, grid).reshape(gx.shape)
        if density.max() > 0:
            ax.contour(gx, gy, density / density.max(), levels=[0.1, 0.3, 0.5, 0.7, 0.9],
                       colors="#444444", linewidths=0.7, alpha=0.8)  # fmt: skip
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return buffer.getvalue()


def _density(points: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Gaussian kernel density of `points` at `grid` (Scott's bandwidth), unnormalised."""
    from scipy.stats import gaussian_kde

    if np.linalg.matrix_rank(np.cov(points.T)) < 2:  # all on a line: no 2-D density
        return np.zeros(len(grid))
    return gaussian_kde(points.T)(grid.T)
