"""Evaluation (paper §6): validation cross-entropies (Table 1), pattern disentanglement by
quadratic discriminant analysis on µ(x, y) (Tables 2–3), latent trajectories (Fig. 7).

Two QDA protocols, windows labelled with the ground-truth bass pattern at their centre frame:
- song-disjoint (`heldout_qda`, the one findings are judged by): QDA fitted on µ of the
  training songs' windows, scored on µ of the test split's songs, with a bootstrap interval
  over test songs and two nulls measured the same way: the test windows' majority pattern,
  and the same architecture untrained (random initialisation from the training seed), since
  the encoder reads the bass too and random features of (x, y) may separate some patterns;
- the paper's (`qda_accuracy`): stratified k-fold cross-validation over µ of the validation
  windows. Its folds share songs and overlapping windows, so it also rewards a latent that
  only knows where in a song a window sits; kept for comparison with the paper's numbers.
A small covariance regularisation keeps a tight cluster from making the fit singular.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from sklearn.discriminant_analysis import QuadraticDiscriminantAnalysis
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from bassnet.config import EvaluateConfig
from bassnet.errors import DataError
from bassnet.evaluation.heldout import Score, disjoint_qda, majority_score
from bassnet.generation.folded import FoldedBassNet
from bassnet.model import BassNet
from bassnet.model.latent import latent
from bassnet.model.latent import trajectory as model_trajectory
from bassnet.training.data import Track, WindowSet, cut, read_tracks, shard_paths
from bassnet.training.loop import validate_with_mu

QDA_REGULARISATION = 1e-3


def qda(reg: float = QDA_REGULARISATION) -> QuadraticDiscriminantAnalysis:
    """The quadratic classifier p(c | z) of §6.2."""
    return QuadraticDiscriminantAnalysis(reg_param=reg)


def qda_accuracy(points: np.ndarray, labels: np.ndarray, folds: int = 5, seed: int = 0) -> float:
    """Cross-validated accuracy of QDA predicting `labels` (N,) from `points` (N, D).

    Classes with fewer than two points are left out; the number of folds shrinks to the
    smallest class size when needed. NaN when fewer than two classes remain."""
    labels = np.asarray(labels)
    values, counts = np.unique(labels, return_counts=True)
    keep = np.isin(labels, values[counts >= 2])
    points, labels = np.asarray(points)[keep], labels[keep]
    counts = counts[counts >= 2]
    if len(counts) < 2:
        return float("nan")
    k = int(min(folds, counts.min()))
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    predicted = cross_val_predict(qda(), points, labels, cv=splitter)
    return float((predicted == labels).mean())


@dataclass
class HeldoutQDA:
    """Song-disjoint QDA of one model (see the module doc), each a `Score` over test songs."""

    qda: Score
    majority: Score
    untrained: Score


@dataclass
class ModelEvaluation:
    """What §6 reports for one trained model."""

    dataset: str
    window: str
    ablation: bool
    terms: dict  # Eq. (10) terms on the validation windows (f0, level, onset, mse, kl_prior)
    qda_accuracy: float
    chance: float  # accuracy of always guessing the most frequent pattern
    n_windows: int
    points: np.ndarray = field(repr=False)  # µ (N, 2)
    labels: np.ndarray = field(repr=False)  # pattern at each window's centre (N,)
    heldout: HeldoutQDA | None = None  # song-disjoint QDA on the test split, where scored
    folder: str = ""  # the model's folder under models/<dataset>/ (e.g. "40-40", "control")


def evaluate_model(
    model: BassNet | str | Path, features_dir: str | Path, windows: int, folds: int, seed: int,
    dataset: str, ablation: bool, batch: int = EvaluateConfig.batch_windows,
) -> ModelEvaluation:  # fmt: skip
    """Table 1–3 figures of one model (loaded, or its file) on the validation split of
    `features_dir`, computed on the device the model's weights are on, `batch` windows a call."""
    if not isinstance(model, BassNet):
        model = load_model(model)
    spec = model.config.spec
    valid = WindowSet(shard_paths(features_dir), spec, windows, model.config.level_floor_db)
    terms, mu = validate_with_mu(model, valid, str(_device(model)), batch)
    labels = np.asarray(valid.patterns)
    if (labels < 0).all():
        accuracy, chance = float("nan"), float("nan")
    else:
        accuracy = qda_accuracy(mu, labels, folds, seed)
        chance = float(np.bincount(labels[labels >= 0]).max() / (labels >= 0).sum())
    return ModelEvaluation(dataset, str(spec), ablation, terms, accuracy, chance, len(valid),
                           mu, labels)  # fmt: skip


class WindowCache:
    """Windows of a feature folder's split, cut once per window spec and shared by the models
    that read them (the 40/40 model, its ablation and a control model at 40/40)."""

    def __init__(self, level_floor_db: float) -> None:
        self.level_floor_db = level_floor_db
        self._sets: dict[tuple, WindowSet] = {}

    def get(self, features_dir: str | Path, split: str, spec, count: int) -> WindowSet:
        key = (str(features_dir), split, str(spec), count)
        if key not in self._sets:
            self._sets[key] = WindowSet(shard_paths(features_dir), spec, count,
                                        self.level_floor_db, split)  # fmt: skip
        return self._sets[key]


def _device(model: BassNet) -> torch.device:
    return next(model.parameters()).device


def untrained_like(model: BassNet, seed: int) -> BassNet:
    """The same architecture as `model`, freshly initialised from `seed` as training starts
    (on the CPU, so the weights do not depend on the device), on `model`'s device."""
    torch.manual_seed(seed)
    return BassNet(model.config).eval().to(_device(model))


def folded_mu(model: BassNet, windows: WindowSet, batch: int = EvaluateConfig.batch_windows):
    """µ (N, latent_dim) of a window set, read through the model's folded encoders
    (`FoldedBassNet`: the model's µ up to float rounding, several times faster on the CPU)
    `batch` windows at a time. The model is put in eval mode for the fold and left as it was."""
    was_training = model.training
    model.eval()
    try:
        mu, _ = latent(FoldedBassNet(model), windows.x, windows.y, batch)
    finally:
        model.train(was_training)
    return mu


def heldout_qda(
    model: BassNet, train_set: WindowSet, test_set: WindowSet, seed: int,
    untrained: dict | None = None, batch: int = EvaluateConfig.batch_windows,
) -> HeldoutQDA:  # fmt: skip
    """QDA on µ fitted on `train_set`'s windows (training songs), scored on `test_set`'s (test
    songs), beside the majority-pattern and untrained-model nulls; µ read `batch` windows a
    call (`folded_mu`). `untrained`: a dict that keeps the untrained null's score for models of
    the same architecture and windows (a model and its ablation share it)."""
    songs = np.asarray(test_set.track_ids)
    test_labels = np.asarray(test_set.patterns)
    train_labels = np.asarray(train_set.patterns)

    def score(net: BassNet) -> Score:
        train_mu = folded_mu(net, train_set, batch)
        test_mu = folded_mu(net, test_set, batch)
        return disjoint_qda(train_mu, train_labels, test_mu, test_labels, songs, seed)

    trained = score(model)
    cache = {} if untrained is None else untrained
    key = (repr(model.config), seed, id(train_set), id(test_set))
    if key not in cache:
        cache[key] = score(untrained_like(model, seed))
    return HeldoutQDA(trained, majority_score(test_labels, songs, seed), cache[key])


def load_model(path: str | Path, device: str = "cpu") -> BassNet:
    """A trained model from its file, on `device` ("cpu" or "cuda"); a clear error where there
    is none."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no trained model; run `dvc repro` (the train stages)")
    return BassNet.load(path, device).to(device)


def trajectory(model: BassNet, track: Track, hop: int | None = None, with_sigma: bool = False):
    """`bassnet.model.latent.trajectory` of a track's mix and bass."""
    return model_trajectory(model, track.mix, track.bass, hop, with_sigma, name=track.track_id)


def validation_tracks(features_dir: str | Path, level_floor_db: float) -> list[Track]:
    """The validation tracks of a feature folder (an error if there are none)."""
    tracks = [t for p in shard_paths(features_dir) for t in read_tracks(p, "valid", level_floor_db)]
    if not tracks:
        raise DataError(f"{features_dir}: no validation tracks")
    return tracks


# Fig. 8: intervals in semitones, bass f0 minus mix f0, from three octaves below to
# one octave above (the bass sits below the mix's predominant pitch).
INTERVALS = np.arange(-36, 13)


def interval_histogram(bass_class: np.ndarray, mix_f0_hz: np.ndarray) -> np.ndarray:
    """Share of frames per interval in INTERVALS: 12·log2(f_bass / f_mix), rounded, over frames
    where both sound. `bass_class` are f0 classes (CQT bins, n_bins = unvoiced)."""
    from bassnet.features.cqt import N_BINS, bin_frequencies

    bass_class, mix_f0_hz = np.ravel(bass_class), np.ravel(mix_f0_hz)
    both = (bass_class < N_BINS) & (mix_f0_hz > 0)
    bass_hz = bin_frequencies()[bass_class[both]]
    semitones = np.rint(12 * np.log2(bass_hz / mix_f0_hz[both])).astype(int)
    counts = np.array([(semitones == i).sum() for i in INTERVALS], dtype=np.float64)
    return counts / max(both.sum(), 1)


def mix_f0(features_dir: str | Path, split: str = "valid") -> dict[str, np.ndarray]:
    """track_id → (frames,) predominant f0 of the mix in Hz (0 unvoiced), for the tracks of
    `split` whose shards hold it (`features.mix_f0_splits`)."""
    import pyarrow.parquet as pq

    out = {}
    for path in shard_paths(features_dir):
        table = pq.read_table(path, columns=["track_id", "split", "f0_mix_hz"])
        for track_id, part, f0 in zip(*(table.column(c) for c in table.column_names), strict=True):
            if part.as_py() == split and f0.is_valid:
                out[track_id.as_py()] = f0.values.to_numpy(zero_copy_only=False)
    return out


@torch.no_grad()
def relative_pitch_grid(
    model: BassNet,
    tracks: list[Track],
    mix_f0_hz: dict[str, np.ndarray],
    grid: np.ndarray,
    windows: int,
) -> tuple[np.ndarray, dict[tuple[float, float], np.ndarray]]:
    """Fig. 8's data: the interval histogram of the data, and for each z in `grid` (G, 2) that of
    basses generated at that z, over about `windows` evenly spaced windows of `tracks`. Only the
    full-resolution centre (channel 0, a frames) of each window is used; `mix_f0_hz` maps track
    ids to the mix f0 (see `mix_f0`)."""
    from bassnet.training.data import even_starts

    spec = model.config.spec
    usable = [t for t in tracks if t.track_id in mix_f0_hz and len(t) >= spec.expanded]
    if not usable:
        raise DataError("no validation tracks with the mix f0 (features.mix_f0_splits)")
    positions = even_starts([len(t) for t in usable], spec, windows)
    index = np.array([i for i, _ in positions])
    start = np.array([s for _, s in positions])
    batch = cut(usable, index, start, spec)
    centre = start + (spec.expanded - spec.compressed) // 2
    mix_hz = np.stack(
        [
            mix_f0_hz[usable[i].track_id][c : c + spec.compressed]
            for i, c in zip(index, centre, strict=True)
        ]
    )
    truth = np.stack(
        [usable[i].f0_class[c : c + spec.compressed] for i, c in zip(index, centre, strict=True)]
    )
    data = interval_histogram(truth, mix_hz)
    device = _device(model)
    fx = model.mix_factors(batch["x"].to(device))
    generated = {}
    for z in grid:
        point = torch.tensor(z[None], dtype=torch.float32, device=device)
        fz = model.latent_factors(point)  # dec_z once per z
        logits = model.descriptors(model.generate_from_factors(fx, fz))["f0"][:, 0]  # (N, a, C)
        generated[(float(z[0]), float(z[1]))] = interval_histogram(
            logits.argmax(-1).cpu().numpy(), mix_hz
        )
    return data, generated
