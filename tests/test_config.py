"""params.yaml: profiles merge over shared settings into validated, typed configs."""

import pytest

from bassnet.config import PACKAGED_PARAMS, REPO_PARAMS, RenderConfig, find_params, load_params
from bassnet.errors import ConfigError

FOREIGN = "stages: [prepare, train]\ntrain:\n  seed: 20170428\n  n_est: 50\n"  # a DVC project's


def test_profiles_override_shared_settings():
    default = RenderConfig.from_params(load_params(REPO_PARAMS, "default"))
    paper = RenderConfig.from_params(load_params(REPO_PARAMS, "paper"))
    assert (paper.songs, paper.seconds, paper.sample_rate) == (1000, 60, 44100)
    assert default.songs < paper.songs
    assert default.soundfont == paper.soundfont  # shared
    assert set(default.seeds) == set(default.test_seeds) == {"A1", "A2", "A3", "A4", "A5"}


def test_unknown_profile_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="unknown profile 'huge'"):
        load_params(REPO_PARAMS, "huge")
    with pytest.raises(ConfigError, match="no params file"):
        load_params(tmp_path / "none.yaml")


def test_the_packaged_parameters_are_the_checkouts_file_through_a_link():
    """One file, so the two cannot differ; setuptools packs the link's target."""
    import tomllib

    assert PACKAGED_PARAMS.is_symlink() and PACKAGED_PARAMS.samefile(REPO_PARAMS)
    pyproject = tomllib.loads((REPO_PARAMS.parent / "pyproject.toml").read_text())
    assert "params.yaml" in pyproject["tool"]["setuptools"]["package-data"]["bassnet"]


def test_a_foreign_params_yaml_is_passed_over_with_one_note(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "params.yaml").write_text(FOREIGN)
    assert find_params() == PACKAGED_PARAMS
    from bassnet.config import SOURCE_KEY

    loaded, repo = load_params(), load_params(REPO_PARAMS)
    assert loaded.pop(SOURCE_KEY) == str(PACKAGED_PARAMS)
    repo.pop(SOURCE_KEY)
    assert loaded == repo
    note = capsys.readouterr().err.splitlines()
    assert note == [
        "bassnet: note: ./params.yaml is not bassnet's (no `profiles` section); using the "
        f"packaged parameters ({PACKAGED_PARAMS})"
    ]  # once per process, however often the parameters are read


def test_a_bassnet_params_yaml_in_the_working_folder_is_used(tmp_path, monkeypatch, capsys):
    import yaml

    raw = yaml.safe_load(REPO_PARAMS.read_text())
    raw["serve"]["port"] = 8123
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    monkeypatch.chdir(tmp_path)
    assert find_params().resolve() == tmp_path / "params.yaml"
    assert load_params()["serve"]["port"] == 8123
    assert capsys.readouterr().err == ""


def test_without_a_params_yaml_the_packaged_parameters_apply(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert find_params() == PACKAGED_PARAMS


def test_a_foreign_params_file_given_by_name_is_an_error(tmp_path):
    foreign = tmp_path / "theirs.yaml"
    foreign.write_text(FOREIGN)
    with pytest.raises(ConfigError, match="theirs.yaml: not a bassnet params file"):
        load_params(foreign)


def test_missing_key_is_named(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("profile: p\nrender: {songs: 3}\nprofiles: {p: {}}\n")
    with pytest.raises(ConfigError, match="missing keys .*'seconds'"):
        RenderConfig.from_params(load_params(params))


def test_feature_config_checks_are_named():
    import dataclasses

    from bassnet.config import FeatureConfig

    cfg = FeatureConfig.from_params(load_params(REPO_PARAMS, "default"))
    assert cfg.crepe_model == "tiny" and cfg.f0_stride == 2
    paper = FeatureConfig.from_params(load_params(REPO_PARAMS, "paper"))
    assert paper.crepe_model == "full" and paper.f0_stride == 1
    with pytest.raises(ConfigError, match="crepe_model"):
        dataclasses.replace(cfg, crepe_model="huge")
    with pytest.raises(ConfigError, match="f0 range"):
        dataclasses.replace(cfg, f0_fmin_hz=20.0)


def test_transpose_is_whole_semitones_up_to_an_octave():
    import dataclasses

    from bassnet.training.config import TrainConfig

    cfg = TrainConfig.from_params(load_params(REPO_PARAMS, "default"))
    assert dataclasses.replace(cfg, transpose=3).transpose == 3
    for bad in (-1, 13, 1.5):
        with pytest.raises(ConfigError, match="transpose"):
            dataclasses.replace(cfg, transpose=bad)


def test_mix_recolouring_is_off_in_both_profiles_and_bounded():
    import dataclasses

    from bassnet.training.config import TrainConfig

    for profile in ("default", "paper"):
        cfg = TrainConfig.from_params(load_params(REPO_PARAMS, profile))
        assert cfg.mix_gain_db == 0 and cfg.mix_tilt_db == 0
    assert dataclasses.replace(cfg, mix_gain_db=8.7, mix_tilt_db=1.2).mix_tilt_db == 1.2
    for field, bad in (("mix_gain_db", -1.0), ("mix_gain_db", 41.0), ("mix_tilt_db", 13.0)):
        with pytest.raises(ConfigError, match=field):
            dataclasses.replace(cfg, **{field: bad})


def test_one_models_settings_merge_over_the_shared_ones_for_that_model_only():
    from bassnet.training.config import TrainConfig

    params = load_params(REPO_PARAMS, "default")
    own = {"max_mini_epochs": 60, "transpose": 3, "loss_weights": {"onset": 2}}
    params["train"] = {**params["train"], "models": {"A1/40-40": own}}
    shared = TrainConfig.from_params(params)
    a1 = TrainConfig.from_params(params, "A1/40-40")
    assert (a1.max_mini_epochs, a1.transpose, a1.loss_weights) == (60, 3, {"onset": 2})
    assert a1.learning_rate == shared.learning_rate  # what the entry leaves out stays shared
    assert TrainConfig.from_params(params, "A1/40/40") == a1  # a window written either way
    for other in ("A2/40-40", "A1/10-640", "A1/40-40-ablation"):
        assert TrainConfig.from_params(params, other) == shared
    # the command line's settings win over the entry
    assert TrainConfig.from_params(params, "A1/40-40", {"max_mini_epochs": 2}).max_mini_epochs == 2


def test_one_models_model_settings_merge_over_the_model_section_for_that_model_only():
    from bassnet.training.config import TrainConfig, model_config

    params = load_params(REPO_PARAMS, "default")
    entry = {"max_mini_epochs": 30, "model": {"maps": 16}}
    params["train"] = {**params["train"], "models": {"A1/40-40": entry}}
    assert model_config(params, "40/40", "A1/40-40").maps == 16
    assert model_config(params, "40/40", "A1/40-40").blocks == params["model"]["blocks"]
    for other in ("A2/40-40", "A1/40-40-ablation", None):
        assert model_config(params, "40/40", other).maps == params["model"]["maps"]
    # the entry's `model` settings are not train's
    assert TrainConfig.from_params(params, "A1/40-40").max_mini_epochs == 30


@pytest.mark.parametrize(
    ("models", "message"),
    [
        ({"A1": {"seed": 1}}, "'A1' is not a model folder"),
        ({"A1/40-40": 5}, "must map model folders"),
        ({"A1/40-40": {"max_mini_epoch": 3}}, r"train.models\[A1/40-40\].*unknown keys"),
        ({"A4/40-40": {"transpose": 20}}, r"train.models\[A4/40-40\].*transpose"),
        ({"A4/40-40": {"model": {"maps": 0}}}, r"train.models\[A4/40-40\].*maps"),
        ({"A4/40-40": {"model": {"mapz": 16}}}, r"train.models\[A4/40-40\].*unknown keys"),
        ({"A4/40-40-ablation": {"model": 16}}, r"`model` must map"),
        ({"A4/50": {"seed": 1}}, r"train.models\[A4/50\].*window"),
    ],
)
def test_a_bad_model_entry_is_named_whichever_model_is_built(models, message):
    from bassnet.training.config import TrainConfig

    params = load_params(REPO_PARAMS, "default")
    params["train"] = {**params["train"], "models": models}
    with pytest.raises(ConfigError, match=message):
        TrainConfig.from_params(params)  # the evaluation's view, say, not only A1's training


def test_the_model_sections_view_of_a_malformed_models_entry_is_a_named_error():
    from bassnet.training.config import model_config

    params = load_params(REPO_PARAMS, "default")
    params["train"] = {**params["train"], "models": [{"maps": 16}]}
    with pytest.raises(ConfigError, match="train.models must map model folders"):
        model_config(params, "40/40", "A1/40-40")  # `bassnet train` reads it before `train`


def test_the_default_profiles_control_models_have_their_own_windows_and_settings():
    from bassnet.config import ControlConfig
    from bassnet.training.config import TrainConfig, control_model, model_config

    params = load_params(REPO_PARAMS, "default")
    assert set(ControlConfig.from_params(params).models) == {"A1", "A4", "A5"}
    own, key, window = control_model(params, "A4")
    assert (key, window) == ("A4/80-80-control", "80-80")
    assert TrainConfig.from_params(own, model=key).posterior_noise == 0
    assert TrainConfig.from_params(params).posterior_noise == 1  # the matrix: Eq. (9)
    assert model_config(own, window, key).maps == 16
    assert model_config(params, "40-40", "A4/40-40").maps == 8  # only the control model's
    bad = {**params, "control": {"models": {"A4": {"window": "80-80", "transpose": -1}}}}
    with pytest.raises(ConfigError, match=r"control.models\[A4\]: .*transpose"):
        control_model(bad, "A4")
    with pytest.raises(ConfigError, match="window"):
        ControlConfig.from_params({"control": {"models": {"A4": {"maps": 16}}}})


def test_the_gpu_profile_is_larger_than_the_default_and_runs_every_stage_on_cuda():
    from bassnet.config import ControlConfig, FeatureConfig
    from bassnet.profiles import dvc_set_args
    from bassnet.training.config import TrainConfig, control_model, model_config

    default, gpu = load_params(REPO_PARAMS, "default"), load_params(REPO_PARAMS, "gpu")
    small, large = RenderConfig.from_params(default), RenderConfig.from_params(gpu)
    assert large.songs > small.songs and large.test_songs > small.test_songs
    features = FeatureConfig.from_params(gpu)
    assert (features.crepe_model, features.f0_stride, features.device) == ("full", 1, "cuda")
    train = TrainConfig.from_params(gpu)
    assert train.device == "cuda" and train.batch_size > TrainConfig.from_params(default).batch_size
    for window in train.windows:
        assert model_config(gpu, window).maps > model_config(default, window).maps
    assert gpu["evaluate"]["device"] == "cuda" and ControlConfig.from_params(gpu).device == "cuda"
    for dataset in ("A1", "A4"):  # the control models of `train-control@A1`, `@A4`
        own, key, window = control_model(gpu, dataset)
        assert TrainConfig.from_params(own, model=key).device == "cuda"
    assert "evaluate" not in default or "device" not in default["evaluate"]  # cpu, as before
    assert ControlConfig.from_params(default).device == "cpu"
    flags = dvc_set_args("gpu", REPO_PARAMS)
    assert flags[:2] == ["-S", "profile=gpu"]
    assert f"train.windows=[{','.join(train.windows)}]" in flags
