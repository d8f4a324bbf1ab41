"""Issue 10: a program folder is untrusted. Links out of it, pipes, devices, directories
where files belong, huge files and deep nesting give a located error, never a traceback,
a hang or an echo of a system file. Each case reproduces a reported defect."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from coachmatch import Problem, ProgramError, load_program
from coachmatch.cli import main


def problems_in(folder: Path) -> list[Problem]:
    with pytest.raises(ProgramError) as caught:
        load_program(folder)
    return caught.value.problems


def within(seconds: float, work):  # type: ignore[no-untyped-def]
    """Run ``work`` in a thread; fail (instead of hanging the suite) if it blocks."""
    box: dict[str, object] = {}
    worker = threading.Thread(target=lambda: box.update(value=work()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still running after {seconds} s"
    return box.get("value")


def test_a_link_to_a_system_file_is_refused_and_not_echoed(tiny: Path) -> None:
    """Reported: travel.csv linked to a system file echoed a line of it in a warning."""
    (tiny / "travel.csv").unlink()
    (tiny / "travel.csv").symlink_to("/etc/passwd")
    found = problems_in(tiny)
    assert [(str(p), p.expected) for p in found] == [
        (
            "travel.csv: is a symbolic link to a file outside the folder",
            "a regular file inside the folder",
        )
    ]
    assert "root" not in " ".join(str(p) for p in found)


def test_a_link_inside_the_folder_is_followed(tiny: Path) -> None:
    (tiny / "shared").mkdir()
    (tiny / "travel.csv").rename(tiny / "shared" / "travel.csv")
    (tiny / "travel.csv").symlink_to(tiny / "shared" / "travel.csv")
    assert len(load_program(tiny).travel) == 1


def test_an_endless_device_is_refused(tiny: Path) -> None:
    """Reported: a busy calendar linked to /dev/zero read until MemoryError."""
    (tiny / "busy").mkdir()
    (tiny / "busy" / "C1.ics").symlink_to("/dev/zero")
    found = within(10, lambda: problems_in(tiny))
    assert [(p.file, p.message) for p in found] == [
        ("busy/C1.ics", "is a symbolic link to a file outside the folder")
    ]


def test_a_named_pipe_does_not_block(tiny: Path) -> None:
    """Reported: a named pipe blocked forever."""
    (tiny / "busy").mkdir()
    os.mkfifo(tiny / "busy" / "C1.ics")
    os.mkfifo(tiny / "availability.csv.tmp")
    (tiny / "availability.csv").unlink()
    os.rename(tiny / "availability.csv.tmp", tiny / "availability.csv")
    found = within(10, lambda: problems_in(tiny))
    assert {(p.file, p.message) for p in found} == {
        ("availability.csv", "is a named pipe"),
        ("busy/C1.ics", "is a named pipe"),
    }


def test_a_directory_where_a_calendar_belongs(tiny: Path) -> None:
    """Reported: a directory named busy/C0002.ics raised IsADirectoryError."""
    (tiny / "busy" / "C1.ics").mkdir(parents=True)
    (problem,) = problems_in(tiny)
    assert (problem.file, problem.message) == ("busy/C1.ics", "is a directory")


def test_a_busy_folder_that_leaves_the_program_folder(tiny: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tiny / "busy").symlink_to(elsewhere)
    (problem,) = problems_in(tiny)
    assert (problem.file, problem.message) == ("busy", "is a link out of the program folder")


def test_files_above_the_size_limit_are_refused(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COACHMATCH_MAX_FILE_MB", "1")
    with open(tiny / "survey.csv", "a", encoding="utf-8") as handle:
        handle.write("C1,style,3,\n" * 100_000)
    (problem,) = problems_in(tiny)
    assert problem.file == "survey.csv"
    assert problem.message == "is larger than 1 MiB, the most coachmatch reads from one file"


def test_no_unknown_person_cascade_when_coaches_cannot_be_read(tiny: Path) -> None:
    """Reported: with coaches.csv unreadable, every busy/<id>.ics was also reported as
    an unknown person."""
    (tiny / "busy").mkdir()
    for person in ("C1", "C2", "R1"):
        (tiny / "busy" / f"{person}.ics").write_text("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    (tiny / "coaches.csv").write_bytes(b"\xff\xfe not UTF-8")
    found = problems_in(tiny)
    assert [p.file for p in found if p.file.startswith("busy/")] == []
    assert any(p.file == "coaches.csv" for p in found)


def test_deeply_nested_toml_is_an_error_not_a_recursion(tiny: Path) -> None:
    """Reported: 3,000 nested [ in program.toml raised RecursionError."""
    with open(tiny / "program.toml", "a", encoding="utf-8") as handle:
        handle.write("deep = " + "[" * 3000 + "]" * 3000 + "\n")
    found = problems_in(tiny)
    assert any(p.file == "program.toml" and "nested too deeply" in p.message for p in found), [
        str(p) for p in found
    ]


def test_the_command_line_reports_them_with_exit_2(
    tiny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tiny / "travel.csv").unlink()
    (tiny / "travel.csv").symlink_to("/etc/passwd")
    assert main(["validate", str(tiny)]) in (1, 2)
    assert "symbolic link to a file outside the folder" in capsys.readouterr().out
