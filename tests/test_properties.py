"""Property tests over random programs: every way in and out gives the same Program."""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coachmatch import (
    Program,
    ProgramError,
    ProgramWarning,
    from_frames,
    load_program,
    to_frames,
    write_program,
)
from tests.strategies import programs

PROFILE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROFILE
@given(programs())
def test_folder_round_trip(program: Program) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        assert load_program(write_program(program, Path(tmp) / "p")) == program


@PROFILE
@given(programs())
def test_frames_round_trip(program: Program) -> None:
    frames = to_frames(program)
    assert from_frames(frames.pop("program"), **frames) == program


@PROFILE
@given(programs())
def test_json_round_trip(program: Program) -> None:
    assert Program.model_validate_json(program.model_dump_json()) == program


NASTY = [
    "",
    "x",
    "-1",
    "1.5",
    "2026-02-30",
    "25:00",
    "true",
    "C0",
    "R0",
    "S0",
    "P0",
    ";",
    ";;x",
    '=HYPERLINK("x")',
    "é",
    '"',
    "9" * 30,
    "nan",
    "inf",
    "mon",
    "multi",
    "2026-07-01",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(max_residents=4, max_coaches=3), st.data())
def test_any_corrupted_cell_gives_program_error_or_loads(
    program: Program, data: st.DataObject
) -> None:
    """Whatever one cell holds, loading either works or raises ProgramError: never a crash."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_program(program, Path(tmp) / "p")
        files = sorted(p for p in folder.iterdir() if p.suffix == ".csv")
        path = data.draw(st.sampled_from(files))
        lines = path.read_text(encoding="utf-8").split("\n")
        row = data.draw(st.integers(0, max(0, len(lines) - 2)))
        cells = lines[row].split(",")
        column = data.draw(st.integers(0, len(cells) - 1))
        cells[column] = data.draw(st.sampled_from(NASTY))
        lines[row] = ",".join(cells)
        path.write_text("\n".join(lines), encoding="utf-8")
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ProgramWarning)
                load_program(folder)
            assert all(str(w.message).startswith(path.name) for w in caught)
        except ProgramError as error:
            assert error.problems
            for problem in error.problems:
                assert problem.file.endswith(".csv") or problem.file == "program.toml"
