"""A mutation fuzzer over the example program folder (issue 10, item 8).

Each case copies the example folder, applies one seeded mutation — a hostile cell, a
deleted or doubled line, a truncated file, bytes that are not UTF-8, a file turned into
a directory, a pipe or a link out of the folder — and loads it. Every case must end in
a clean ``ProgramError`` whose problems name a file (and, for a changed cell, a line),
or a clean load, within a few seconds and a memory bound; anything else fails with the
case's seed, so it can be replayed. CI runs ``COACHMATCH_FUZZ_CASES`` cases (default 200).
"""

from __future__ import annotations

import os
import random
import resource
import shutil
import threading
from pathlib import Path

import pytest

from coachmatch import Program, ProgramError, load_program
from tests.conftest import EXAMPLE

CASES = int(os.environ.get("COACHMATCH_FUZZ_CASES", "200"))
SECONDS = 10.0
#: the test process's peak resident size may never pass this (a reported case grew to ~7 GB)
PEAK_BYTES = 3 * 2**30

HOSTILE = (
    "",
    " ",
    "-1",
    "0",
    "1e308",
    "-1e308",
    "nan",
    "inf",
    "99999999999999999999999",
    "0x10",
    "../../../../etc/passwd",
    "/dev/zero",
    "=cmd|' /C calc'!A0",
    "@SUM(1+1)",
    '"a\nb"',
    '"tab\there"',
    "x" * 5000,
    "é漢ß",
    "2026-02-30",
    "9999-12-31",
    "25:00",
    "true",
    "NULL",
    "C0001;C0001;;",
    "{meeting_id.__class__}",
)


def _mutate(folder: Path, rng: random.Random) -> str:
    """Apply one mutation; return a description (with what a problem should name)."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    target = rng.choice(files)
    name = target.relative_to(folder).as_posix()
    kind = rng.choice(
        ["cell", "cell", "cell", "cell", "delete", "double", "truncate", "bytes", "replace"]
    )
    data = target.read_bytes()
    lines = data.split(b"\n")
    if kind == "cell" and name.endswith(".csv") and len(lines) > 1:
        row = rng.randrange(1, max(2, len(lines) - 1))
        cells = lines[row].decode("utf-8", "replace").split(",")
        cells[rng.randrange(len(cells))] = rng.choice(HOSTILE)
        lines[row] = ",".join(cells).encode()
        target.write_bytes(b"\n".join(lines))
        return f"cell {name} line {row + 1}"
    if kind == "cell" and name == "program.toml":
        row = rng.randrange(len(lines))
        key, _, _ = lines[row].decode().partition("=")
        if key.strip() and not key.startswith("["):
            lines[row] = f"{key.strip()} = {rng.choice(HOSTILE)!r}".encode()
            target.write_bytes(b"\n".join(lines))
            return f"key {name} line {row + 1}"
    if kind == "delete" and len(lines) > 1:
        del lines[rng.randrange(len(lines))]
        target.write_bytes(b"\n".join(lines))
        return f"deleted a line of {name}"
    if kind == "double" and len(lines) > 1:
        row = rng.randrange(len(lines))
        lines.insert(row, lines[row])
        target.write_bytes(b"\n".join(lines))
        return f"doubled line {row + 1} of {name}"
    if kind == "truncate":
        target.write_bytes(data[: rng.randrange(len(data) + 1)])
        return f"truncated {name}"
    if kind == "bytes":
        at = rng.randrange(len(data) + 1)
        target.write_bytes(data[:at] + bytes(rng.randrange(256) for _ in range(4)) + data[at:])
        return f"bytes in {name}"
    target.unlink()
    how = rng.choice(["directory", "pipe", "link out", "empty"])
    if how == "directory":
        target.mkdir()
    elif how == "pipe":
        os.mkfifo(target)
    elif how == "link out":
        target.symlink_to("/dev/zero")
    else:
        target.write_bytes(b"")
    return f"{name} made {how}"


def _load(folder: Path) -> tuple[str, object]:
    box: dict[str, tuple[str, object]] = {}

    def work() -> None:
        try:
            box["result"] = ("loaded", load_program(folder))
        except ProgramError as error:
            box["result"] = ("error", error)
        except BaseException as error:  # anything else is a failure to report
            box["result"] = ("crash", error)

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(SECONDS)
    if worker.is_alive():
        return "hang", None
    return box["result"]


@pytest.mark.parametrize("seed", range(CASES))
def test_a_mutated_example_loads_or_fails_cleanly(
    tmp_path: Path, seed: int, recwarn: pytest.WarningsRecorder
) -> None:
    folder = tmp_path / "program"
    shutil.copytree(EXAMPLE, folder, symlinks=True)
    rng = random.Random(seed)
    what = _mutate(folder, rng)
    outcome, value = _load(folder)
    assert outcome in ("loaded", "error"), f"seed {seed} ({what}): {outcome} {value!r}"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
    assert peak < PEAK_BYTES, f"seed {seed} ({what}): peak memory {peak / 2**30:.1f} GiB"
    if outcome == "loaded":
        assert isinstance(value, Program)
        return
    assert isinstance(value, ProgramError)
    problems = value.problems
    assert problems, f"seed {seed} ({what}): an error without problems"
    for problem in problems:
        assert problem.file and problem.message, f"seed {seed} ({what}): {problem}"
    if what.startswith("cell "):
        assert any(p.line is not None for p in problems), (
            f"seed {seed} ({what}): {[str(p) for p in problems]}"
        )
