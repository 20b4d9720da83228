"""The same job, unchanged, on the default DirectRunner (multi-processing) and on Dask."""

import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from tests.pipelines.test_features_job import assert_same_rows

BASSNET = str(Path(sys.executable).parent / "bassnet")
DASK = "apache_beam.runners.dask.dask_runner.DaskRunner"


def rows(out):
    parts = sorted(out.glob("part-*.parquet"))
    return sorted(
        (r for p in parts for r in pq.read_table(p).to_pylist()), key=lambda r: r["track_id"]
    )


def test_dask_runner_gives_the_same_rows_as_the_direct_runner(small_a4, tmp_path):
    manifest = str(small_a4 / "manifest.csv")
    direct = subprocess.run(
        [BASSNET, "features", "--manifest", manifest, "--out", str(tmp_path / "direct")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert direct.returncode == 0, direct.stderr[-3000:]
    assert "on DirectRunner" in direct.stdout and "3 tracks, 0 failed" in direct.stdout
    dask = subprocess.run(
        [
            BASSNET,
            "features",
            "--manifest",
            manifest,
            "--out",
            str(tmp_path / "dask"),
            "--runner",
            DASK,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert dask.returncode == 0, dask.stderr[-3000:]
    assert f"on {DASK}" in dask.stdout
    assert len(rows(tmp_path / "direct")) == 3
    assert_same_rows(rows(tmp_path / "dask"), rows(tmp_path / "direct"))
    for out in (tmp_path, Path.cwd()):
        assert not list(out.glob("beam-temp-*"))
