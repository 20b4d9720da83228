"""The models shipped in the package, and the command that ships them."""

import json

import pytest
import torch

from bassnet.cli import main
from bassnet.errors import ConfigError, DataError
from bassnet.model import BassNet, ModelConfig
from bassnet.pretrained import available, resolve
from bassnet.pretrained.ship import ship


def test_ship_copies_models_in_half_precision_with_a_card(tmp_path):
    torch.manual_seed(0)
    model = BassNet(ModelConfig(window="10/40", maps=2, blocks=2, head_maps=2)).eval()
    region = {"centre": [0.1, 0.2], "low": [-1.0, -1.0], "high": [1.0, 1.0]}
    (tmp_path / "models/A1/10-40").mkdir(parents=True)
    model.save(tmp_path / "models/A1/10-40/model.pt", val={"f0": 2.0}, latent_region=region)
    (tmp_path / "models/A1/10-40/summary.json").write_text(
        json.dumps({"mini_epochs": 3, "instances": 60, "train": {
            "transpose": 3, "loss_weights": {"onset": 2}, "mix_gain_db": 0, "mix_tilt_db": 0}})
    )  # fmt: skip
    latent = {"A1/10-40": {"points": [[0.1, 0.2], [0.3, -0.1]], "labels": [1, 2]}}
    (tmp_path / "latent.json").write_text(json.dumps(latent))
    cards = ship(tmp_path / "models", ["A1"], "10-40", "default", None, tmp_path / "out",
                 tmp_path / "latent.json")  # fmt: skip
    assert cards["A1"]["latent_region"] == region and cards["A1"]["mini_epochs"] == 3
    shipped = BassNet.load(tmp_path / "out/A1.pt")
    x = torch.randn(2, 3, 10, 264) - 7
    z = torch.zeros(2, 2)
    with torch.no_grad():
        want = model.generate(model.mix_factors(x), z)
        got = shipped.generate(shipped.mix_factors(x), z)
    assert torch.allclose(got, want, atol=0.05)  # float16 weights, float32 compute
    stored = torch.load(tmp_path / "out/A1.pt", weights_only=True)
    assert stored["state_dict"]["latent_weight"].dtype == torch.float16
    assert stored["latent_map"] == latent["A1/10-40"]  # the pad's map travels with the model
    assert json.loads((tmp_path / "out/models.json").read_text()) == cards
    card = (tmp_path / "out/MODEL_CARD.md").read_text()
    assert "| A1 | 10-40 | 10/40 | default |" in card
    # how the model was trained beyond Eq. (9), from its summary's settings
    assert "| 3 × 60; Eq. (9), onset ×2; transposed ±3 semitones |" in card
    with pytest.raises(DataError, match="no trained model"):
        ship(tmp_path / "models", ["A2"], "10-40", "default", None, tmp_path / "out")


def test_ship_ships_the_model_the_control_stage_selected_with_its_test_figures(tmp_path):
    torch.manual_seed(0)
    for name, window in (("40-40", "40/40"), ("control", "80/80")):
        model = BassNet(ModelConfig(window=window, maps=2, blocks=2, head_maps=2)).eval()
        (tmp_path / "models/A4" / name).mkdir(parents=True)
        model.save(tmp_path / "models/A4" / name / "model.pt")
    score = {"value": 0.83, "low": 0.78, "high": 0.88, "songs": 20, "windows": 2400}
    control = {"selected": "control", "models": {
        "40-40": {"test": {"mean": {**score, "value": 0.4}}, "selection": {"mean": score}},
        "control": {"test": {"mean": score, "patterns": {"1": score}},
                    "selection": {"mean": score}}}}  # fmt: skip
    (tmp_path / "control").mkdir()
    (tmp_path / "control/A4.json").write_text(json.dumps(control))
    evaluation = {"A4/control": {"test_qda": {**score, "value": 0.61}}}
    (tmp_path / "evaluation.json").write_text(json.dumps(evaluation))
    cards = ship(tmp_path / "models", ["A4"], "40-40", "default", tmp_path / "evaluation.json",
                 tmp_path / "out", None, tmp_path / "control")  # fmt: skip
    card = cards["A4"]
    assert card["model"] == "control" and card["window"] == "80/80"
    assert card["control_test"]["value"] == 0.83 and card["test_qda"]["value"] == 0.61
    assert str(BassNet.load(tmp_path / "out/A4.pt").config.spec) == "80/80"
    text = (tmp_path / "out/MODEL_CARD.md").read_text()
    assert "0.830 [0.780, 0.880]" in text and "0.610 [0.780, 0.880]" in text
    # without the control stage's choice, the window's model ships
    cards = ship(tmp_path / "models", ["A4"], "40-40", "default", None, tmp_path / "out2")
    assert cards["A4"]["model"] == "40-40" and cards["A4"]["control_test"] is None


def test_resolve_names_paths_and_unknowns(tmp_path):
    path = tmp_path / "m.pt"
    path.write_bytes(b"x")
    assert resolve(str(path)) == path
    with pytest.raises(ConfigError, match="no model 'nope'"):
        resolve("nope")


def test_the_package_ships_small_a1_to_a5_models_each_with_its_prior(capsys):
    from bassnet.model.prior import LatentPrior

    shipped = available()
    assert set(shipped) == {"A1", "A2", "A3", "A4", "A5"}
    assert sum(c["bytes"] for c in shipped.values()) < 8e6  # a few MB in all
    for name, card in shipped.items():
        model = BassNet.load(resolve(name))
        assert str(model.config.spec) == card["window"]
        assert LatentPrior.from_state(model.extra["prior"]).components >= 1
        assert card["prior"]["nll"]["songs"] >= 2
    assert main(["models"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in listed] == list(shipped)
    assert all(card["window"] in line for line, card in zip(listed, shipped.values(), strict=True))


def test_the_card_names_what_training_added_to_eq9_bf16_included():
    from bassnet.pretrained.ship import training_text

    assert training_text({}) == "Eq. (9)"
    text = training_text({"loss_weights": {"onset": 2}, "transpose": 3, "precision": "bfloat16"})
    assert text == "Eq. (9), onset ×2; transposed ±3 semitones; trained in bfloat16"
    assert "trained in" not in training_text({"precision": "float32"})
