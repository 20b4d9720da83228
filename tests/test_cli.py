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


def test_bassnet_render_test_split_uses_its_own_seed_and_ids(tmp_path):
    import csv

    import pyarrow.parquet as pq

    exe = Path(sys.executable).parent / "bassnet"
    out = tmp_path / "A1-test"
    args = [exe, "render", "A1", "--split", "test", "--songs", "2", "--seconds", "4", "--out",
            str(out), "-q"]  # fmt: skip
    result = subprocess.run(args, capture_output=True, text=True, check=True)
    assert "A1: 2 songs (2 test)" in result.stdout
    rows = list(csv.DictReader((out / "manifest.csv").open()))
    assert {r["split"] for r in rows} == {"test"}
    assert {r["track_id"] for r in rows} == {"A1_90000", "A1_90001"}
    labels = pq.read_table(out / "labels.parquet").to_pylist()
    # each song's seed comes from render.test_seeds (A1: 2001), not the training seed
    from bassnet.synth.plan import song_seed

    assert [r["seed"] for r in labels] == [song_seed(2001, 90000), song_seed(2001, 90001)]
    assert {r["split"] for r in labels} == {"test"}
