"""The pad's engine without HTTP: the same bass as `bassnet generate`, caches, bad input."""

import io

import mido
import numpy as np
import pytest
import soundfile as sf

from bassnet.errors import AudioError, ConfigError, DataError
from bassnet.generation.config import GenerateConfig
from bassnet.generation.pipeline import MixReader, load_folded, song_curves
from bassnet.serve.pad import pad_extent, pad_png
from bassnet.serve.studio import NotFound, TooLarge
from tests.serve.conftest import make_studio

MODEL = "A1 10-40"


def test_lists_the_trained_and_shipped_models_and_the_dataset_songs(studio):
    assert MODEL in studio.models and {"A1", "A4"} <= set(studio.models)
    songs = studio.song_list()
    assert len(songs) == 2 and all(s["name"] == s["id"].split("/")[-1] for s in songs)
    entry = studio.model(MODEL)
    assert entry.points.shape == (120, 2) and set(entry.labels) == {1, 2, 3}
    described = entry.describe()
    assert described["has_map"] and described["window"] == "10/40"
    x0, x1, y0, y1 = described["extent"]
    assert x1 - x0 == pytest.approx(y1 - y0) and x0 < -1 and x1 > 1  # square, around the region


def test_the_pad_gives_the_same_curves_as_bassnet_generate(studio):
    song_id = studio.song_list()[0]["id"]
    z = [0.3, -0.2]
    result = studio.generate(song_id, MODEL, z=z)
    entry, song = studio.model(MODEL), studio.song(song_id)
    mine = studio._curves(entry, song, np.zeros(1), np.array([z], np.float32))
    reference = song_curves(load_folded(entry.path), MixReader(song.path),
                            lambda t: np.tile(np.float32(z), (len(t), 1)), GenerateConfig(),
                            progress=False)  # fmt: skip
    # equal up to float noise: oneDNN's sums differ with the batch's composition
    assert len(mine) == len(reference)
    np.testing.assert_allclose(mine.level_db, reference.level_db, atol=0.25)
    np.testing.assert_allclose(mine.onset, reference.onset, atol=2e-3)
    assert np.mean(np.abs(mine.f0_hz - reference.f0_hz) < 0.5) > 0.98
    bass, sr = sf.read(io.BytesIO(result.wav))
    assert (sr, len(bass)) == (song.sample_rate, song.samples)
    assert mido.MidiFile(file=io.BytesIO(result.midi)).length == pytest.approx(
        song.seconds, abs=0.02
    )


def test_points_differ_a_point_repeats_and_the_mix_factors_are_kept(studio):
    song_id = studio.song_list()[0]["id"]
    a = studio.generate(song_id, MODEL, z=[-0.8, -0.8])
    assert MODEL in studio.song(song_id).factors  # the mix side is computed once per song
    b = studio.generate(song_id, MODEL, z=[0.8, 0.8])
    again = studio.generate(song_id, MODEL, z=[-0.8, -0.8])
    assert a.wav != b.wav and a.wav == again.wav and a.midi == again.midi


def test_a_path_is_generated_and_exported_as_the_generate_csv(studio, tmp_path):
    from bassnet.generation.latent_path import read_path

    song_id = studio.song_list()[0]["id"]
    path = [[0.0, -0.5, 0.0], [4.0, 0.5, 0.0]]
    result = studio.generate(song_id, MODEL, path=path)
    (tmp_path / "path.csv").write_text(result.path_csv)
    times, points = read_path(tmp_path / "path.csv")
    np.testing.assert_allclose(times, [0, 4])
    np.testing.assert_allclose(points, [[-0.5, 0], [0.5, 0]])
    with pytest.raises(ConfigError, match="ascending"):
        studio.generate(song_id, MODEL, path=[[2, 0, 0], [1, 0, 0]])
    with pytest.raises(ConfigError, match="two finite numbers"):
        studio.generate(song_id, MODEL, z=[0.0, float("nan")])


def test_mix_plus_bass_keeps_the_mix_rate_channels_and_length(studio):
    song_id = studio.song_list()[0]["id"]
    result = studio.generate(song_id, MODEL, z=[0, 0])
    mixed, sr = sf.read(io.BytesIO(studio.mix_with_bass(result.id)), always_2d=True)
    info = sf.info(studio.song_files[song_id])
    assert (sr, len(mixed), mixed.shape[1]) == (info.samplerate, info.frames, info.channels)


def test_uploads_of_audio_in_odd_formats_work_and_bad_ones_are_refused(studio, tmp_path):
    tone = 0.3 * np.sin(2 * np.pi * 110 * np.arange(3 * 8000) / 8000)
    stereo = np.stack([tone, tone], 1)
    buffer = io.BytesIO()
    sf.write(buffer, stereo, 8000, subtype="PCM_24", format="WAV")
    song = studio.add_upload("my song.wav", iter([buffer.getvalue()]))
    assert song.id.startswith("upload-") and song.seconds == pytest.approx(3.0)
    assert studio.generate(song.id, MODEL, z=[0, 0]).notes >= 0
    with pytest.raises(AudioError, match="empty"):
        studio.add_upload("empty.wav", iter([b""]))
    with pytest.raises(AudioError, match="notes.txt: unreadable audio") as err:
        studio.add_upload("notes.txt", iter([b"this is not audio " * 100]))
    assert str(studio.upload_dir) not in str(err.value)  # named as the user named it


def test_limits_on_size_and_length(datasets_dir, models_dir, tmp_path):
    studio = make_studio(datasets_dir, models_dir, tmp_path, max_upload_mb=0.1,
                         max_song_minutes=0.05)  # fmt: skip
    with pytest.raises(TooLarge, match="upload limit of 0.1 MB"):
        studio.add_upload("big.wav", iter([b"\0" * 60_000, b"\0" * 60_000]))
    buffer = io.BytesIO()
    sf.write(buffer, np.zeros(8000 * 4, np.int16), 8000, format="WAV")  # 4 s > 3 s
    with pytest.raises(TooLarge, match="longer than the pad's limit"):
        studio.add_upload("long.wav", iter([buffer.getvalue()]))
    assert not any(p.is_file() for p in (tmp_path / "uploads").rglob("*"))  # nothing kept


def test_unknown_ids_are_named(studio):
    with pytest.raises(NotFound, match="no song 'nope'"):
        studio.generate("nope", MODEL, z=[0, 0])
    with pytest.raises(NotFound, match="no model 'B9'"):
        studio.model("B9")
    with pytest.raises(NotFound, match="no result"):
        studio.result("feed")


def test_the_pad_picture_is_a_square_png_with_or_without_a_map():
    rng = np.random.default_rng(1)
    points = np.r_[rng.normal(-1, 0.2, (50, 2)), rng.normal(1, 0.2, (50, 2))]
    labels = np.repeat([1, 2], 50)
    extent = pad_extent(points, None)
    for png in (pad_png(points, labels, extent, 200), pad_png(None, None, extent, 200)):
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        assert width == height == 200


def test_a_model_file_that_does_not_load_is_listed_unloaded_and_named_when_picked(
    datasets_dir, models_dir, tmp_path
):
    import shutil

    from bassnet.serve.app import create_app

    broken = tmp_path / "models"
    shutil.copytree(models_dir, broken)
    (broken / "A2/40-40").mkdir(parents=True)
    (broken / "A2/40-40/model.pt").write_bytes(b"not a model")
    studio = make_studio(datasets_dir, broken, tmp_path)
    routes = {getattr(r, "path", ""): r for r in create_app(studio).routes}
    names = [m["name"] for m in routes["/api/models"].endpoint()["models"]]
    assert "A1 10-40" in names and "A2 40-40" in names  # listed: nothing is loaded to list
    assert all(entry.model is None for entry in studio.models.values())
    with pytest.raises(DataError, match="A2/40-40/model.pt: not a bassnet model file"):
        routes["/api/models/{name:path}"].endpoint("A2 40-40")
    assert routes["/api/models/{name:path}"].endpoint("A1 10-40")["window"] == "10/40"


def test_the_density_is_the_one_bassnet_generate_follows_and_is_kept_with_the_song(
    studio, datasets_dir
):
    from bassnet.generation.prior_path import song_prior
    from tests.serve.conftest import song_features, tiny_prior

    song_id = studio.song_list()[0]["id"]
    density = studio.density(song_id, MODEL)
    assert studio.song(song_id).densities[MODEL] is density  # kept: asked once per song
    assert studio.density(song_id, MODEL) is density
    prior = tiny_prior(song_features(datasets_dir))
    times, weights = song_prior(prior, MixReader(studio.song(song_id).path),
                                GenerateConfig())  # fmt: skip
    np.testing.assert_allclose(density["times"], times)
    # the same up to the CQT's float noise at the edges of generate's segments
    np.testing.assert_allclose(density["weights"], weights, atol=5e-3)
    assert studio.model(MODEL).describe()["has_prior"]
    assert not studio.model("A2 10-40").describe()["has_prior"]


def test_a_model_file_with_a_broken_prior_is_named_and_still_generates(
    datasets_dir, models_dir, tmp_path
):
    import shutil

    from tests.conftest import save_tiny_model
    from tests.serve.conftest import song_features, tiny_prior

    models = tmp_path / "models"
    shutil.copytree(models_dir, models)
    state = tiny_prior(song_features(datasets_dir)).to_state()
    state["state_dict"]["covariances"][1] = -state["state_dict"]["covariances"][1]
    save_tiny_model(models / "A1/10-40/model.pt", seed=0, prior=state)
    studio = make_studio(datasets_dir, models, tmp_path)
    song_id = studio.song_list()[0]["id"]
    with pytest.raises(DataError, match="A1/10-40/model.pt: its prior p\\(z\\|x\\) has invalid"):
        studio.density(song_id, MODEL)
    assert studio.generate(song_id, MODEL, z=[0.0, 0.0]).notes >= 0
    with pytest.raises(NotFound, match="model A2 10-40 has no prior p\\(z\\|x\\)"):
        studio.density(song_id, "A2 10-40")
