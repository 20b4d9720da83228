"""The installed `bassnet` console script, as a user runs it."""

import subprocess
import sys
from pathlib import Path


def test_bassnet_render_runs_end_to_end(tmp_path):
    exe = Path(sys.executable).parent / "bassnet"
    assert exe.is_file(), "the package installs a `bassnet` console script"
    out = tmp_path / "x"
    args = [exe, "render", "A4", "--songs", "2", "--seed", "7", "--seconds", "5", "--out", str(out)]
    result = subprocess.run(args, capture_output=True, text=True, check=True)
    assert "A4: 2 songs" in result.stdout and "real time" in result.stdout
    assert "render A4" in result.stderr  # the progress bar
    assert sorted(p.name for p in (out / "audio").iterdir()) == [
        "A4_00000.bass.wav",
        "A4_00000.mix.wav",
        "A4_00001.bass.wav",
        "A4_00001.mix.wav",
    ]
