"""The ``coachmatch`` command line."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from coachmatch.cli import main
from tests.conftest import EXAMPLE


def test_validate_example_prints_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "program: Toronto Psychiatry Residency (synthetic example)" in out
    assert "residents: 190 active of 190 in 1 program" in out
    assert "horizon: 2026-07-01 to 2027-06-30" in out


def test_validate_lists_every_problem(
    edit: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    edit("residents.csv", "P-senior,C2,", "P-senior,C99,")
    folder = edit("coaches.csv", "ada@example.org,tgh", "ada@example.org,tgx")
    assert main(["validate", str(folder)]) == 2
    out = capsys.readouterr().out
    assert "2 problems in program folder" in out
    assert "coaches.csv line 2, column site_id: unknown site 'tgx'" in out
    assert "residents.csv line 3, column current_coach_id: unknown coach 'C99'" in out


def test_validate_prints_warnings_to_stderr(
    edit: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    folder = edit("coaches.csv", "name,email,", "name,emial,")
    assert main(["validate", str(folder)]) == 0
    captured = capsys.readouterr()
    assert "warning: coaches.csv line 1, column emial" in captured.err
    assert "program: Tiny Psychiatry" in captured.out


def test_validate_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_console_script_runs_as_module() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "coachmatch", "validate", str(EXAMPLE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "coaches: 55 active of 55" in done.stdout


def test_match_example_prints_both_summaries(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["match", str(EXAMPLE), "--explain", "R0001"]) == 0
    out = capsys.readouterr().out
    assert "program: Toronto Psychiatry Residency" in out
    assert "status: optimal" in out
    assert "matched: 190 residents" in out
    assert "R0001 (" in out


def test_match_bad_input_exits_2(
    edit: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    folder = edit("coaches.csv", "ada@example.org,tgh", "ada@example.org,tgx")
    assert main(["match", str(folder)]) == 2
    assert "unknown site 'tgx'" in capsys.readouterr().out


def test_match_infeasible_exits_3_with_reasons(
    edit: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    folder = edit("requests.csv", "R2,C1,forbid,", "R1,C2,forbid,\nR1,C3,forbid,")
    assert main(["match", str(folder), "--verbose"]) == 3
    out = capsys.readouterr().out
    assert "no matching satisfies the rules" in out
    assert "R1 has no allowed coach among 3 active coaches" in out


def test_match_allow_unmatched(
    edit: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    folder = edit("requests.csv", "R2,C1,forbid,", "R1,C2,forbid,\nR1,C3,forbid,")
    assert main(["match", str(folder), "--allow-unmatched", "--explain", "R1"]) == 0
    out = capsys.readouterr().out
    assert "1 unmatched" in out
    assert "R1 (Dana Fox) is unmatched: no allowed coach" in out


def test_schedule_command_prints_three_summaries(capsys: pytest.CaptureFixture[str]) -> None:
    # the small synthetic program keeps this test quick
    import tempfile

    from coachmatch.datasets import synthetic
    from coachmatch.io import write_program

    with tempfile.TemporaryDirectory() as tmp:
        folder = write_program(synthetic("small"), f"{tmp}/small")
        assert main(["schedule", str(folder)]) == 0
    out = capsys.readouterr().out
    assert out.count("status: optimal") == 2
    assert "meetings: " in out and "lower bound" in out
