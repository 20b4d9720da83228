"""The core install (`pip install bassnet`, no extra) runs `generate`, `encode`, `models` and the
Python API outside any checkout; a command of an extra says which extra to install.

The package is built as its wheel holds it (setuptools' `build_py` of this checkout: modules,
shipped models, parameters) into a folder that is the only place `bassnet` is imported from.
Every module of a distribution that a core install lacks (the closure of pyproject.toml's core
requirements over the installed metadata decides) is made unimportable, as in a virtual
environment without it. The working folder holds another project's params.yaml.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, distribution, packages_distributions
from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile as sf
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
SR = 22_050
SECONDS = 8.0

# Runs argv[2] (Python) with the modules named in argv[1] absent: the import system says
# "No module named …" for them, as where they are not installed.
DRIVER = """
import json, sys

ABSENT = frozenset(json.loads(sys.argv[1]))


class Absent:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ABSENT:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, Absent())
exec(sys.argv[2])
"""
CLI = "from bassnet.cli import main; sys.exit(main(sys.argv[3:]))"


def core_distributions() -> set[str]:
    """Canonical names of the distributions a core install holds: bassnet and its core
    requirements, closed over the requirements of each as installed here."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    todo = [(Requirement(r), {""}) for r in project["dependencies"]]
    held = {canonicalize_name(project["name"])}
    while todo:
        req, extras = todo.pop()
        name = canonicalize_name(req.name)
        if name in held:
            continue
        held.add(name)
        try:
            requires = distribution(req.name).requires or []
        except PackageNotFoundError:  # a requirement of another platform
            continue
        for line in requires:
            sub = Requirement(line)
            wanted = extras | set(req.extras)
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in wanted):
                todo.append((sub, {""} | set(sub.extras)))
    return held


@pytest.fixture(scope="module")
def absent() -> list[str]:
    """Top-level modules of the installed distributions a core install lacks."""
    core = core_distributions()
    return sorted(
        module
        for module, dists in packages_distributions().items()
        if not any(canonicalize_name(d) in core for d in dists)
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The package as a wheel installs it: setuptools' build_py of a copy of the checkout."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md", "params.yaml"):
        shutil.copy2(ROOT / name, src / name)
    for name in ("bassnet",):  # links stay links, as in the checkout
        shutil.copytree(ROOT / name, src / name, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    out = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-c", "import setuptools; setuptools.setup()", "-q",
                    "build_py", "--build-lib", str(out)],
                   cwd=src, check=True, capture_output=True)  # fmt: skip
    return out


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A musician's folder: a song (a chord per 2 s over a kick at 120 BPM), its bass line,
    and another project's params.yaml (a DVC project's, without bassnet's sections)."""
    root = tmp_path_factory.mktemp("music")
    t = np.arange(int(SECONDS * SR)) / SR
    roots = np.array([110.0, 87.31, 130.81, 98.0])[(t // 2).astype(int) % 4]  # A F C G
    chord = sum(0.15 * np.sin(2 * np.pi * roots * 2 * r * t) for r in (1.0, 1.26, 1.5))
    beat = t % 0.5  # a kick on every beat at 120 BPM
    kick = 0.6 * np.exp(-beat / 0.04) * np.sin(2 * np.pi * 55 * beat)
    mix = np.stack([chord + kick, chord + 0.9 * kick], axis=1).astype(np.float32)
    sf.write(root / "song.wav", mix, SR)
    sf.write(root / "bass.wav", (0.4 * np.sin(2 * np.pi * roots / 2 * t)).astype(np.float32), SR)
    (root / "params.yaml").write_text("prepare:\n  split: 0.2\ntrain:\n  seed: 20170428\n")
    return root


def run_core(site: Path, absent: list[str], cwd: Path, code: str, *args: str):
    """Run `code` in a fresh interpreter that imports bassnet from `site` only, with the
    `absent` modules missing, in `cwd`."""
    env = {**os.environ, "PYTHONPATH": str(site)}
    argv = [sys.executable, "-c", DRIVER, json.dumps(absent), code, *args]
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_a_core_install_lacks_the_pipeline_and_the_server(absent):
    for module in ("apache_beam", "dask", "distributed", "dvc", "dvclive", "fastapi", "uvicorn",
                   "sklearn", "matplotlib", "pyarrow", "pandas", "librosa", "torchcrepe",
                   "torchaudio", "numba"):  # fmt: skip
        assert module in absent, f"{module} would be in a core install"
    for module in ("torch", "numpy", "scipy", "nnAudio", "madmom", "soundfile", "mido", "yaml",
                   "fluidsynth", "tqdm", "bassnet"):  # fmt: skip
        assert module not in absent


def test_the_built_package_carries_its_parameters_and_models(site):
    params = site / "bassnet" / "params.yaml"
    assert params.is_file() and not params.is_symlink()
    assert params.read_bytes() == (ROOT / "params.yaml").read_bytes()
    shipped = json.loads((site / "bassnet" / "pretrained" / "models.json").read_text())
    assert all((site / "bassnet" / "pretrained" / c["file"]).is_file() for c in shipped.values())


def test_generate_encode_and_models_run_on_the_core_install(site, absent, folder):
    out = folder / "out"
    generated = run_core(site, absent, folder, CLI, "generate", "song.wav", "-o", str(out),
                         "--pattern", "fifth", "-q")  # fmt: skip
    assert generated.returncode == 0, generated.stderr[-3000:]
    assert "generated 8.0 s of bass" in generated.stdout
    # the folder's own params.yaml is passed over, once, with a note; the package's apply
    notes = [line for line in generated.stderr.splitlines() if line.startswith("bassnet: note")]
    assert len(notes) == 1 and "./params.yaml is not bassnet's" in notes[0]
    assert str(site / "bassnet" / "params.yaml") in notes[0]
    bass, sr = sf.read(out.with_suffix(".wav"))
    assert sr == SR and len(bass) == int(SECONDS * SR) and np.abs(bass).max() > 0.01
    midi = mido.MidiFile(out.with_suffix(".mid"))
    assert any(m.type == "note_on" and m.velocity > 0 for m in midi.tracks[-1])

    encoded = run_core(site, absent, folder, CLI, "encode", "--model", "A1", "--mix",
                       "song.wav", "--bass", "bass.wav", "-o", "mu.csv")  # fmt: skip
    assert encoded.returncode == 0, encoded.stderr[-3000:]
    rows = (folder / "mu.csv").read_text().splitlines()
    assert rows[0] == "time_s,mu1,mu2,sigma1,sigma2" and len(rows) > 10

    listed = run_core(site, absent, folder, CLI, "models")
    assert listed.returncode == 0, listed.stderr[-3000:]
    names = [line.split()[0] for line in listed.stdout.splitlines()]
    assert names == ["A1", "A2", "A3", "A4", "A5"]
    assert "patterns: root, third, fifth" in listed.stdout


def test_the_readme_python_example_runs_on_the_core_install(site, absent, folder):
    example = """
import bassnet
import soundfile as sf

assert bassnet.__file__.startswith(sys.argv[3]), bassnet.__file__  # the built package
model = bassnet.load_model("A1")
bass = bassnet.generate("song.wav", model, z="fifth")
samples, rate = sf.read("song.wav")
bass = bassnet.generate(samples, "A4", z=(0.9, 0.2), sample_rate=rate)
bass.notes, bass.curves, bass.midi, bass.audio, bass.tempo_bpm
paths = bass.save("api/song", with_mix=True)
print(len(bass.audio), round(bass.tempo_bpm), [p.name for p in paths])
"""
    result = run_core(site, absent, folder, example, str(site))
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split()[0] == str(int(SECONDS * SR))
    assert "['song.wav', 'song.mid', 'song.mix.wav']" in result.stdout
    assert 100 <= int(result.stdout.split()[1]) <= 140  # the kick's 120 BPM, or near it


@pytest.mark.parametrize(
    ("command", "missing", "extra"),
    [(["render", "A1", "--songs", "1"], "pyarrow", "pipeline"), (["serve"], "uvicorn", "serve")],
)
def test_a_command_of_an_extra_names_the_extra_to_install(site, absent, folder, command,
                                                         missing, extra):  # fmt: skip
    result = run_core(site, absent, folder, CLI, *command)
    assert result.returncode == 2, result.stderr[-3000:]
    assert result.stderr.splitlines()[-1] == (
        f"bassnet: error: `bassnet {command[0]}` needs {missing}, which the {extra} extra "
        f"installs: pip install 'bassnet[{extra}]'"
    )
