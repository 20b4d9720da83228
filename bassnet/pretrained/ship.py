"""`bassnet ship-models`: copy trained models into the package, with a model card.

The shipped files are the output of this command (DVC stage `ship`), not hand-made: each is
the trained checkpoint with its floating-point tensors stored as float16 (half the bytes; the
model computes in float32 after loading), and the card collects what each model
was trained on and the metrics the pipeline measured for it.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from bassnet.atomic import write_text
from bassnet.errors import DataError
from bassnet.evaluation.report import read_control, selected_model
from bassnet.model import load_checkpoint, write_checkpoint
from bassnet.model.multires import WindowSpec
from bassnet.pretrained import CARD_JSON, HERE, score_text
from bassnet.synth.patterns import named_centroids

# the prior stage's test figures a card shows (bassnet.evaluation.prior.score_prior)
PRIOR_CARD = ("nll", "nll_training_density", "mode_pattern", "mode_pattern_chance", "mu_qda")


def _half(state: dict) -> dict:
    return {
        k: v.half() if isinstance(v, torch.Tensor) and v.is_floating_point() else v
        for k, v in state.items()
    }


def ship(
    models_dir: str | Path, datasets: list[str], window: str, profile: str,
    evaluation: str | Path | None = None, out_dir: str | Path = HERE,
    latent: str | Path | None = None, control: str | Path | None = None,
    priors: str | Path | None = None,
) -> dict[str, dict]:  # fmt: skip
    """Copy each dataset's selected model (the control stage's choice by the best control score on
    the validation songs, metrics/control/<dataset>.json; else models/<dataset>/<window>) to
    `out_dir`/<dataset>.pt (float16) and write models.json and MODEL_CARD.md there, with its
    held-out figures (test-split QDA and control score with intervals); returns the card
    entries by name. With `latent` (the evaluation's latent_points.json) each file also
    carries its validation µ and pattern labels as `latent_map`, which `bassnet serve` draws
    on its pad. With `priors` (the prior stage's folder), each file whose dataset has a prior
    fitted for that very model (priors/<dataset>.pt) carries it as `prior`: p(z|x), which
    `generate --z auto` follows and the pad draws; a model the evaluation has no map of gets
    the prior's training windows' µ and patterns as its `latent_map`."""
    out_dir = Path(out_dir)
    metrics = (
        json.loads(Path(evaluation).read_text())
        if evaluation and Path(evaluation).is_file()
        else {}
    )
    maps = json.loads(Path(latent).read_text()) if latent and Path(latent).is_file() else {}
    tested = read_control(Path(control) if control else None, datasets)
    cards: dict[str, dict] = {}
    for dataset in datasets:
        name = selected_model(Path(control) if control else None, dataset, window)
        folder = Path(models_dir) / dataset / name
        source = folder / "model.pt"
        if not source.is_file():
            raise DataError(f"{source}: no trained model to ship; run `dvc repro train`")
        state = torch.load(source, map_location="cpu", weights_only=True)
        state["state_dict"] = _half(state["state_dict"])
        if f"{dataset}/{name}" in maps:
            state["latent_map"] = maps[f"{dataset}/{name}"]
        prior_file = Path(priors or "") / f"{dataset}.pt"
        if priors and prior_file.is_file():
            fitted = load_checkpoint(prior_file)
            if fitted.get("model") != f"{dataset}/{name}":
                raise DataError(
                    f"{prior_file}: fitted for {fitted.get('model')}, not for the model that "
                    f"ships ({dataset}/{name}); run `dvc repro prior`"
                )
            state["prior"] = fitted["prior"]
            if "latent_map" not in state and fitted.get("latent_map"):
                state["latent_map"] = fitted["latent_map"]  # the training songs' µ
        prior_test = fitted.get("metrics", {}).get("test") if "prior" in state else None
        controlled = tested.get(dataset, {}).get("models", {}).get(name, {})
        if controlled.get("centroids"):  # each pattern's centroid of the training songs' µ
            state["pattern_centroids"] = named_centroids(dataset, controlled["centroids"])
        target = out_dir / f"{dataset}.pt"
        write_checkpoint(state, target)
        summary_path = folder / "summary.json"
        summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
        evaluated = metrics.get(f"{dataset}/{name}", {})
        cards[dataset] = {
            "file": target.name,
            "dataset": dataset,
            "model": name,
            "window": str(WindowSpec.parse(state["config"]["window"])),
            "profile": profile,
            "config": state["config"],
            "mini_epochs": summary.get("mini_epochs"),
            "instances": summary.get("instances"),
            "minutes": summary.get("minutes"),
            "training": training_text(summary.get("train", {})),
            "validation": {k: round(v, 4) for k, v in state.get("val", {}).items()},
            "qda_accuracy": evaluated.get("qda_accuracy"),  # the paper's protocol
            "qda_chance": evaluated.get("chance"),
            "test_qda": evaluated.get("test_qda"),  # song-disjoint, the test split
            "test_majority": evaluated.get("test_majority"),
            "test_untrained": evaluated.get("test_untrained"),
            "control_test": controlled.get("test", {}).get("mean"),
            "control_test_patterns": controlled.get("test", {}).get("patterns"),
            "control_selection": controlled.get("selection", {}).get("mean"),
            "prior": {k: prior_test[k] for k in PRIOR_CARD if k in prior_test}
            if prior_test
            else None,
            "latent_region": state.get("latent_region"),
            "patterns": state.get("pattern_centroids"),
            "bytes": target.stat().st_size,
        }
    write_text(out_dir / CARD_JSON.name, json.dumps(cards, indent=2) + "\n")
    write_text(out_dir / "MODEL_CARD.md", model_card(cards))
    return cards


def training_text(train: dict) -> str:
    """What a model's training added to Eq. (9), from its summary's `train` settings: e.g.
    "Eq. (9), onset ×2; transposed ±3 semitones; trained in bfloat16"."""
    weights = ", ".join(f"{k} ×{v:g}" for k, v in sorted((train.get("loss_weights") or {}).items()))
    parts = [f"Eq. (9), {weights}" if weights else "Eq. (9)"]
    if train.get("transpose"):
        parts.append(f"transposed ±{train['transpose']} semitones")
    if train.get("mix_gain_db") or train.get("mix_tilt_db"):
        gain, tilt = train.get("mix_gain_db", 0), train.get("mix_tilt_db", 0)
        parts.append(f"mix gain ±{gain:g} dB, tilt ±{tilt:g} dB/oct")
    if train.get("precision", "float32") != "float32":
        parts.append(f"trained in {train['precision']}")
    return "; ".join(parts)


def _num(value, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def model_card(cards: dict[str, dict]) -> str:
    """The Markdown model card of the shipped models."""
    lines = [
        "# Shipped BassNet models",
        "",
        "Written by `bassnet ship-models` (DVC stage `ship`); do not edit by hand.",
        "Each is the VGAE of Grachten et al. (2020) trained by this project's pipeline on one",
        "artificial dataset (paper §5.1, and A5, where the chord instrument implies the pattern;",
        "rendered with FluidSynth and FluidR3_GM): of the models",
        "trained for the dataset, the one with the best control score on the validation songs.",
        "Its figures are measured on the held-out test songs, with 95 % intervals over songs.",
        "",
        "| name | model | window | profile | size | training | minutes "
        "| test QDA (majority; untrained) | control, test songs "
        "| prior p(z\\|x): NLL (training-set density) | pattern at its mode (chance) | default z |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, c in cards.items():
        cfg = c["config"]
        region = c.get("latent_region") or {}
        centre = ", ".join(f"{v:.2f}" for v in region.get("centre", []))
        qda = (f"{score_text(c.get('test_qda'))} ({score_text(c.get('test_majority'))}; "
               f"{score_text(c.get('test_untrained'))})")  # fmt: skip
        prior = c.get("prior") or {}
        nll = f"{score_text(prior.get('nll'))} ({score_text(prior.get('nll_training_density'))})"
        chance = prior.get("mode_pattern_chance")
        mode = f"{score_text(prior.get('mode_pattern'))} ({_num(chance)})"
        lines.append(
            f"| {name} | {c.get('model', '')} | {c['window']} | {c['profile']} "
            f"| {cfg['blocks']} blocks × {cfg['maps']} maps, {c['bytes'] / 1e6:.1f} MB "
            f"| {c['mini_epochs']} × {c['instances']}; {c['training']} "
            f"| {_num(c.get('minutes'), 1)} | {qda} | {score_text(c.get('control_test'))} "
            f"| {nll} | {mode} | ({centre}) |"
        )
    lines += [
        "",
        "Test QDA: p(pattern | µ) fitted on the training songs' µ, scored on the test songs'.",
        "Control: at each pattern's centroid of µ, the share of bass steps (A1–A3: on the",
        "prescribed chord degree) or beats (A4: with the prescribed onsets) the model plays.",
        "Prior: the model's p(z|x) (`generate --z auto`), its mean negative log-likelihood of the",
        "test songs' µ in nats beside the training-set density's (lower is better), and the",
        "pattern at its mode (the QDA regions of the training µ) against the true pattern.",
        "",
        "Intended use: steering a generated bass line for a mix with `bassnet generate`, and",
        "trying the latent control. These small models were trained in minutes on a CPU on",
        "synthetic data; see docs/results.md for what they do and do not do.",
        "",
    ]
    return "\n".join(lines)
