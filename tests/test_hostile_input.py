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
    assert main(["validate", str(tiny)]) == 2
    assert "symbolic link to a file outside the folder" in capsys.readouterr().out


# -- bounded work and checked values (issue 10 items 4 and 5) ---------------------------

CALENDAR = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\nBEGIN:VEVENT\r\nUID:1\r\n"
    "DTSTART:20260701T130000Z\r\nDTEND:20260701T133000Z\r\nRRULE:{rule}\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        ("FREQ=DAILY;INTERVAL=0", "INTERVAL must be a whole number of at least 1"),
        ("FREQ=SECONDLY", "can repeat up to 31,"),
        ("FREQ=MINUTELY;INTERVAL=1", "coachmatch expands at most 50,000 events per calendar"),
        (
            "FREQ=YEARLY;BYHOUR="
            + ",".join(map(str, range(24)))
            + ";BYMINUTE="
            + ",".join(map(str, range(0, 60, 5)))
            + ";BYDAY=MO,TU,WE",
            "can repeat up to",
        ),
    ],
)
def test_recurring_floods_are_refused_at_once(tiny: Path, rule: str, fragment: str) -> None:
    """Reported: a 203-byte calendar with RRULE:FREQ=DAILY;INTERVAL=0 or an endless
    FREQ=SECONDLY ran 3 minutes and grew to ~7 GB."""
    (tiny / "busy").mkdir()
    (tiny / "busy" / "C1.ics").write_text(CALENDAR.format(rule=rule), newline="")
    found = within(5, lambda: problems_in(tiny))
    (problem,) = found
    assert (problem.file, problem.line, problem.column) == ("busy/C1.ics", 8, "RRULE")
    assert fragment in problem.message


def test_a_large_count_within_the_horizon_is_fine(tiny: Path) -> None:
    (tiny / "busy").mkdir()
    (tiny / "busy" / "C1.ics").write_text(
        CALENDAR.format(rule="FREQ=DAILY;COUNT=5000000"), newline=""
    )
    program = within(10, lambda: load_program(tiny))
    assert sum(b.person_id == "C1" for b in program.busy) == 365 + 1  # and busy.csv's row


@pytest.mark.parametrize(
    ("file", "old", "new", "line", "column", "fragment"),
    [
        # a horizon of a century, and one ending at the end of time
        ("program.toml", "end = 2027-06-30", "end = 2126-06-30", 4, "end", "at most 1830"),
        ("program.toml", "end = 2027-06-30", "end = 9999-12-31", 4, "end", "at most 1830"),
        # numbers the solvers would overflow on
        (
            "program.toml",
            "max_caseload = 3",
            "max_caseload = 3\ncadence_days = [1, 1000000000000]",
            8,
            "cadence_days",
            "<= 366",
        ),
        (
            "coaches.csv",
            "tgh,3,0,P-junior",
            "tgh,1000000000000000000,0,P-junior",
            2,
            "capacity",
            "<= 1000",
        ),
        (
            "coaches.csv",
            "tgh,3,0,P-junior",
            "tgh,99999999999999999999999,0,P-junior",
            2,
            "capacity",
            "<= 1000",
        ),
        ("questions.csv", "career,multi,2", "career,multi,1e308", 2, "weight", "<= 1000"),
        (
            "survey.csv",
            "R1,career,child;research,2",
            "R1,career,child;research,1e308",
            2,
            "importance",
            "<= 1000",
        ),
        # times as numbers would be read as seconds past midnight
        (
            "program.toml",
            "max_caseload = 3",
            "max_caseload = 3\nworkday = [8, 18]",
            8,
            "workday",
            '"HH:MM"',
        ),
        # a time zone is a name in the tz database, not a path
        ("program.toml", '"America/Toronto"', '"America"', 2, "timezone", "unknown time zone"),
        (
            "program.toml",
            '"America/Toronto"',
            '"' + "A/" * 150 + '"',
            2,
            "timezone",
            "unknown time zone",
        ),
        # one-line text: a newline in a name or e-mail broke every calendar
        ("coaches.csv", "C1,Dr. Ada Osei,", 'C1,"Dr. Ada\nOsei",', 2, "name", "one line"),
        ("coaches.csv", "ada@example.org", '"ada@example.org\nBCC:x@y"', 2, "email", "one line"),
        ("coaches.csv", "ada@example.org", "not an address", 2, "email", "e-mail address"),
        # ids long enough to make file names the file system refuses
        (
            "residents.csv",
            "R1,Dana",
            "R" + "1" * 300 + ",Dana",
            2,
            "resident_id",
            "at most 100 bytes",
        ),
    ],
)
def test_out_of_range_values_are_located(
    edit,  # type: ignore[no-untyped-def]
    file: str,
    old: str,
    new: str,
    line: int,
    column: str,
    fragment: str,
) -> None:
    folder = edit(file, old, new)
    found = within(10, lambda: problems_in(folder))
    located = [p for p in found if (p.file, p.line, p.column) == (file, line, column)]
    assert located, [str(p) for p in found]
    assert any(fragment in p.message or fragment in (p.expected or "") for p in located), [
        str(p) for p in located
    ]


def test_a_calendar_named_after_a_broken_id(tiny: Path) -> None:
    """Reported: an id with ';' or a tab that also has a busy calendar raised a raw
    pydantic error."""
    (tiny / "busy").mkdir()
    calendar = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nEND:VCALENDAR\r\n"
    (tiny / "busy" / "C1;x.ics").write_text(calendar)
    (tiny / "busy" / "C9\tz.ics").write_text(calendar)
    text = (tiny / "coaches.csv").read_text().replace("\nC1,", '\n"C1;x",', 1)
    (tiny / "coaches.csv").write_text(text)
    found = problems_in(tiny)
    assert ("coaches.csv", 2, "coach_id") in {(p.file, p.line, p.column) for p in found}
    assert [p.file for p in found if p.file.startswith("busy/")] == ["busy/C9\tz.ics"]


def test_a_broken_program_toml_does_not_make_good_busy_times_bad(tiny: Path) -> None:
    """A cascade: with the time zone unknown, every busy.csv time read as malformed."""
    with open(tiny / "program.toml", "a", encoding="utf-8") as handle:
        handle.write("dangling\n")
    (problem,) = problems_in(tiny)
    assert (problem.file, problem.line) == ("program.toml", 9)
    assert problem.message == "malformed TOML: Expected '=' after a key in a key/value pair"
