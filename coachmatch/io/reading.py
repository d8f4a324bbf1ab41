"""Reading an untrusted folder: regular files inside it only, each of bounded size.

A program folder or a previous run folder may hold anything: a symbolic link to a
system file, a device that never ends, a named pipe that blocks forever, a directory
where a file is expected. :func:`read_file` reads a file only when it is a regular
file whose real path lies inside the folder (links inside the folder are followed)
and which is no larger than :func:`coachmatch.limits.max_file_bytes`; otherwise it
returns a Problem naming the path and what was expected.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from coachmatch.exceptions import Problem
from coachmatch.limits import max_file_bytes

__all__ = ["inside", "read_file"]


def inside(path: Path, root: Path) -> bool:
    """Whether ``path``'s real location (links resolved) lies within ``root``'s.

    Examples
    --------
    >>> inside(Path("/etc/passwd"), Path("/tmp"))
    False
    """
    return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(root))


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_file(path: Path, root: Path, file: str) -> tuple[bytes | None, Problem | None]:
    """The bytes of ``path`` (named ``file`` in problems), or a Problem saying why not.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     (Path(tmp) / "a.csv").write_text("x")
    ...     (Path(tmp) / "link.csv").symlink_to("/etc/hostname")
    ...     read_file(Path(tmp) / "a.csv", Path(tmp), "a.csv")[0]
    ...     read_file(Path(tmp) / "link.csv", Path(tmp), "link.csv")[1].message
    1
    b'x'
    'is a symbolic link to a file outside the folder'
    """
    expected = "a regular file inside the folder"
    if not inside(path, root):
        return None, Problem(
            file, None, None, "is a symbolic link to a file outside the folder", None, expected
        )
    limit = max_file_bytes()
    try:
        # non-blocking: opening a named pipe must not wait for a writer
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as error:
        return None, Problem(file, None, None, f"cannot be read: {error.strerror}", None, expected)
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            return None, Problem(file, None, None, f"is {_kind(mode)}", None, expected)
        with os.fdopen(descriptor, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
    except OSError as error:
        return None, Problem(file, None, None, f"cannot be read: {error.strerror}", None, expected)
    finally:
        os.close(descriptor)
    if len(data) > limit:
        return None, Problem(
            file,
            None,
            None,
            f"is larger than {limit // 2**20} MiB, the most coachmatch reads from one file",
            None,
            "a smaller file (or set COACHMATCH_MAX_FILE_MB)",
        )
    return data, None
