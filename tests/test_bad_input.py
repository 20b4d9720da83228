"""Bad and hostile input to model files, `generate`, `encode`, `train` and `manifest`: each is a
named error (`bassnet: error: ...` and exit code 2 on the command line), nothing in a crafted
model file runs, and nothing the user owns is overwritten. Table-driven: one row per case."""

from __future__ import annotations

import os
import pathlib
import pickle
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
import torch

from bassnet.cli import main
from bassnet.errors import ConfigError, DataError, OutputError
from bassnet.model import BassNet, ModelConfig

SR = 22050


class Payload:
    """Unpickling this creates the file `marker`: what a crafted model file can do (any code,
    e.g. `os.system`); the tests check that the marker never appears."""

    def __init__(self, marker: pathlib.Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return pathlib.Path.touch, (pathlib.Path(self.marker),)


def crafted_files(folder: pathlib.Path, marker: pathlib.Path) -> dict[str, pathlib.Path]:
    """Model files whose loading with pickle creates `marker`: a PyTorch zip holding a real
    model's entries plus the payload, and a bare pickle (PyTorch's legacy format)."""
    folder.mkdir(parents=True, exist_ok=True)
    model = BassNet(ModelConfig(window="10/40", maps=2, blocks=2, head_maps=2))
    state = {"config": model.config.to_dict(), "state_dict": model.state_dict(),
             "latent_region": Payload(marker)}  # fmt: skip
    zipped, bare = folder / "evil.pt", folder / "evil-legacy.pt"
    torch.save(state, zipped)
    bare.write_bytes(pickle.dumps({"config": Payload(marker)}, protocol=2))
    return {"zip": zipped, "legacy": bare}


def test_the_payload_is_live_with_plain_pickle(tmp_path):
    """The crafted files do run code when unpickled unrestricted: the tests below mean it."""
    marker = tmp_path / "ran"
    files = crafted_files(tmp_path, marker)
    torch.load(files["zip"], weights_only=False)
    assert marker.exists()
    marker.unlink()
    with open(files["legacy"], "rb") as handle:
        pickle.load(handle)
    assert marker.exists()


@pytest.fixture(scope="module")
def song(tmp_path_factory) -> tuple[pathlib.Path, pathlib.Path]:
    """A 3-s stereo mix (a chord) and a mono bass (a low tone), 16-bit WAV."""
    folder = tmp_path_factory.mktemp("song")
    t = np.arange(3 * SR) / SR
    chord = sum(0.1 * np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6))
    bass = 0.3 * np.sin(2 * np.pi * 55.0 * t)
    sf.write(folder / "song.wav", np.stack([chord, chord], 1), SR, subtype="PCM_16")
    sf.write(folder / "bass.wav", bass, SR, subtype="PCM_16")
    return folder / "song.wav", folder / "bass.wav"


def run_cli(args: list[str], capsys) -> tuple[int, str]:
    """(exit code, stderr) of `bassnet ARGS` run in this process."""
    code = main([str(a) for a in args])
    return code, capsys.readouterr().err


# --- 1. model files: nothing in them runs ----------------------------------------------------
ENTRIES = {
    "BassNet.load": lambda model, song, out: lambda: BassNet.load(model),
    "generate": lambda model, song, out: [
        "generate",
        song[0],
        "-o",
        out / "bass",
        "--model",
        model,
        "-q",
    ],  # fmt: skip
    "encode": lambda model, song, out: [
        "encode",
        "--model",
        model,
        "--mix",
        song[0],
        "--bass",
        song[1],
        "-o",
        out / "mu.csv",
    ],  # fmt: skip
}


@pytest.mark.parametrize("kind", ["zip", "legacy"])
@pytest.mark.parametrize("entry", list(ENTRIES))
def test_a_crafted_model_file_runs_nothing_and_is_a_named_error(entry, kind, song, tmp_path,
                                                                capsys):  # fmt: skip
    marker = tmp_path / "ran"
    evil = crafted_files(tmp_path / "models", marker)[kind]
    action = ENTRIES[entry](evil, song, tmp_path / "out")
    if isinstance(action, list):
        code, err = run_cli(action, capsys)
        assert code == 2 and err.startswith("bassnet: error: ") and "not a bassnet model" in err
        assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    else:
        with pytest.raises(DataError, match="not a bassnet model file"):
            action()
    assert not marker.exists()


def test_resuming_from_a_crafted_checkpoint_runs_nothing(a1_shards, tiny_train_cfg, tmp_path):
    from bassnet.training.loop import train

    marker = tmp_path / "ran"
    evil = crafted_files(tmp_path / "evil", marker)["zip"]
    out = tmp_path / "model"
    out.mkdir()
    (out / "checkpoint").write_bytes(evil.read_bytes())
    with pytest.raises(DataError, match="checkpoint: not a bassnet model file.*delete it"):
        train(a1_shards, out, ModelConfig(window="8/16", maps=4, blocks=2, head_maps=4),
              tiny_train_cfg, progress=False)  # fmt: skip
    assert not marker.exists() and not (out / "model.pt").exists()


def _not_a_model(folder: pathlib.Path) -> dict[str, pathlib.Path]:
    files = {
        "garbage": b"this is not a model" * 10,
        "empty": b"",
        "text": b"config: {window: 10/40}\n",
    }
    out = {name: folder / f"{name}.pt" for name in files}
    for name, data in files.items():
        out[name].write_bytes(data)
    torch.save([1, 2, 3], folder / "list.pt")
    torch.save({"state_dict": {}}, folder / "no-config.pt")
    torch.save({"config": {"window": "10/40", "colour": 1}, "state_dict": {}},
               folder / "other-config.pt")  # fmt: skip
    torch.save({"config": {"window": "10/40"}, "state_dict": {"w": torch.zeros(1)}},
               folder / "other-weights.pt")  # fmt: skip
    for name in ("list", "no-config", "other-config", "other-weights"):
        out[name] = folder / f"{name}.pt"
    return out


def test_files_that_are_not_models_are_named(song, tmp_path, capsys):
    cases = _not_a_model(tmp_path)
    assert len(cases) == 7
    for name, path in cases.items():
        with pytest.raises(DataError, match="not a (bassnet model file|model this bassnet)"):
            BassNet.load(path)
        code, err = run_cli(["generate", song[0], "-o", tmp_path / name, "--model", path, "-q"],
                            capsys)  # fmt: skip
        assert code == 2 and f"bassnet: error: {path}: not a" in err, (name, err)


# --- 2. generate and encode never overwrite their input; outputs checked first -------------
def test_generate_refuses_to_overwrite_its_input(song, small_model, tmp_path, capsys):
    folder = tmp_path / "o"
    folder.mkdir()
    mix = folder / "song.wav"
    mix.write_bytes(song[0].read_bytes())
    (folder / "song.mix.wav").write_bytes(song[0].read_bytes())
    (folder / "link.wav").symlink_to(mix)
    original = mix.read_bytes()
    cases = [  # (input, -o, extra flags)
        (mix, folder / "song", []),  # OUT.wav is the input
        (folder / "song.mix.wav", folder / "song", ["--with-mix"]),  # OUT.mix.wav is the input
        (mix, folder / "sub/../song", []),  # another spelling
        (folder / "link.wav", folder / "song", []),  # through a link
        (mix, folder / "link", []),  # the output is a link to the input
    ]
    for source, out, extra in cases:
        before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
        code, err = run_cli(["generate", source, "-o", out, "--model", small_model, "-q",
                             *extra], capsys)  # fmt: skip
        assert code == 2 and "bassnet: error: " in err and "is the input" in err, (out, err)
        assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before
    assert mix.read_bytes() == original
    code, err = run_cli(["encode", "--model", small_model, "--mix", mix, "--bass", song[1],
                         "-o", mix], capsys)  # fmt: skip
    assert code == 2 and "is the input" in err and mix.read_bytes() == original


def test_bad_output_paths_are_named_before_any_work(song, tmp_path, capsys):
    (tmp_path / "bass.wav").mkdir()  # OUT.wav is a folder
    (tmp_path / "file").write_text("x")
    evil_marker = tmp_path / "ran"
    evil = crafted_files(tmp_path / "models", evil_marker)["zip"]
    cases = [
        (tmp_path / "bass", "bass.wav: is a folder"),
        (tmp_path / "file" / "bass", "is not a folder"),
    ]
    for out, message in cases:
        # a model that would fail: the output's error comes first, before the model is read
        code, err = run_cli(["generate", song[0], "-o", out, "--model", evil, "-q"], capsys)
        assert code == 2 and "bassnet: error: " in err and message in err, err
    assert not evil_marker.exists()
    code, err = run_cli(["encode", "--model", evil, "--mix", song[0], "--bass", song[1],
                         "-o", tmp_path / "bass.wav"], capsys)  # fmt: skip
    assert code == 2 and "is a folder" in err
    code, err = run_cli(["manifest", "flat", tmp_path, "-o", tmp_path / "bass.wav"], capsys)
    assert code == 2 and "bassnet: error: " in err and "is a folder" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_an_unwritable_output_folder_is_named_before_any_work(song, small_model, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        code, err = run_cli(["generate", song[0], "-o", locked / "bass", "--model", small_model,
                             "-q"], capsys)  # fmt: skip
        assert code == 2 and "cannot be written" in err
    finally:
        locked.chmod(0o755)


def test_check_outputs_probes_the_real_folder(tmp_path):
    from bassnet.atomic import check_outputs

    check_outputs([tmp_path / "new/deeper/out.wav"])  # nothing there yet: fine, nothing made
    assert not (tmp_path / "new").exists() and list(tmp_path.iterdir()) == []
    with pytest.raises(OutputError, match="is the input"):
        check_outputs([tmp_path / "a.wav"], [tmp_path / "./a.wav"])


# --- 4. z: finite and within a sane bound at every entry point -----------------------------
Z_CASES = [  # (--z value, message)
    ("1e39,0", "within ±1000"),
    ("0,-1e39", "within ±1000"),
    ("1001,0", "within ±1000"),
    ("nan,0", "finite"),
    ("inf,0", "finite"),
    ("0.1", "2 comma-separated"),
    ("a,b", "comma-separated numbers"),
]


@pytest.mark.parametrize(("z", "message"), Z_CASES)
def test_bad_z_values_are_refused_on_the_command_line(z, message, song, small_model, tmp_path,
                                                      capsys):  # fmt: skip
    out = tmp_path / "bass"
    code, err = run_cli(["generate", song[0], "-o", out, "--model", small_model, "--z", z, "-q"],
                        capsys)  # fmt: skip
    assert code == 2 and err.startswith("bassnet: error: ") and message in err, err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("row", ["0,1e39,0", "0,0,-5000", "0,nan,0", "0,0,inf"])
def test_bad_z_paths_are_refused(row, song, small_model, tmp_path, capsys):
    path = tmp_path / "path.csv"
    path.write_text(f"time_s,z1,z2\n{row}\n2,0,0\n")
    code, err = run_cli(["generate", song[0], "-o", tmp_path / "bass", "--model", small_model,
                         "--z-path", path, "-q"], capsys)  # fmt: skip
    assert code == 2 and "z-path" in err and ("±1000" in err or "finite" in err), err
    assert not (tmp_path / "bass.wav").exists()


def test_a_non_utf8_z_path_is_a_named_error(song, small_model, tmp_path, capsys):
    path = tmp_path / "path.csv"
    path.write_bytes(b"time_s,z1,z2\n0,\xff\xfe,0\n")
    code, err = run_cli(["generate", song[0], "-o", tmp_path / "bass", "--model", small_model,
                         "--z-path", path, "-q"], capsys)  # fmt: skip
    assert code == 2 and "bassnet: error: " in err and "path.csv" in err, err


def test_bad_z_values_are_refused_by_the_python_function(song, small_model, tmp_path):
    from bassnet.api import generate_files

    for z in ([1e39, 0.0], [0.0, float("nan")], [2e3, 0.0]):
        with pytest.raises(ConfigError, match="z"):
            generate_files(song[0], tmp_path / "bass", small_model, z=np.array(z), progress=False)
    assert not (tmp_path / "bass.wav").exists()


def test_a_negative_z_parses_with_a_space(song, small_model, tmp_path, capsys):
    code, err = run_cli(["generate", song[0], "-o", tmp_path / "bass", "--model", small_model,
                         "--z", "-0.5,0", "-q"], capsys)  # fmt: skip
    assert code == 0, err
    assert sf.info(tmp_path / "bass.wav").frames == sf.info(song[0]).frames


# --- 7. manifest: bass-only songs and FIFOs are skipped, not passed on or waited for ---------
def test_manifest_skips_bass_only_songs_and_does_not_wait_on_a_fifo(song, tmp_path):
    root = tmp_path / "collection"
    for name in ("good", "bassonly", "fifo"):
        (root / name).mkdir(parents=True)
    (root / "good/bass.wav").write_bytes(song[1].read_bytes())
    (root / "good/drums.wav").write_bytes(song[1].read_bytes())
    (root / "bassonly/bass.wav").write_bytes(song[1].read_bytes())
    (root / "fifo/bass.wav").write_bytes(song[1].read_bytes())
    os.mkfifo(root / "fifo/drums.wav")
    out = tmp_path / "manifest.csv"
    command = [sys.executable, "-m", "bassnet.cli", "manifest", "flat", str(root), "-o", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "skipped bassonly: only bass stems" in result.stderr
    assert "skipped fifo: drums.wav: not a regular file" in result.stderr
    assert {line.split(",")[0] for line in out.read_text().splitlines()[1:]} == {"good"}


def test_manifest_ids_are_always_valid_track_ids():
    from bassnet.pipelines.manifest import id_problem
    from bassnet.stems.layouts import track_id

    for name in ("..", "../x", ".hidden", "-dash", "a..b", "x" * 300, "Song / Name", "é"):
        assert id_problem(track_id(name)) is None, name


# --- 2. an existing output is replaced only if it is the command's own kind (or --force) ----
def _wav_bytes(path: pathlib.Path) -> bytes:
    sf.write(path, np.zeros(100), SR, subtype="PCM_16")
    return path.read_bytes()


# (suffix of the existing file, what it holds, --with-mix, --force, replaced?)
REPLACE_CASES = [
    (".wav", "wav", False, False, True),  # an earlier run's bass
    (".mid", "midi", False, False, True),  # an earlier run's MIDI
    (".mix.wav", "wav", True, False, True),
    (".wav", "text", False, False, False),  # the user's notes named like an output
    (".wav", "empty", False, False, False),
    (".mid", "wav", False, False, False),  # the wrong kind for its name
    (".wav", "midi", False, False, False),
    (".mix.wav", "text", True, False, False),
    (".wav", "dangling-link", False, False, False),
    (".wav", "fifo", False, False, False),  # refused without opening it (it would block)
    (".wav", "text", False, True, True),  # --force replaces it
    (".mid", "wav", False, True, True),
    (".wav", "dangling-link", False, True, True),
]


@pytest.mark.parametrize(("suffix", "content", "with_mix", "force", "replaced"), REPLACE_CASES)
def test_an_existing_output_is_replaced_only_if_it_is_an_output(
    suffix, content, with_mix, force, replaced, song, small_model, tmp_path, capsys
):
    existing = tmp_path / f"bass{suffix}"
    if content == "fifo":
        os.mkfifo(existing)
    elif content == "dangling-link":
        existing.symlink_to(tmp_path / "nowhere")
    else:
        data = {
            "wav": lambda: _wav_bytes(tmp_path / "x.wav"),
            "text": lambda: b"my notes\n",
            "empty": lambda: b"",
            "midi": lambda: b"MThd\x00\x00\x00\x06" + bytes(6),
        }
        existing.write_bytes(data[content]())  # fmt: skip
    before = {p.name: p.lstat().st_mtime_ns for p in tmp_path.iterdir()}
    args = ["generate", song[0], "-o", tmp_path / "bass", "--model", small_model, "-q"]
    args += ["--with-mix"] * with_mix + ["--force"] * force
    code, err = run_cli(args, capsys)
    if replaced:
        assert code == 0, err
        assert existing.is_file() and not existing.is_symlink()
        head = existing.read_bytes()[:4]
        assert head == (b"MThd" if suffix == ".mid" else b"RIFF")
        assert not list(tmp_path.glob(".*.tmp"))  # written beside it and renamed: no leftover
    else:
        assert code == 2 and f"bassnet: error: {existing}: exists and is not a" in err, err
        assert "--force" in err
        # nothing written at all: the refusal comes before the work
        assert {p.name: p.lstat().st_mtime_ns for p in tmp_path.iterdir()} == before


def test_force_never_replaces_an_input(song, small_model, tmp_path, capsys):
    mix = tmp_path / "song.wav"
    mix.write_bytes(song[0].read_bytes())
    code, err = run_cli(["generate", mix, "-o", tmp_path / "song", "--model", small_model, "-q",
                         "--force"], capsys)  # fmt: skip
    assert code == 2 and "is the input" in err
    assert mix.read_bytes() == song[0].read_bytes()


def test_check_outputs_kinds(tmp_path):
    from bassnet.atomic import check_outputs, is_kind

    wav, doc = tmp_path / "a.wav", tmp_path / "b.wav"
    _wav_bytes(wav)
    doc.write_text("RIFF but not a WAVE")
    assert is_kind(wav, "WAV") and not is_kind(wav, "MIDI") and not is_kind(doc, "WAV")
    check_outputs([wav], kinds={wav: "WAV"})
    check_outputs([doc])  # without kinds nothing is sniffed
    check_outputs([doc], kinds={doc: "WAV"}, force=True)
    with pytest.raises(OutputError, match="b.wav: exists and is not a WAV file"):
        check_outputs([doc], kinds={doc: "WAV"})


def test_a_killed_writers_temporary_file_goes_with_the_next_write(tmp_path):
    from bassnet.atomic import _host, remove_stale, write_text

    target = tmp_path / "out.csv"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # its pid names no process now
    stale = tmp_path / f".out.csv.{_host()}-{dead.pid}.abc123.tmp"
    live = tmp_path / f".out.csv.{_host()}-{os.getpid()}.def456.tmp"  # a writer still running
    remote = tmp_path / f".out.csv.elsewhere-{dead.pid}.ghi789.tmp"  # another machine's
    other = tmp_path / f".other.csv.{_host()}-{dead.pid}.abc123.tmp"  # another target's
    for path in (stale, live, remote, other):
        path.write_text("partial")
    write_text(target, "done\n")
    assert target.read_text() == "done\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in (target, live, remote, other)
    )
    assert remove_stale(tmp_path / "other.csv") == [other]
