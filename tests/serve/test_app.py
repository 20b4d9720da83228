"""The pad's HTTP API on a real local port: routes, exports, bad input, concurrent requests."""

import io
import json
import threading
import urllib.error
import urllib.request
from urllib.parse import quote

import mido
import numpy as np
import soundfile as sf

MODEL = "A1 10-40"


def call(url, data=None, json_body=None, method=None, headers=None):
    """(status, body bytes, headers) of a request; HTTP errors are returned, not raised. A body
    goes as application/octet-stream (an upload) or JSON, unless `headers` say otherwise."""
    sent = {"Content-Type": "application/octet-stream"} if data is not None else {}
    if json_body is not None:
        data, sent = json.dumps(json_body).encode(), {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, headers={**sent, **(headers or {})},
                                     method=method)  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as err:
        return err.code, err.read(), err.headers


def first_song(server):
    status, body, _ = call(f"{server}/api/songs")
    assert status == 200
    return json.loads(body)["songs"][0]["id"]


def test_page_models_pad_and_songs(server):
    status, body, headers = call(f"{server}/")
    assert status == 200 and b'id="pad"' in body and "text/html" in headers["content-type"]
    assert call(f"{server}/static/pad.js")[0] == 200
    models = json.loads(call(f"{server}/api/models")[1])["models"]
    assert MODEL in [m["name"] for m in models]
    status, png, headers = call(f"{server}/api/models/{MODEL.replace(' ', '%20')}/pad.png")
    assert status == 200 and png.startswith(b"\x89PNG") and headers["content-type"] == "image/png"
    song = first_song(server)
    status, mix, _ = call(f"{server}/api/songs/{song}/mix")
    assert status == 200 and sf.info(io.BytesIO(mix)).frames > 0


def test_generate_and_export_every_file(server):
    song = first_song(server)
    request = {"song": song, "model": MODEL, "path": [[0, -1, 0], [6, 1, 0]]}
    status, body, _ = call(f"{server}/api/generate", json_body=request)
    assert status == 200, body
    result = json.loads(body)
    assert set(result["urls"]) == {"bass_wav", "midi", "mix_wav", "path_csv"}
    files = {k: call(server + url) for k, url in result["urls"].items()}
    assert all(status == 200 for status, _, _ in files.values())
    assert "attachment" in files["midi"][2]["content-disposition"]
    assert sf.info(io.BytesIO(files["bass_wav"][1])).channels == 1
    assert sf.info(io.BytesIO(files["mix_wav"][1])).frames == sf.info(io.BytesIO(
        files["bass_wav"][1])).frames  # fmt: skip
    mido.MidiFile(file=io.BytesIO(files["midi"][1]))  # parses
    assert files["path_csv"][1].decode().splitlines()[0] == "time_s,z1,z2"


def test_bad_requests_get_clear_messages_and_the_server_stays_up(server, tmp_path):
    song = first_song(server)
    cases = [
        (call(f"{server}/api/songs?name=empty.wav", data=b"", method="POST"), 400, "empty"),
        (call(f"{server}/api/songs?name=a.txt", data=b"no audio here" * 50), 400,
         "a.txt: unreadable audio"),
        (call(f"{server}/api/generate", json_body={"song": "x", "model": MODEL, "z": [0, 0]}),
         404, "no song 'x'"),
        (call(f"{server}/api/generate", json_body={"song": song, "model": "B9", "z": [0, 0]}),
         404, "no model 'B9'"),
        (call(f"{server}/api/generate", json_body={"song": song, "model": MODEL, "z": [1]}),
         400, "two finite numbers"),
        (call(f"{server}/api/results/nope/bass.wav"), 404, "no result"),
    ]  # fmt: skip
    for (status, body, _), want_status, want_text in cases:
        assert status == want_status and want_text in json.loads(body)["detail"], body
    # one hour of 8 kHz mono audio: above serve.max_song_minutes, refused by length
    hour = tmp_path / "hour.wav"
    with sf.SoundFile(hour, "w", 8000, 1, subtype="PCM_16") as out:
        for _ in range(60):
            out.write(np.zeros(8000 * 60, np.int16))
    status, body, _ = call(f"{server}/api/songs?name=hour.wav", data=hour.read_bytes())
    assert status == 413 and "60.0 min is longer than the pad's limit" in json.loads(body)["detail"]
    assert call(f"{server}/api/models")[0] == 200  # still up


def test_concurrent_requests_each_get_an_answer(server):
    song = first_song(server)
    answers = []

    def ask(i):
        z = [i / 4 - 0.5, 0.0]
        answers.append(call(f"{server}/api/generate", json_body={"song": song, "model": MODEL,
                                                                 "z": z}))  # fmt: skip

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 5
    for status, body, _ in answers:  # served in turn, or told clearly that the server is busy
        assert status == 200 or (status == 503 and "busy" in json.loads(body)["detail"])
    ids = {json.loads(body)["id"] for status, body, _ in answers if status == 200}
    assert len(ids) == sum(status == 200 for status, _, _ in answers) >= 1


def test_the_serve_command_starts_on_localhost_and_answers(datasets_dir, models_dir):
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "bassnet.cli", "serve", "--port", str(port),
               "--models", str(models_dir), "--songs", str(datasets_dir),
               "--latent", str(models_dir / "latent_points.json")]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        banner = process.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in banner and "2 songs" in banner, banner
        deadline, status = time.time() + 60, None
        while time.time() < deadline and status != 200:
            try:
                status = call(f"http://127.0.0.1:{port}/api/songs")[0]
            except OSError:
                time.sleep(0.2)
        assert status == 200
    finally:
        process.terminate()
        process.wait(30)


def density_url(server, model, song):
    return f"{server}/api/density?model={quote(model)}&song={quote(song)}"


def test_the_density_of_a_song_from_the_models_prior(server):
    from tests.serve.conftest import PRIOR_MEANS, PRIOR_SD

    song = first_song(server)
    status, body, headers = call(density_url(server, MODEL, song))
    assert status == 200 and headers["content-type"] == "application/json", body
    density = json.loads(body)
    assert (density["model"], density["song"], density["hop_s"]) == (MODEL, song, 0.25)
    np.testing.assert_allclose(density["means"], PRIOR_MEANS, atol=1e-6)
    np.testing.assert_allclose(density["covariances"], np.tile(PRIOR_SD**2 * np.eye(2), (3, 1, 1)),
                               atol=1e-6)  # fmt: skip
    np.testing.assert_allclose(density["prior_weights"], [0.5, 0.3, 0.2], atol=1e-6)
    times, weights = np.array(density["times"]), np.array(density["weights"])
    seconds = sf.info(io.BytesIO(call(f"{server}/api/songs/{song}/mix")[1])).duration
    assert weights.shape == (len(times), 3)
    np.testing.assert_allclose(times, 0.25 * np.arange(len(times)))  # the whole song
    assert seconds - 0.25 <= times[-1] < seconds
    assert np.all(weights >= 0) and np.allclose(weights.sum(1), 1, atol=5e-4)
    assert np.all(weights == weights.round(4))
    np.testing.assert_allclose(density["average"], weights.mean(0), atol=1e-4)
    assert np.ptp(weights, axis=0).max() > 0.1  # this prior hears the mix change
    again = json.loads(call(density_url(server, MODEL, song))[1])
    assert again == density


def test_a_model_without_a_prior_gets_a_clear_answer_and_bad_ids_theirs(server):
    song = first_song(server)
    cases = [
        (density_url(server, "A2 10-40", song), 404, "model A2 10-40 has no prior p(z|x)"),
        (density_url(server, "B9", song), 404, "no model 'B9'"),
        (density_url(server, MODEL, "nope"), 404, "no song 'nope'"),
    ]
    for url, want_status, want_text in cases:
        status, body, _ = call(url)
        assert status == want_status and want_text in json.loads(body)["detail"], body


def test_a_model_named_by_its_path_loads_and_draws(server, models_dir):
    path = str(models_dir / "A2/10-40/model.pt")
    listed = json.loads(urllib.request.urlopen(f"{server}/api/models").read())["models"]
    assert path in {m["name"] for m in listed}
    described = json.loads(urllib.request.urlopen(f"{server}/api/models/{quote(path, safe='')}")
                           .read())  # fmt: skip
    assert described["window"] == "10/40"
    png = urllib.request.urlopen(f"{server}/api/models/{quote(path, safe='')}/pad.png").read()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
