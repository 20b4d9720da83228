"""Atomic file writes: write to a temporary sibling, then rename over the target.

A reader (or a resumed run) therefore sees either the old file or the complete new one, never a
partial file left by an interrupted process.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _host() -> str:
    """This machine's name as it appears in temporary names (no dots, at most 32 characters)."""
    return re.sub(r"[^A-Za-z0-9-]", "_", socket.gethostname())[:32] or "host"


def _alive(pid: int) -> bool:
    """Whether process `pid` runs on this machine (signal 0 checks without sending one)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale(target: str | os.PathLike) -> list[Path]:
    """Remove the temporary siblings of `target` that a killed process of this machine left
    (SIGKILL runs no cleanup); returns them. A temporary file names its writer's host and pid,
    so one that a live process (or another machine, on a shared folder) writes is kept."""
    target = Path(target)
    prefix = f".{target.name}.{_host()}-"
    removed = []
    for tmp in target.parent.glob(f"{glob.escape(prefix)}*.tmp"):
        pid = tmp.name[len(prefix) :].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it to `target` if the block succeeds.
    Temporary files of `target` left by a killed run go first (see `remove_stale`)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(target)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.name}.{_host()}-{os.getpid()}.", suffix=".tmp", dir=target.parent
    )
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o644)  # mkstemp makes 0600; outputs are ordinary readable files
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_bytes(target: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `target` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text(target: str | os.PathLike, text: str) -> None:
    """Write `text` (UTF-8) to `target` atomically."""
    write_bytes(target, text.encode("utf-8"))


def _same_file(a: Path, b: Path) -> bool:
    """Whether paths `a` and `b` name one file (through links, `..` or another spelling)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet): compare where they would be
        return a.resolve() == b.resolve()


# The kinds of output a command may replace without --force, told by their first bytes: a file
# of another kind at an output's name is something the user made, not an earlier run's output.
KINDS = {
    "WAV": lambda head: head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE",
    "MIDI": lambda head: head[:4] == b"MThd",
}


def is_kind(path: str | os.PathLike, kind: str) -> bool:
    """Whether `path` is an existing regular file that starts like a `kind` file (KINDS key);
    False for anything else, including an unreadable file or a FIFO (never opened)."""
    path = Path(path)
    if not path.is_file():
        return False
    try:
        with open(path, "rb") as handle:
            head = handle.read(12)
    except OSError:
        return False
    return KINDS[kind](head)


def check_outputs(
    outputs: list[str | os.PathLike], inputs: list[str | os.PathLike | None] = (),
    kinds: dict[str | os.PathLike, str] | None = None, force: bool = False,
) -> None:  # fmt: skip
    """Raise OutputError, before any work, for an output that is one of the `inputs` (the
    command would destroy what it reads; even with `force`), an existing folder, or that cannot
    be written (its nearest existing parent is a file, or no new file can be created there:
    probed with a real temporary file, as permissions alone do not say it, e.g. on read-only
    mounts). With `kinds` (output → a key of KINDS), an output that exists but is not a file of
    its kind (a document, a FIFO, ...) is refused too unless `force`: outputs of the command's
    own kind are replaced, atomically, by the write."""
    from bassnet.errors import OutputError

    sources = [Path(p) for p in inputs if p is not None]
    expected = {Path(k): v for k, v in (kinds or {}).items()}
    probed: set[Path] = set()
    for output in map(Path, outputs):
        for source in sources:
            if _same_file(output, source):
                raise OutputError(f"{output}: is the input {source}; choose another output")
        if output.is_dir():
            raise OutputError(f"{output}: is a folder, not a file name")
        kind = expected.get(output)
        exists = output.exists() or output.is_symlink()
        if kind and exists and not force and not is_kind(output, kind):
            raise OutputError(
                f"{output}: exists and is not a {kind} file, so it is kept; choose another "
                "output, or --force to replace it"
            )
        parent = output.absolute().parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent  # created by the write; the nearest existing one must allow it
        if not parent.is_dir():
            raise OutputError(f"{output}: cannot be written ({parent} is not a folder)")
        if parent in probed:
            continue
        try:
            fd, probe = tempfile.mkstemp(prefix=".bassnet-probe-", dir=parent)
        except OSError as err:
            raise OutputError(f"{output}: cannot be written in {parent} ({err.strerror})") from err
        os.close(fd)
        os.unlink(probe)
        probed.add(parent)
