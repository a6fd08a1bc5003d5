"""Write outputs so that an interrupted run never leaves a half-written file.

Each output is written to a hidden temporary file beside it (``.metamg-PID-XXXX.tmp``: no
glob of outputs such as ``*.png`` or ``*.md`` matches it), flushed to disk, then renamed over
the target in one step. Ctrl-C and SIGTERM (the CLI turns SIGTERM into an ordinary exit)
remove the temporary file; after SIGKILL or a power cut nothing can, so the next write into
the same directory removes the temporary files of metamg processes that are no longer running.
A directory or file that cannot be written is the user's problem to fix: an InputError naming
the user's path, never the temporary file's.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile

from metamg.errors import InputError, Problem

TEMP_PREFIX = ".metamg-"
TEMP_SUFFIX = ".tmp"
_TEMP_NAME = re.compile(r"^\.metamg-(\d+)-.*\.tmp$")
_swept: set[str] = set()  # directories already cleaned by this process


def write_atomic(path, data: str | bytes) -> None:
    """Write to a temporary file in the target's directory, fsync, then rename over the target."""
    path = os.fspath(path)
    directory = ensure_directory(os.path.dirname(os.path.abspath(path)), path)
    if os.path.isdir(path):
        raise InputError([Problem(path, "is a directory; give a file name to write to")])
    _sweep(directory)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-", suffix=TEMP_SUFFIX, dir=directory)
    except OSError as exc:
        raise _unwritable(path, exc) from None
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes files private; outputs are ordinary files
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _unwritable(path, exc) from None
        raise


def ensure_directory(directory, for_path=None) -> str:
    """``directory``, created if need be; an InputError naming ``for_path`` (or the directory)
    when it cannot be: a regular file in the way, no permission, a read-only file system."""
    directory = os.fspath(directory)
    try:
        os.makedirs(directory, exist_ok=True)
    except FileExistsError:
        raise InputError(
            [
                Problem(
                    os.fspath(for_path or directory),
                    f"cannot be written: {_first_file(directory)} is a file, not a directory",
                )
            ]
        ) from None
    except OSError as exc:
        raise _unwritable(for_path or directory, exc) from None
    if not os.path.isdir(directory):
        raise InputError(
            [
                Problem(
                    os.fspath(for_path or directory),
                    f"cannot be written: {_first_file(directory)} is a file, not a directory",
                )
            ]
        )
    return directory


def _first_file(directory: str) -> str:
    """The part of ``directory`` that exists but is not a directory."""
    path = os.path.abspath(directory)
    while path and not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def _unwritable(path, exc: OSError) -> InputError:
    reason = exc.strerror or type(exc).__name__
    if isinstance(exc, NotADirectoryError):
        reason = (
            f"{_first_file(os.path.dirname(os.path.abspath(os.fspath(path))))} is a file, not a directory"
        )
    return InputError([Problem(os.fspath(path), f"cannot be written: {reason}")])


def _sweep(directory: str) -> None:
    """Remove temporary files left in ``directory`` by metamg processes that no longer run."""
    if directory in _swept:
        return
    _swept.add(directory)
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        m = _TEMP_NAME.match(name)
        if m and not _running(int(m.group(1))):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(directory, name))


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by someone else
    except OSError:
        return True
    return True
