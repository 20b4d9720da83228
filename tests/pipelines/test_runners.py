"""The same job, unchanged, on the default DirectRunner (multi-processing) and on Dask: a local
cluster the runner starts itself, and a cluster of separate scheduler and worker processes, as
one runs on real machines."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.pipelines.test_features_job import assert_same_rows

BIN = Path(sys.executable).parent
BASSNET = str(BIN / "bassnet")
DASK = "apache_beam.runners.dask.dask_runner.DaskRunner"
REPO = Path(__file__).resolve().parents[2]
CLUSTER_START_S = 60  # the scheduler and both workers up and registered, or the test fails


def rows(out):
    parts = sorted(out.glob("part-*.parquet"))
    return sorted(
        (r for p in parts for r in pq.read_table(p).to_pylist()), key=lambda r: r["track_id"]
    )


def features(manifest, out, *runner_args) -> subprocess.CompletedProcess:
    """`bassnet features` on a manifest, in its own process, as a user runs it."""
    return subprocess.run(
        [BASSNET, "features", "--manifest", str(manifest), "--out", str(out), *runner_args],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def direct_rows(small_a4, tmp_path_factory):
    """The rows of the DirectRunner's run (multi-processing) of the small A4 manifest."""
    out = tmp_path_factory.mktemp("direct")
    direct = features(small_a4 / "manifest.csv", out)
    assert direct.returncode == 0, direct.stderr[-3000:]
    assert "on DirectRunner" in direct.stdout and "3 tracks, 0 failed" in direct.stdout
    found = rows(out)
    assert len(found) == 3
    return found


def test_dask_runner_gives_the_same_rows_as_the_direct_runner(small_a4, direct_rows, tmp_path):
    dask = features(small_a4 / "manifest.csv", tmp_path / "dask", "--runner", DASK)
    assert dask.returncode == 0, dask.stderr[-3000:]
    assert f"on {DASK}" in dask.stdout
    assert_same_rows(rows(tmp_path / "dask"), direct_rows)
    for out in (tmp_path, Path.cwd()):
        assert not list(out.glob("beam-temp-*"))


def _stop(processes: list[subprocess.Popen]) -> None:
    """SIGTERM to the process groups the cluster processes lead (a worker's nanny and the worker
    it spawned), all at once; SIGKILL to any still there 20 s later."""
    running = [p for p in processes if p.poll() is None]
    for process in running:
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    for process in running:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _scheduler_address(scheduler_file: Path, scheduler: subprocess.Popen) -> str:
    """The address the scheduler wrote to its file, once the file is complete."""
    deadline = time.monotonic() + CLUSTER_START_S
    while time.monotonic() < deadline:
        assert scheduler.poll() is None, "the Dask scheduler exited"
        try:
            return json.loads(scheduler_file.read_text())["address"]
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            time.sleep(0.1)
    raise TimeoutError(f"no scheduler address in {scheduler_file} after {CLUSTER_START_S} s")


@pytest.fixture
def dask_cluster(tmp_path):
    """A Dask scheduler and two workers of one thread each, each its own `dask` process on this
    machine as on separate machines (workers import the job from this checkout); yields the
    scheduler's address. All three are stopped when the test ends, whatever its outcome."""
    from distributed import Client

    scheduler_file = tmp_path / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)}  # fmt: skip
    commands = [["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"]]
    for i in (1, 2):
        commands.append(["worker", "--nthreads", "1", "--no-dashboard", "--name", f"w{i}",
                         "--local-directory", str(tmp_path / f"w{i}")])  # fmt: skip
    processes, logs = [], []
    try:
        for i, command in enumerate(commands):
            log = open(tmp_path / f"{command[0]}{i}.log", "wb")  # noqa: SIM115
            logs.append(log)
            processes.append(subprocess.Popen(
                [str(BIN / "dask"), *command, "--scheduler-file", str(scheduler_file)],
                cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            ))  # fmt: skip
            if i == 0:  # the workers read the scheduler's address from its file
                address = _scheduler_address(scheduler_file, processes[0])
        with Client(address, timeout=CLUSTER_START_S) as client:
            try:
                client.wait_for_workers(2, timeout=CLUSTER_START_S)
            except TimeoutError:
                tails = {log.name: Path(log.name).read_text()[-1500:] for log in logs}
                pytest.fail(f"the Dask workers did not register: {tails}")
        yield address
    finally:
        # the workers first: without their scheduler they wait for it before closing (≈9 s
        # against ≈3 s, measured with two idle workers)
        _stop(processes[1:])
        _stop(processes[:1])
        for log in logs:
            log.close()


def test_a_cluster_of_dask_processes_gives_the_same_rows(small_a4, direct_rows, dask_cluster,
                                                        tmp_path):  # fmt: skip
    """`dask scheduler` and two `dask worker` processes, the job pointed at the scheduler by
    --dask_client_address: the same rows as the DirectRunner's, computed on those workers."""
    from distributed import Client

    dask = features(small_a4 / "manifest.csv", tmp_path / "out", "--runner", DASK,
                    f"--dask_client_address={dask_cluster}")  # fmt: skip
    assert dask.returncode == 0, dask.stderr[-3000:]
    assert f"on {DASK}" in dask.stdout and "3 tracks, 0 failed" in dask.stdout
    assert_same_rows(rows(tmp_path / "out"), direct_rows)
    # the job ran in the cluster's worker processes, not in a local cluster of the job's own
    with Client(dask_cluster) as client:
        ran = client.run(lambda: "bassnet.pipelines.features" in sys.modules)
    assert len(ran) == 2 and any(ran.values()), ran
