"""Beam on the command line: flags that are neither ours nor Beam's are refused, and Beam's own
chatter is kept out of normal output.

Beam warns at every start of this job and of each of its worker processes, about things that
are as they should be here (no Google Cloud libraries, options of other runners, workers without
a persistent folder), and the DirectRunner's job service repeats each worker's warnings as
"Worker: severity: ..." lines. `quiet_stderr` drops those lines from this process's standard
error and from its children's (Beam's workers are other processes, so this filters the file
descriptor, not Python's logging); `-v` keeps them.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import os
import re
import sys
import threading
from collections.abc import Iterator
from typing import TextIO

from bassnet.errors import BassnetError

# Lines of Beam's that say nothing about this job: shown only with -v
NOISE = re.compile(
    "|".join(
        [
            r"apitools not found",  # no Google Cloud libraries: none are needed
            r"Discarding unparseable args",  # each worker's options carry other runners' flags
            r"Logging handler created",  # a worker starting
            r"No semi_persistent_directory found",
            r"local_job_service:Worker: severity:",  # a repeat of a worker's own line
        ]
    )
)


def is_noise(line: str) -> bool:
    """Whether a line of standard error is Beam's chatter (see NOISE)."""
    return NOISE.search(line) is not None


def _copy_filtered(source: int, target: int) -> None:
    """Copy lines from file descriptor `source` to `target` until end of file, without the
    noise; a last line without its newline is copied at the end."""
    pending = b""
    while chunk := os.read(source, 65536):
        *lines, pending = (pending + chunk).split(b"\n")
        kept = [line + b"\n" for line in lines if not is_noise(line.decode(errors="replace"))]
        if kept:
            with contextlib.suppress(OSError):  # a closed terminal: nothing to show it on
                os.write(target, b"".join(kept))
    if pending and not is_noise(pending.decode(errors="replace")):
        with contextlib.suppress(OSError):
            os.write(target, pending)
    os.close(source)


@contextlib.contextmanager
def quiet_stderr(enabled: bool = True) -> Iterator[TextIO]:
    """While open, standard error (file descriptor 2, which child processes inherit) passes
    through a thread that drops Beam's noise lines. Yields a stream to the real standard error
    for progress bars: their "\\r" updates end no line, and would wait in the filter. With
    `enabled` False, or without a standard error to filter, nothing changes and the stream is
    sys.stderr."""
    if not enabled:
        yield sys.stderr
        return
    try:
        terminal = os.dup(2)
    except OSError:
        yield sys.stderr
        return
    read_end, write_end = os.pipe()
    copier = threading.Thread(target=_copy_filtered, args=(read_end, terminal), daemon=True)
    copier.start()
    sys.stderr.flush()
    os.dup2(write_end, 2)
    os.close(write_end)
    stream = os.fdopen(os.dup(terminal), "w", buffering=1)
    try:
        yield stream
    finally:
        stream.close()
        sys.stderr.flush()
        os.dup2(terminal, 2)  # closes the pipe's last write end held here
        # the copier ends when every process that inherited the pipe has let go of it; a
        # worker that outlives the job keeps it (a daemon thread) without holding us up
        copier.join(timeout=5.0)
        if not copier.is_alive():
            os.close(terminal)


def _load_runner(runner: str) -> None:
    """Import `runner` as Beam would (a name such as DirectRunner, or module.Class), which
    registers its options; BassnetError where Beam has no such runner."""
    from apache_beam.runners.runner import create_runner

    try:
        create_runner(runner)
    except (ImportError, ValueError, AttributeError) as err:
        raise BassnetError(f"--runner {runner}: not a runner Beam can load ({err})") from err


def check_beam_flags(flags: list[str]) -> None:
    """Raise BassnetError naming each flag of `flags` that no Beam pipeline option takes (and
    each stray value), with the nearest Beam flag where one is close; a bad value of a Beam
    flag (e.g. --direct_num_workers=many) is named too."""
    from apache_beam.options.pipeline_options import PipelineOptions

    if not flags:
        return
    probe = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    probe.add_argument("--runner")
    runner = probe.parse_known_args(flags)[0].runner
    if runner:
        _load_runner(runner)
    # with no flags to parse, Beam only builds its parser (every options class's flags, the
    # runner's included) and hands it to this callback
    parsers: list[argparse.ArgumentParser] = []
    PipelineOptions([]).get_all_options(add_extra_args_fn=parsers.append)
    parser = parsers[0]

    def refuse(message: str) -> None:
        raise BassnetError(f"Beam option: {message}")

    parser.error = refuse  # argparse would print its usage and exit
    _, unknown = parser.parse_known_args(flags)
    if not unknown:
        return
    known = [s for action in parser._actions for s in action.option_strings]
    named = []
    for flag in unknown:
        close = difflib.get_close_matches(flag.split("=", 1)[0], known, n=1)
        named.append(f"{flag} (did you mean {close[0]}?)" if close else flag)
    raise BassnetError(
        f"unrecognized arguments: {', '.join(named)}: neither a flag of `bassnet features` "
        "(see --help) nor a Beam pipeline option"
    )
