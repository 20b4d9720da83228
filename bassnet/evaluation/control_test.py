"""The control test: does z steer the bass the way each pattern prescribes? (paper §4, §6)

For one dataset and each candidate model:
1. each pattern's centroid: the mean µ of evenly spaced windows of the *training* songs,
   labelled by the pattern at their centre;
2. for each song scored, the bass the model generates at each centroid, through the same
   path as `bassnet generate` (the mix's log |CQT| windows at hop b/2, decoded at z,
   overlap-added into curves, silent where the mix is, notes picked from the curves); the mix's
   CQT is the one the feature job stored for the song (float16), its level from its WAV;
3. each pattern scored against what it prescribes in that song's context, from the renderer's
   own definition of the patterns (`bassnet.synth.patterns`, via the song's plan):
   - pitch (A1–A3: the degree, given the chord's quality in A2 and its instrument in A3): the
     generated pitch class at each bass step is the step's;
   - rhythm (A4): per beat, the generated note starts on the eighth-note grid are the pattern's.
   A score pools the steps (or beats) of all songs; its 95 % interval resamples songs.

Songs scored: the validation songs (a model is *selected* by them) and the held-out test
split (what is *reported*; never used to choose).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bassnet.config import EvaluateConfig
from bassnet.constants import FRAME_RATE
from bassnet.errors import DataError
from bassnet.evaluation.control_rules import (
    expected_steps,
    pattern_centroids,
    pattern_hits,
    score_kind,
)
from bassnet.evaluation.heldout import Score, song_score
from bassnet.evaluation.scoring import folded_mu, load_model
from bassnet.generation.config import GenerateConfig
from bassnet.generation.curves import (
    SILENT_LOG_CQT,
    BassCurves,
    curves_from_factors,
    mix_factors,
    window_batches,
)
from bassnet.generation.folded import FoldedBassNet
from bassnet.generation.notes import BassNote, generated_notes, hz_to_midi
from bassnet.model import BassNet
from bassnet.synth.plan import SongPlan, make_plan
from bassnet.training.data import WindowSet, read_tracks, shard_paths


@dataclass
class ControlSong:
    """A song of a dataset split, ready for generation and scoring."""

    track_id: str
    plan: SongPlan  # what it plays: the renderer's plan, drawn again from the song's seed
    cqt: np.ndarray  # (frames, 264) float32 log |CQT| of the mix
    silent: np.ndarray  # (frames,) bool: mix frames quieter than generate.silence_db


def control_songs(
    features_dir: str | Path, split: str, dataset_dir: str | Path, dataset: str, render_cfg,
    silence_db: float,
) -> list[ControlSong]:  # fmt: skip
    """The songs of `split` in a feature folder, with their plans (drawn again from the song
    seeds in the rendered dataset's labels.parquet) and the level of their mix WAVs; a
    DataError where a plan's pattern labels are not the song's (other render params than the
    data were made with)."""
    import pyarrow.parquet as pq

    from bassnet.audio_io import read_mono
    from bassnet.features.audio import resample
    from bassnet.features.level import level_db
    from bassnet.synth.labels import frame_labels

    dataset_dir = Path(dataset_dir)
    labels = dataset_dir / "labels.parquet"
    if not labels.is_file():
        raise DataError(f"{labels}: not found; run the render stages")
    rows = pq.read_table(labels, columns=["track_id", "index", "seed"]).to_pylist()
    seeds = {r["track_id"]: (r["index"], r["seed"]) for r in rows}
    songs = []
    for path in shard_paths(features_dir):
        for track in read_tracks(path, split, -100.0):
            if track.track_id not in seeds or track.pattern is None:
                raise DataError(f"{track.track_id}: not a song of {labels} with its patterns")
            plan = make_plan(dataset, *seeds[track.track_id], render_cfg)
            drawn = frame_labels(plan)["pattern"]
            n = min(len(drawn), len(track))
            if abs(len(drawn) - len(track)) > 2 or np.mean(drawn[:n] != track.pattern[:n]) > 0.01:
                raise DataError(
                    f"{track.track_id}: its plan drawn again does not play the song's patterns "
                    "(were the data rendered with other render params?)"
                )
            audio, sr = read_mono(dataset_dir / "audio" / f"{track.track_id}.mix.wav")
            level = level_db(resample(audio, sr))[: len(track)]
            silent = np.ones(len(track), dtype=bool)
            silent[: len(level)] = level < silence_db
            songs.append(ControlSong(track.track_id, plan, track.mix.astype(np.float32), silent))
    if not songs:
        raise DataError(f"{features_dir}: no {split} songs to score the control on")
    return sorted(songs, key=lambda s: s.track_id)


def training_centroids(model: BassNet, features_dir: str | Path, windows: int,
                       batch: int = EvaluateConfig.batch_windows) -> dict:  # fmt: skip
    """Step 1: pattern → centroid (latent_dim,) of µ over `windows` windows of the training
    songs (`folded_mu`, `batch` windows a call)."""
    train = WindowSet(shard_paths(features_dir), model.config.spec, windows,
                      model.config.level_floor_db, "train")  # fmt: skip
    mu = folded_mu(model, train, batch)
    if not np.isfinite(mu).all():
        raise DataError(f"{features_dir}: µ of the training windows has NaN or infinite values")
    return pattern_centroids(mu, np.asarray(train.patterns))


def generate_at(model: FoldedBassNet, song: ControlSong, centroids: dict, cfg: GenerateConfig):
    """Step 2: {pattern: (curves, notes)} of the bass generated over `song` at each centroid;
    the mix factors are computed once and decoded at each z."""
    spec = model.config.spec
    n = len(song.cqt)
    # the windows start one hop before the song, as `segment_curves` expects
    padded = np.concatenate([np.full((spec.hop, song.cqt.shape[1]), SILENT_LOG_CQT,
                                     dtype=np.float32), song.cqt])  # fmt: skip
    factors = [mix_factors(model, w) for w in window_batches(padded, spec, n, cfg.batch_windows)]
    count = sum(len(f) for f in factors)
    out = {}
    for p, z in centroids.items():
        curves = curves_from_factors(
            model, factors, np.repeat(z[None], count, 0), n, cfg.silence_db
        )
        curves.silence(song.silent[:n], model.config.level_floor_db)
        out[p] = (curves, generated_notes(curves, cfg))
    return out


def score_songs(model: FoldedBassNet, songs: list[ControlSong], centroids: dict,
                cfg: GenerateConfig, seed: int = 0) -> dict:  # fmt: skip
    """Steps 2–3 over `songs`: {"patterns": {p: Score}, "mean": Score (every pattern's units
    pooled), "songs": [{"track_id", "tempo_bpm", "scores": {p: share}}], "panels": the first
    song's figure panels}."""
    hits: dict[int, list[np.ndarray]] = {p: [] for p in centroids}
    ids: dict[int, list[np.ndarray]] = {p: [] for p in centroids}
    per_song, panels = [], {}
    for k, song in enumerate(songs):
        scores = {}
        for p, (curves, notes) in generate_at(model, song, centroids, cfg).items():
            steps = expected_steps(song.plan, p)
            h = pattern_hits(song.plan, p, curves, notes, steps)
            hits[p].append(h)
            ids[p].append(np.full(len(h), k))
            scores[p] = round(float(h.mean()), 4) if len(h) else None
            if k == 0:
                panels[p] = _panel(curves, notes, steps)
        per_song.append({"track_id": song.track_id, "tempo_bpm": round(song.plan.tempo_bpm, 1),
                         "scores": scores})  # fmt: skip
    patterns = {p: song_score(np.concatenate(hits[p]), np.concatenate(ids[p]), seed=seed)
                for p in centroids}  # fmt: skip
    every = [np.concatenate(hits[p]) for p in centroids]
    song_of = [np.concatenate(ids[p]) for p in centroids]
    mean = song_score(np.concatenate(every), np.concatenate(song_of), seed=seed)
    return {"patterns": patterns, "mean": mean, "songs": per_song, "panels": panels}


def _panel(curves: BassCurves, notes: list[BassNote], steps) -> tuple:
    times = np.arange(len(curves)) / FRAME_RATE
    return (times, hz_to_midi(curves.f0_hz), np.array([n.start_s for n in notes]),
            [(s.start_s, s.seconds, s.pitch) for s in steps])  # fmt: skip


def _score_json(result: dict) -> dict:
    return {
        "mean": result["mean"].to_json(),
        "patterns": {str(p): s.to_json() for p, s in result["patterns"].items()},
        "songs": result["songs"],
    }


def control_test(
    candidates: dict[str, Path], dataset: str, features_dir: Path, test_features_dir: Path,
    dataset_dir: Path, test_dataset_dir: Path, render_cfg, cfg: GenerateConfig,
    centroid_windows: int, seed: int = 0, figure: Path | None = None, progress: bool = True,
    device: str = "cpu", batch_windows: int = EvaluateConfig.batch_windows,
) -> dict:  # fmt: skip
    """Steps 1–3 for each candidate model (name → model.pt) of `dataset`: scored on the
    validation songs (selection) and the test songs (report). Returns the metrics: per model
    its centroids, "selection" and "test" scores; "selected": the model with the best mean on
    the validation songs. `figure`: the selected model's bass over the first test song. The
    models run on `device` ("cpu" or "cuda"; params.yaml `control.device`); their µ is read
    `batch_windows` at a time (params.yaml `evaluate.batch_windows`)."""
    from tqdm import tqdm

    if not candidates:
        raise DataError(f"{dataset}: no trained model to test the control of")
    selection = control_songs(features_dir, "valid", dataset_dir, dataset, render_cfg,
                              cfg.silence_db)  # fmt: skip
    test = control_songs(test_features_dir, "test", test_dataset_dir, dataset, render_cfg,
                         cfg.silence_db)  # fmt: skip
    models, panels = {}, {}
    bar = tqdm(candidates.items(), desc=f"control {dataset}", unit="model", disable=not progress)
    for name, path in bar:
        model = load_model(path, device).eval()
        centroids = training_centroids(model, features_dir, centroid_windows, batch_windows)
        folded = FoldedBassNet(model)
        chosen = score_songs(folded, selection, centroids, cfg, seed)
        reported = score_songs(folded, test, centroids, cfg, seed)
        panels[name] = reported["panels"]
        models[name] = {
            "file": str(path),
            "centroids": {str(p): [round(float(v), 4) for v in z] for p, z in centroids.items()},
            "selection": _score_json(chosen),
            "test": _score_json(reported),
        }
    bar.close()
    selected = max(models, key=lambda m: (models[m]["selection"]["mean"]["value"] or 0.0))
    kind = score_kind(dataset)
    if figure is not None:
        from bassnet.evaluation.figures import control_figure

        what = {"rhythm": "beats with the pattern's onsets",
                "pitch": "steps on the pattern's degree"}[kind]  # fmt: skip
        first = models[selected]["test"]["songs"][0]
        labelled = {}
        for p, panel in panels[selected].items():
            z, share = models[selected]["centroids"][str(p)], first["scores"][p]
            labelled[f"pattern {p} at z = ({z[0]:.2f}, {z[1]:.2f}): {share:.0%}"] = panel
        title = (f"{dataset}, model {selected}: bass generated at each pattern's centroid of µ "
                 f"({what}; test song {first['track_id']})")  # fmt: skip
        control_figure(labelled, title, figure)
    return {
        "dataset": dataset,
        "kind": kind,
        "selection_songs": len(selection),
        "test_songs": len(test),
        "models": models,
        "selected": selected,
    }


def score_line(result: dict) -> str:
    """One summary line: each model's mean on the test songs, and the one selected."""
    parts = []
    for name, m in result["models"].items():
        parts.append(f"{name} {Score.from_json(m['test']['mean']).text()}")
    return (
        f"control {result['dataset']} ({result['kind']}, {result['test_songs']} test songs): "
        + "; ".join(parts)
        + f"; selected on {result['selection_songs']} validation songs: {result['selected']}"
    )
