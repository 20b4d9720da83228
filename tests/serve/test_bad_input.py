"""The pad's server under bad and hostile requests: other sites, crafted model files, odd upload
names, uploads that would decode huge, far-away z, SIGTERM. Table-driven: one row per case."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import tracemalloc
from urllib.parse import quote

import numpy as np
import pytest
import soundfile as sf

from bassnet.errors import AudioError, ConfigError, DataError
from bassnet.serve.studio import read_16k_blocks
from tests.serve.conftest import make_studio
from tests.serve.test_app import MODEL, call, first_song
from tests.test_bad_input import crafted_files


def wav_bytes(seconds: float = 2.0, sr: int = 8000, channels: int = 1, fmt: str = "WAV") -> bytes:
    """A quiet tone as audio file bytes."""
    t = np.arange(int(seconds * sr)) / sr
    tone = 0.2 * np.sin(2 * np.pi * 110 * t)
    out = io.BytesIO()
    sf.write(out, np.tile(tone[:, None], (1, channels)), sr, format=fmt, subtype="PCM_16")
    return out.getvalue()


# --- cross-site requests -------------------------------------------------------------------
def cross_site_cases(server: str, song: str) -> list[tuple[str, dict, int, str]]:
    """(what, request, expected status, text in the answer's detail)."""
    host = server.removeprefix("http://")
    generate = {"song": song, "model": MODEL, "z": [0, 0]}
    upload = f"{server}/api/songs?name=a.wav"
    return [
        ("upload as text/plain (a form needs no preflight for it)",
         dict(url=upload, data=wav_bytes(), headers={"Content-Type": "text/plain"}), 415,
         "application/octet-stream or audio/*"),
        ("upload as a urlencoded form",
         dict(url=upload, data=wav_bytes(),
              headers={"Content-Type": "application/x-www-form-urlencoded"}), 415, "not "),
        ("upload as a multipart form",
         dict(url=upload, data=wav_bytes(), headers={"Content-Type": "multipart/form-data"}),
         415, "not multipart/form-data"),
        ("upload without a content type",
         dict(url=upload, data=wav_bytes(), headers={"Content-Type": ""}), 415,
         "no content type"),
        ("generate as text/plain",
         dict(url=f"{server}/api/generate", data=json.dumps(generate).encode(),
              headers={"Content-Type": "text/plain"}), 415, "application/json"),
        ("generate from another site",
         dict(url=f"{server}/api/generate", json_body=generate,
              headers={"Origin": "http://evil.example"}), 403, "another site"),
        ("upload from another site",
         dict(url=upload, data=wav_bytes(), headers={"Origin": "http://evil.example"}), 403,
         "another site"),
        ("generate from an opaque origin",
         dict(url=f"{server}/api/generate", json_body=generate, headers={"Origin": "null"}),
         403, "another site"),
        ("the same host on another port",
         dict(url=f"{server}/api/generate", json_body=generate,
              headers={"Origin": "http://127.0.0.1:1"}), 403, "another site"),
        ("a read through DNS rebinding (another name for 127.0.0.1)",
         dict(url=f"{server}/api/songs", headers={"Host": "evil.example"}), 403,
         "not served as 'evil.example'"),
        ("a write through DNS rebinding",
         dict(url=f"{server}/api/generate", json_body=generate,
              headers={"Host": "evil.example:80", "Origin": "http://evil.example:80"}), 403,
         "not served as"),
        ("the page itself: same origin", dict(url=f"{server}/api/generate", json_body=generate,
                                              headers={"Origin": f"http://{host}"}), 200, ""),
        ("localhost is this machine", dict(url=f"{server}/api/songs",
                                           headers={"Host": host.replace("127.0.0.1",
                                                                         "localhost")}), 200, ""),
    ]  # fmt: skip


def test_cross_site_requests_are_refused_and_same_site_ones_served(server):
    song = first_song(server)
    for what, request, want, text in cross_site_cases(server, song):
        url = request.pop("url")
        status, body, _ = call(url, **request)
        assert status == want, (what, status, body)
        if want != 200:
            assert text in json.loads(body)["detail"], (what, body)


# --- model files: listed without loading, loaded on a pick, nothing in them runs ----------
def test_a_crafted_model_is_listed_unloaded_and_refused_when_picked(datasets_dir, models_dir,
                                                                    tmp_path):  # fmt: skip
    import shutil

    from bassnet.serve.app import create_app

    marker = tmp_path / "ran"
    folder = tmp_path / "models"
    shutil.copytree(models_dir, folder)
    for kind, evil in crafted_files(tmp_path / "evil", marker).items():
        (folder / f"A9/{kind}").mkdir(parents=True)
        shutil.copy(evil, folder / f"A9/{kind}/model.pt")
    studio = make_studio(datasets_dir, folder, tmp_path)
    routes = {r.path: r.endpoint for r in create_app(studio).routes if hasattr(r, "endpoint")}
    listed = routes["/api/models"]()["models"]
    assert {"A9 zip", "A9 legacy"} <= {m["name"] for m in listed}
    assert not marker.exists() and all(e.model is None for e in studio.models.values())
    for name in ("A9 zip", "A9 legacy"):  # a DataError: the app answers 400 with its text
        with pytest.raises(DataError, match="not a bassnet model file"):
            routes["/api/models/{name:path}"](name)
        with pytest.raises(DataError, match="not a bassnet model file"):
            routes["/api/models/{name:path}/pad.png"](name)
    assert not marker.exists()
    assert routes["/api/models/{name:path}"](MODEL)["window"] == "10/40"


def test_serve_offers_only_the_models_the_user_names(tmp_path, monkeypatch):
    from bassnet.serve.studio import shipped_and_trained

    marker = tmp_path / "ran"
    evil = crafted_files(tmp_path / "evil", marker)["zip"]
    (tmp_path / "models/A1/40-40").mkdir(parents=True)
    evil.replace(tmp_path / "models/A1/40-40/model.pt")
    monkeypatch.chdir(tmp_path)  # ./models is not searched unless named
    assert all(" " not in name for name in shipped_and_trained(None))  # shipped ones only
    assert "A1 40-40" in shipped_and_trained(tmp_path / "models")
    with pytest.raises(DataError, match="not a bassnet model"):
        from bassnet.generation.pipeline import load_folded

        load_folded(tmp_path / "models/A1/40-40/model.pt")
    assert not marker.exists()


# --- uploads: names, rates, channels, bounded decoding ------------------------------------
BAD_NAMES = ["..", ".", "a" * 300 + ".wav", "a\x00b.wav", "tab\there.wav", "x/.."]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_upload_names_are_400_with_a_message(server, name):
    status, body, _ = call(f"{server}/api/songs?name={quote(name)}", data=wav_bytes())
    assert status == 400, (name, status, body)
    assert "upload name" in json.loads(body)["detail"]


UPLOADS = [  # (what, bytes, error class, message)
    ("192 kHz", lambda: wav_bytes(1.0, sr=192_000), AudioError, "192000 Hz; the pad takes 8–96"),
    ("4 kHz", lambda: wav_bytes(1.0, sr=4000), AudioError, "4000 Hz"),
    ("9 channels", lambda: wav_bytes(1.0, channels=9), AudioError, "9 channels"),
    ("a bad name", lambda: wav_bytes(), ConfigError, "upload name"),
]  # fmt: skip


@pytest.mark.parametrize(("what", "data", "error", "message"), UPLOADS)
def test_uploads_beyond_the_pads_formats_are_refused_from_the_header(studio, what, data, error,
                                                                     message):  # fmt: skip
    name = "\x00.wav" if what == "a bad name" else "song.wav"
    with pytest.raises(error, match=message):
        studio.add_upload(name, iter([data()]))
    assert not any(p.is_file() for p in studio.upload_dir.rglob("*"))  # nothing kept


def test_an_upload_is_decoded_in_bounded_memory(studio, tmp_path):
    """60 s of 8-channel 96 kHz silence: 0.1 MB as FLAC, 184 MB as float32 at its rate and
    channels (what the pad decoded before). Decoded in blocks, Python's allocations peak at
    a small part of that."""
    path = tmp_path / "wide.flac"
    with sf.SoundFile(path, "w", 96_000, 8, format="FLAC", subtype="PCM_16") as out:
        for _ in range(60):
            out.write(np.zeros((96_000, 8), np.int16))
    whole = 60 * 96_000 * 8 * 4
    from bassnet.generation.pipeline import MixReader

    mix = MixReader(path)
    tracemalloc.start()
    try:
        audio = read_16k_blocks(mix)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(audio) == 60 * 16_000
    assert peak < 0.15 * whole, f"peak {peak / 1e6:.0f} MB of {whole / 1e6:.0f} MB"
    # the same samples as one read of the whole file
    np.testing.assert_array_equal(audio, mix.read_16k(0, 60 * 16_000))
    song = studio.add_upload("wide.flac", iter([path.read_bytes()]))
    assert song.seconds == pytest.approx(60.0)


def test_blocks_give_the_samples_of_one_read(studio):
    from bassnet.generation.pipeline import MixReader

    song = studio.song_list()[0]["id"]
    mix = MixReader(studio.song_files[song])
    whole = mix.read_16k(0, round(mix.seconds * 16_000))
    np.testing.assert_allclose(read_16k_blocks(mix, block_s=1.3), whole, atol=1e-6)


# --- z far away --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [{"z": [1e39, 0]}, {"z": [0, -2000]}, {"path": [[0, 1e39, 0], [1, 0, 0]]},
     {"path": [[0, 0, 0], [1, 0, 5000]]}],
)  # fmt: skip
def test_far_away_z_is_400(server, body):
    request = {"song": first_song(server), "model": MODEL, **body}
    status, answer, _ = call(f"{server}/api/generate", json_body=request)
    assert status == 400 and "±1000" in json.loads(answer)["detail"], answer


# --- SIGTERM removes the uploads, as Ctrl-C does ------------------------------------------
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_stopping_the_server_removes_its_uploads(stop, datasets_dir, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "bassnet.cli", "serve", "--port", str(port),
               "--songs", str(datasets_dir)]  # fmt: skip
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, env=env)  # fmt: skip
    try:
        assert "BassNet pad on" in process.stdout.readline()
        deadline, status = time.time() + 60, None
        while time.time() < deadline and status != 200:
            try:
                status, body, _ = call(f"http://127.0.0.1:{port}/api/songs?name=up.wav",
                                       data=wav_bytes())  # fmt: skip
            except OSError:
                time.sleep(0.2)
        assert status == 200, body
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith("bassnet-serve-")]
        process.send_signal(stop)
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("bassnet-serve-")]
