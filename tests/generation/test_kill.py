"""`bassnet generate` killed with SIGKILL part-way (while the model runs, then while the audio
is written), then run again: the outputs are byte-identical to an uninterrupted run's, and no
partial or temporary file is left. Slow (≈ 1-2 min on 2 cores): `make test-slow`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

BASSNET = str(Path(sys.executable).parent / "bassnet")
OUTPUTS = ("bass.wav", "bass.mid", "bass.mix.wav")
SECONDS = 150  # three of generation's segments: a kill while the first is done lands mid-run


@pytest.fixture(scope="module")
def long_song(tmp_path_factory) -> Path:
    """A 150-s stereo 22.05 kHz mix: a tone in noise, 16-bit WAV."""
    sr = 22050
    t = np.arange(SECONDS * sr) / sr
    noise = np.random.default_rng(0).standard_normal(len(t))
    mix = (0.1 * np.sin(2 * np.pi * 220 * t) + 0.02 * noise).astype(np.float32)
    path = tmp_path_factory.mktemp("long") / "song.wav"
    sf.write(path, np.stack([mix, mix], axis=1), sr, subtype="PCM_16")
    return path


def _command(song: Path, model: Path, out: Path) -> list[str]:
    return [BASSNET, "generate", str(song), "-o", str(out / "bass"), "--model", str(model),
            "--with-mix", "--z", "0.3,-0.2"]  # fmt: skip


def _kill_when(command: list[str], ready, log: Path, timeout_s: float = 300) -> None:
    """Start `command`, SIGKILL it as soon as `ready()` holds; fail if it ends first."""
    with open(log, "w") as err:
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.monotonic() + timeout_s
    while proc.poll() is None and not ready() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proc.poll() is None, f"the run ended before it could be killed: {log.read_text()}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


@pytest.mark.slow
def test_generate_killed_mid_run_then_rerun_gives_identical_outputs(
    long_song, small_model, tmp_path
):
    clean, out = tmp_path / "clean", tmp_path / "out"
    subprocess.run(_command(long_song, small_model, clean), check=True, capture_output=True,
                   timeout=600)  # fmt: skip
    log = tmp_path / "stderr.txt"

    # 1. while the model runs: the progress bar shows the first segment done, nothing written
    _kill_when(_command(long_song, small_model, out), lambda: "| 1/3" in log.read_text(), log)
    assert not any((out / name).exists() for name in OUTPUTS)

    # 2. while the audio is written: the bass WAV's temporary file is there (SIGKILL runs no
    # cleanup, so it stays); what is visible under the outputs' names is complete
    def writing() -> bool:
        return out.is_dir() and any(out.glob(".bass.wav.*.tmp"))

    _kill_when(_command(long_song, small_model, out), writing, log)
    assert list(out.glob(".bass*.tmp")), "the kill did not land while the audio was written"
    assert not (out / "bass.wav").exists() and not (out / "bass.mix.wav").exists()
    assert (out / "bass.mid").read_bytes() == (clean / "bass.mid").read_bytes()

    # 3. the rerun: identical outputs, the killed runs' temporary files removed
    subprocess.run(_command(long_song, small_model, out), check=True, capture_output=True,
                   timeout=600)  # fmt: skip
    for name in OUTPUTS:
        assert (out / name).read_bytes() == (clean / name).read_bytes(), name
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUTS)
