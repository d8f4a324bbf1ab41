"""Writing folders safely: where coachmatch may write, and how a folder is replaced.

- :func:`check_output_folder`: a run folder (OUT) must be absent, empty, or a folder
  coachmatch wrote (recognized by its ``run.json``); never one of the input folders
  or a parent of one, and never a symbolic link. Anything else is an
  :class:`~coachmatch.exceptions.OutputFolderError` naming the folder: coachmatch
  deletes nothing it did not write.
- :func:`atomic_folder`: the new folder is written beside the target and swapped into
  place in one step. On Linux the swap is an atomic exchange of the two directories
  (``renameat2(RENAME_EXCHANGE)``), so the target is never missing, not even for an
  instant; elsewhere it is two renames, and a run cut between them is repaired by the
  next one. Staging folders carry their writer's process id in their name, so the next
  run removes those of runs that died (and only those).
- :func:`file_name`: the one way a file name is made from an id; it refuses anything
  that is not a plain name.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from coachmatch.exceptions import OutputFolderError

__all__ = ["MAX_NAME_BYTES", "atomic_folder", "check_output_folder", "file_name", "is_run_folder"]

#: longest file name written (bytes, UTF-8), well under every file system's 255
MAX_NAME_BYTES = 240
_UNSAFE_NAME = re.compile(r"[/\\\x00-\x1f\x7f]")


def file_name(stem: str, suffix: str = "") -> str:
    """``stem + suffix`` as a file name that stays in its folder, or ValueError.

    Ids are validated when read (no ``/``, ``\\``, ``;`` or control characters, a
    bounded length); this is the second line of defence, where names are made.

    Examples
    --------
    >>> file_name("R0001", ".ics")
    'R0001.ics'
    >>> file_name("../../etc/passwd", ".ics")
    Traceback (most recent call last):
    ...
    ValueError: not a safe file name: '../../etc/passwd.ics'
    """
    name = stem + suffix
    if (
        not stem
        or stem in (".", "..")
        or _UNSAFE_NAME.search(name)
        or len(name.encode("utf-8")) > MAX_NAME_BYTES
    ):
        raise ValueError(f"not a safe file name: {name!r}")
    return name


def is_run_folder(folder: Path) -> bool:
    """Whether ``folder`` holds a ``run.json`` that a coachmatch run wrote."""
    manifest = folder / "run.json"
    try:
        if manifest.is_symlink() or not manifest.is_file() or manifest.stat().st_size > 1 << 24:
            return False
        data = json.loads(manifest.read_bytes())
    except (OSError, ValueError):
        return False
    return (
        isinstance(data, dict)
        and isinstance(data.get("coachmatch"), str)
        and isinstance(data.get("input_sha256"), str)
    )


def check_output_folder(
    out: str | os.PathLike[str], inputs: Sequence[str | os.PathLike[str]]
) -> None:
    """Refuse a run folder that would replace what coachmatch did not write.

    Parameters
    ----------
    out : path
        The run folder to write.
    inputs : sequence of paths
        The folders the run reads (the program folder, a previous run folder).

    Raises
    ------
    OutputFolderError
        When ``out`` is an input folder or a parent of one, a symbolic link, a file,
        or a non-empty folder without a coachmatch ``run.json``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     check_output_folder(tmp, [f"{tmp}/program"])
    Traceback (most recent call last):
    ...
    coachmatch.exceptions.OutputFolderError: ...
    """
    target = Path(out)
    if target.is_symlink():
        raise OutputFolderError(
            f"the run folder {target} is a symbolic link; give the folder itself"
        )
    real = Path(os.path.realpath(target))
    for source in inputs:
        given = Path(os.path.realpath(source))
        if given == real or given.is_relative_to(real):
            what = "is" if given == real else "contains"
            raise OutputFolderError(
                f"the run folder {target} {what} the input folder {source}: a run never "
                "replaces its input; choose another run folder"
            )
    if not target.exists():
        return
    if not target.is_dir():
        raise OutputFolderError(f"the run folder {target} exists and is not a folder")
    if any(target.iterdir()) and not is_run_folder(target):
        raise OutputFolderError(
            f"the run folder {target} is not empty and was not written by coachmatch "
            "(it has no coachmatch run.json); a run replaces only its own folders: "
            "choose a new or empty folder"
        )


# ---------------------------------------------------------------------------
# Replacing a folder in one step
# ---------------------------------------------------------------------------

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(first: Path, second: Path) -> bool:
    """Swap two directory entries atomically (Linux ``renameat2``); False if unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    done = renameat2(
        _AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE
    )
    if done == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # the kernel or the file system cannot exchange
    raise OSError(code, os.strerror(code), str(second))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def _leftovers(final: Path, kind: str) -> Iterator[tuple[Path, int]]:
    """Sibling folders ``.<name>.<kind>-<pid>-*`` of ``final``, with their pid."""
    pattern = re.compile(rf"^\.{re.escape(final.name)}\.{kind}-(\d+)-")
    with contextlib.suppress(OSError):
        for entry in final.parent.iterdir():
            found = pattern.match(entry.name)
            if found and entry.is_dir() and not entry.is_symlink():
                yield entry, int(found.group(1))


def _recover(final: Path) -> None:
    """Repair what a killed run left: the target restored from an interrupted
    two-rename swap, and the staging folders of dead runs removed."""
    for old, pid in sorted(_leftovers(final, "old")):
        if _alive(pid):
            continue
        kept = old / final.name
        if not final.exists() and kept.is_dir():
            os.replace(kept, final)
        shutil.rmtree(old, ignore_errors=True)
    for staging, pid in _leftovers(final, "partial"):
        if not _alive(pid):
            shutil.rmtree(staging, ignore_errors=True)


@contextmanager
def atomic_folder(target: str | os.PathLike[str]) -> Iterator[Path]:
    """A staging folder beside ``target`` that replaces it only when the block succeeds.

    The staging folder (``.<name>.partial-<pid>-*``) is removed if the block raises or
    is interrupted (KeyboardInterrupt included). An existing ``target`` is exchanged
    with the new folder in one atomic step where the system allows (Linux), else moved
    aside first and removed only after the new one is in place. A process killed
    outright leaves at most a staging folder, which the next write removes; ``target``
    is never left half-written, and on Linux never missing.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with atomic_folder(f"{tmp}/out") as staging:
    ...         _ = (staging / "a.txt").write_text("done")
    ...     sorted(p.name for p in Path(tmp).iterdir())
    ['out']
    """
    final = Path(target)
    final.parent.mkdir(parents=True, exist_ok=True)
    _recover(final)
    prefix = f".{final.name}.partial-{os.getpid()}-"
    staging = Path(tempfile.mkdtemp(prefix=prefix, dir=final.parent))
    try:
        yield staging
        if final.exists() and _exchange(staging, final):
            shutil.rmtree(staging, ignore_errors=True)  # now holds the old folder
        elif final.exists():
            retired = Path(
                tempfile.mkdtemp(prefix=f".{final.name}.old-{os.getpid()}-", dir=final.parent)
            )
            os.replace(final, retired / final.name)
            try:
                os.replace(staging, final)
            except BaseException:
                os.replace(retired / final.name, final)
                raise
            finally:
                shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
