"""`bassnet features` on the command line: a flag that neither it nor Beam knows is refused
before any work, and Beam's own log lines stay out of its output unless -v."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bassnet.cli import main
from bassnet.errors import BassnetError
from bassnet.pipelines.beam_cli import check_beam_flags, is_noise, quiet_stderr

BASSNET = str(Path(sys.executable).parent / "bassnet")
DASK = "apache_beam.runners.dask.dask_runner.DaskRunner"


@pytest.mark.parametrize(
    "flags, said",
    [
        (["-q", "-x"], "unrecognized arguments: -x: neither a flag of `bassnet features`"),
        (["--runer=DirectRunner"], "--runer=DirectRunner (did you mean --runner?)"),
        (["stray"], "unrecognized arguments: stray:"),
        (["--direct_num_workers=many"], "--direct_num_workers: invalid int value: 'many'"),
        (["--runner", "NoSuchRunner"], "--runner NoSuchRunner: not a runner Beam can load"),
    ],
)
def test_unknown_flags_are_refused_before_any_work(flags, said, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["features", "--manifest", str(tmp_path / "m.csv"), "--out", str(out), *flags]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("bassnet: error: ") and said in err
    assert not out.exists()


def test_beam_options_pass_with_those_of_the_runner_named():
    check_beam_flags(["--direct_running_mode", "in_memory", "--direct_num_workers=1"])
    check_beam_flags(["--runner", DASK, "--dask_client_address=localhost:8786"])
    with pytest.raises(BassnetError, match="--direct_num_worker "):
        check_beam_flags(["--direct_num_worker", "2"])  # no abbreviations: Beam takes none


def test_the_filter_drops_noise_of_this_process_and_its_children(capfd):
    child = "import sys; sys.stderr.write('WARNING:root:apitools not found, and x\\nchild\\n')"
    with quiet_stderr() as terminal:
        os.write(2, b"INFO:__main__:Logging handler created.\nkept\n")
        subprocess.run([sys.executable, "-c", child], check=True)
        terminal.write("progress\r")
    # the filter's copies and the terminal's writes interleave as they come
    assert sorted(capfd.readouterr().err.replace("\r", "\n").split()) == [
        "child",
        "kept",
        "progress",
    ]


def test_a_run_shows_its_own_lines_and_beams_only_with_verbose(tmp_path):
    """The default runner's worker process starts (and warns) even when the one track fails at
    once: its bass file is missing."""
    (tmp_path / "mix.wav").write_bytes(b"")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("track_id,stem,path\nsong,mix,mix.wav\nsong,bass,missing.wav\n")

    def features(*flags):
        argv = [BASSNET, "features", "--manifest", str(manifest), "--out", str(tmp_path / "o"),
                "--direct_num_workers=1"]  # fmt: skip
        done = subprocess.run([*argv, *flags], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        assert "1 failed" in done.stdout
        return done.stderr

    quiet = features()
    assert not [line for line in quiet.replace("\r", "\n").splitlines() if is_noise(line)]
    assert quiet.count("song: load failed") == 1  # the worker's own line, not repeated
    assert "1/1" in quiet  # the progress bar
    verbose = features("-v")
    assert "apitools not found" in verbose and "Discarding unparseable args" in verbose
