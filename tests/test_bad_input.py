"""Malformed program folders: every problem named by file, line and column (SPEC §7).

Each case edits one file of the tiny valid folder (``conftest.TINY``) and checks
that the error names the right place and says what was expected.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from coachmatch import ProgramError, ProgramWarning, load_program
from tests.conftest import problems_of

# (case id, file, old text, new text, expected file, line, column, message fragment)
CASES = [
    # -- missing or duplicate columns, bad structure --------------------------
    (
        "missing-column",
        "coaches.csv",
        "email,site_id,",
        "email,",
        "coaches.csv",
        1,
        "site_id",
        "missing required column 'site_id'",
    ),
    ("duplicate-column", "sites.csv", "lat,lon", "lat,lat", "sites.csv", 1, "lat", "appears twice"),
    (
        "too-many-cells",
        "residents.csv",
        "C1,true",
        "C1,true,extra",
        "residents.csv",
        4,
        None,
        "row has 9 cells but the header has 8",
    ),
    (
        "empty-required-cell",
        "residents.csv",
        "R3,Fay Wu,",
        "R3,,",
        "residents.csv",
        4,
        "name",
        "missing value",
    ),
    # -- duplicate ids ----------------------------------------------------------
    (
        "duplicate-coach",
        "coaches.csv",
        "C3,Dr. Cy Lam",
        "C1,Dr. Cy Lam",
        "coaches.csv",
        4,
        "coach_id",
        "duplicate coach_id 'C1'",
    ),
    (
        "duplicate-site",
        "sites.csv",
        "sunnybrook,Sunnybrook",
        "camh,Sunnybrook",
        "sites.csv",
        4,
        "site_id",
        "duplicate site_id 'camh'",
    ),
    (
        "duplicate-resident",
        "residents.csv",
        "R4,Gus Ng",
        "R1,Gus Ng",
        "residents.csv",
        5,
        "resident_id",
        "duplicate resident_id 'R1'",
    ),
    (
        "duplicate-panel",
        "panels.csv",
        "P-senior,Senior",
        "P-junior,Senior",
        "panels.csv",
        3,
        "panel_id",
        "duplicate panel_id",
    ),
    (
        "duplicate-question",
        "questions.csv",
        "lang,single",
        "style,single",
        "questions.csv",
        4,
        "question_id",
        "duplicate question_id 'style'",
    ),
    (
        "resident-is-coach",
        "residents.csv",
        "R4,Gus Ng",
        "C2,Gus Ng",
        "residents.csv",
        5,
        "resident_id",
        "also a coach_id",
    ),
    (
        "duplicate-request",
        "requests.csv",
        "R2,C1,forbid",
        "R3,C2,forbid",
        "requests.csv",
        3,
        "coach_id",
        "a second row for resident_id 'R3'",
    ),
    (
        "duplicate-answer",
        "survey.csv",
        "R2,lang,French,1",
        "R1,style,2,",
        "survey.csv",
        6,
        "question_id",
        "a second row for person_id 'R1' and question 'style'",
    ),
    (
        "long-form-importance-differs",
        "survey.csv",
        "R2,lang,French,1",
        "R1,career,teaching,3",
        "survey.csv",
        6,
        "importance",
        "importance 3 differs from 2",
    ),
    # -- unknown references -------------------------------------------------------
    (
        "coach-unknown-site",
        "coaches.csv",
        "ada@example.org,tgh",
        "ada@example.org,tgx",
        "coaches.csv",
        2,
        "site_id",
        "unknown site 'tgx'",
    ),
    (
        "rotation-unknown-site",
        "rotations.csv",
        "28,tgh,",
        "28,tgx,",
        "rotations.csv",
        2,
        "site_id",
        "unknown site 'tgx'",
    ),
    (
        "travel-unknown-site",
        "travel.csv",
        "tgh,camh,15",
        "tgh,mars,15",
        "travel.csv",
        2,
        "to_site",
        "unknown site 'mars'",
    ),
    (
        "unknown-current-coach",
        "residents.csv",
        "P-senior,C2,",
        "P-senior,C99,",
        "residents.csv",
        3,
        "current_coach_id",
        "unknown coach 'C99'",
    ),
    (
        "request-unknown-coach",
        "requests.csv",
        "R3,C2,prefer",
        "R3,C7,prefer",
        "requests.csv",
        2,
        "coach_id",
        "unknown coach 'C7'",
    ),
    (
        "request-unknown-resident",
        "requests.csv",
        "R2,C1,forbid",
        "R9,C1,forbid",
        "requests.csv",
        3,
        "resident_id",
        "unknown resident 'R9'",
    ),
    (
        "rotation-unknown-resident",
        "rotations.csv",
        "R2,2026-07-01",
        "R7,2026-07-01",
        "rotations.csv",
        4,
        "resident_id",
        "unknown resident 'R7'",
    ),
    (
        "unknown-decision-panel",
        "residents.csv",
        "1,P-junior",
        "1,P-middle",
        "residents.csv",
        2,
        "decision_panel",
        "unknown panel 'P-middle'",
    ),
    (
        "unknown-committee-panel",
        "coaches.csv",
        "0,P-junior,",
        "0,P-junior;P-x,",
        "coaches.csv",
        2,
        "committee_panels",
        "unknown panel 'P-x'",
    ),
    (
        "survey-unknown-question",
        "survey.csv",
        "R2,lang",
        "R2,language",
        "survey.csv",
        6,
        "question_id",
        "unknown question 'language'",
    ),
    (
        "survey-unknown-person",
        "survey.csv",
        "R2,lang",
        "R8,lang",
        "survey.csv",
        6,
        "person_id",
        "unknown person 'R8'",
    ),
    (
        "availability-unknown-person",
        "availability.csv",
        "C1,mon",
        "C9,mon",
        "availability.csv",
        3,
        "person_id",
        "unknown person 'C9'",
    ),
    (
        "busy-unknown-person",
        "busy.csv",
        "C1,2026",
        "Z1,2026",
        "busy.csv",
        2,
        "person_id",
        "unknown person 'Z1'",
    ),
    # -- bad values -----------------------------------------------------------------
    (
        "bad-date",
        "rotations.csv",
        "R1,2026-07-29",
        "R1,2026-13-29",
        "rotations.csv",
        3,
        "start",
        "expected a date YYYY-MM-DD, got '2026-13-29'",
    ),
    (
        "bad-date-format",
        "rotations.csv",
        "2026-08-25",
        "25/08/2026",
        "rotations.csv",
        3,
        "end",
        "expected a date YYYY-MM-DD",
    ),
    (
        "bad-time",
        "availability.csv",
        "13:00,17:00",
        "1pm,17:00",
        "availability.csv",
        2,
        "start",
        "expected a time HH:MM, got '1pm'",
    ),
    (
        "bad-weekday",
        "availability.csv",
        "C1,mon",
        "C1,funday",
        "availability.csv",
        3,
        "weekday",
        "expected one of 'mon'",
    ),
    (
        "bad-boolean",
        "coaches.csv",
        ",false,true",
        ",maybe,true",
        "coaches.csv",
        3,
        "virtual_ok",
        "expected true or false, got 'maybe'",
    ),
    (
        "bad-capacity",
        "coaches.csv",
        "cy@example.org,sunnybrook,2,",
        "cy@example.org,sunnybrook,two,",
        "coaches.csv",
        4,
        "capacity",
        "expected a whole number, got 'two'",
    ),
    (
        "fractional-pgy",
        "residents.csv",
        "Psychiatry,3,",
        "Psychiatry,3.5,",
        "residents.csv",
        3,
        "pgy",
        "expected a whole number",
    ),
    (
        "bad-latitude",
        "sites.csv",
        "43.6434,",
        "north,",
        "sites.csv",
        3,
        "lat",
        "expected a number, got 'north'",
    ),
    (
        "latitude-out-of-range",
        "sites.csv",
        "43.6434,",
        "143.6434,",
        "sites.csv",
        3,
        "lat",
        "expected a number <= 90",
    ),
    (
        "negative-travel",
        "travel.csv",
        "camh,15",
        "camh,-5",
        "travel.csv",
        2,
        "minutes",
        "expected a number >= 0",
    ),
    (
        "negative-capacity",
        "coaches.csv",
        "ada@example.org,tgh,3,",
        "ada@example.org,tgh,-1,",
        "coaches.csv",
        2,
        "capacity",
        "expected a number >= 0, got '-1'",
    ),
    (
        "min-load-above-capacity",
        "coaches.csv",
        "sunnybrook,2,1,",
        "sunnybrook,2,3,",
        "coaches.csv",
        4,
        "min_load",
        "min_load 3 is greater than capacity 2",
    ),
    (
        "negative-importance",
        "survey.csv",
        "research,2",
        "research,-2",
        "survey.csv",
        2,
        "importance",
        "expected a number >= 0",
    ),
    (
        "id-with-slash",
        "coaches.csv",
        "C2,Dr. Ben",
        "C/2,Dr. Ben",
        "coaches.csv",
        3,
        "coach_id",
        "must not contain",
    ),
    (
        "bad-id-inside-a-list-cell",
        "rotations.csv",
        "Emergency,F9",
        "Emergency,F/9",
        "rotations.csv",
        3,
        "supervisor_ids",
        "must not contain",
    ),
    (
        "unknown-request-kind",
        "requests.csv",
        "prefer",
        "insist",
        "requests.csv",
        2,
        "kind",
        "expected one of 'require', 'forbid', 'prefer' or 'change'",
    ),
    (
        "bad-busy-datetime",
        "busy.csv",
        "2026-09-14T09:00",
        "next monday",
        "busy.csv",
        2,
        "start",
        "expected a date-time",
    ),
    # -- end before start, overlaps ---------------------------------------------------
    (
        "rotation-end-before-start",
        "rotations.csv",
        "2026-07-29,2026-08-25",
        "2026-07-29,2026-07-20",
        "rotations.csv",
        3,
        "end",
        "end 2026-07-20 is before start 2026-07-29",
    ),
    (
        "availability-end-before-start",
        "availability.csv",
        "09:00,11:30",
        "09:00,08:30",
        "availability.csv",
        3,
        "end",
        "is before start",
    ),
    (
        "busy-end-before-start",
        "busy.csv",
        "T09:00,2026-09-14T12:00",
        "T09:00,2026-09-14T08:00",
        "busy.csv",
        2,
        "end",
        "is before start",
    ),
    (
        "overlapping-rotations",
        "rotations.csv",
        "R1,2026-07-29",
        "R1,2026-07-20",
        "rotations.csv",
        3,
        "start",
        "overlaps rotation 2026-07-01..2026-07-28",
    ),
    # -- survey -------------------------------------------------------------------------
    (
        "scale-out-of-range",
        "survey.csv",
        "R1,style,4",
        "R1,style,9",
        "survey.csv",
        3,
        "answer",
        "9 is outside the scale of question 'style'",
    ),
    (
        "scale-not-number",
        "survey.csv",
        "C1,style,3",
        "C1,style,often",
        "survey.csv",
        5,
        "answer",
        "'often' is not a number",
    ),
    (
        "single-two-answers",
        "survey.csv",
        "R2,lang,French",
        "R2,lang,French;English",
        "survey.csv",
        6,
        "answer",
        "takes one answer, got 2",
    ),
    (
        "unknown-question-kind",
        "questions.csv",
        "lang,single",
        "lang,ranking",
        "questions.csv",
        4,
        "kind",
        "expected one of 'multi', 'single' or 'scale', got 'ranking'",
    ),
    (
        "scale-without-max",
        "questions.csv",
        "style,scale,1,1,5",
        "style,scale,1,1,",
        "questions.csv",
        3,
        "max",
        "needs both min and max",
    ),
    (
        "scale-min-above-max",
        "questions.csv",
        "style,scale,1,1,5",
        "style,scale,1,5,1",
        "questions.csv",
        3,
        "max",
        "must be greater than min",
    ),
    # -- program.toml -------------------------------------------------------------------
    (
        "unknown-policy-key",
        "program.toml",
        "max_caseload = 3",
        "max_caseloads = 3",
        "program.toml",
        7,
        "max_caseloads",
        "did you mean 'max_caseload'?",
    ),
    (
        "bad-policy-value",
        "program.toml",
        '"forbid"',
        '"maybe"',
        "program.toml",
        8,
        "not_own_decision",
        "expected one of 'forbid', 'recuse' or 'off'",
    ),
    (
        "policy-min-above-max",
        "program.toml",
        "max_caseload = 3",
        "max_caseload = 3\nmin_caseload = 5",
        "program.toml",
        8,
        "min_caseload",
        "min_caseload 5 is greater than",
    ),
    (
        "bad-cadence",
        "program.toml",
        "max_caseload = 3",
        "cadence_days = [60, 40]",
        "program.toml",
        7,
        "cadence_days",
        "1 <= shortest <= longest",
    ),
    (
        "bad-time-zone",
        "program.toml",
        "America/Toronto",
        "America/Toront",
        "program.toml",
        2,
        "timezone",
        "did you mean 'America/Toronto'?",
    ),
    (
        "malformed-toml",
        "program.toml",
        "start = 2026-07-01",
        "start = ",
        "program.toml",
        3,
        "9",
        "malformed TOML",
    ),
    (
        "unknown-top-level-key",
        "program.toml",
        'name = "Tiny',
        'nam = "Tiny',
        "program.toml",
        1,
        "nam",
        "did you mean 'name'?",
    ),
    (
        "horizon-end-before-start",
        "program.toml",
        "end = 2027-06-30",
        "end = 2025-06-30",
        "program.toml",
        4,
        "end",
        "end 2025-06-30 is before start 2026-07-01",
    ),
    (
        "bad-horizon-date",
        "program.toml",
        "start = 2026-07-01",
        'start = "July 1st"',
        "program.toml",
        3,
        "start",
        "expected a date YYYY-MM-DD",
    ),
]


@pytest.mark.parametrize(
    ("name", "old", "new", "file", "line", "column", "fragment"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_problem_is_located(
    edit: Callable[..., Path],
    name: str,
    old: str,
    new: str,
    file: str,
    line: int,
    column: str | None,
    fragment: str,
) -> None:
    folder = edit(name, old, new)
    problems = problems_of(folder)
    located = [p for p in problems if (p.file, p.line, p.column) == (file, line, column)]
    assert located, f"no problem at {file}:{line}:{column}; got {[str(p) for p in problems]}"
    assert any(fragment in p.message for p in located), [str(p) for p in located]
    where = f"{file} line {line}" + (f", column {column}" if column else "")
    with pytest.raises(ProgramError, match=None) as caught:
        load_program(folder)
    assert where in str(caught.value)


def test_enough_cases() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("name", ["program.toml", "sites.csv", "coaches.csv", "residents.csv"])
def test_missing_required_file(tiny: Path, name: str) -> None:
    (tiny / name).unlink()
    problems = problems_of(tiny)
    assert any(p.file == name and p.message == "required file is missing" for p in problems)


def test_empty_file(tiny: Path) -> None:
    (tiny / "residents.csv").write_text("", encoding="utf-8")
    problems = problems_of(tiny)
    assert [(p.file, p.line, p.message) for p in problems] == [
        ("residents.csv", 1, "the file is empty")
    ]
    assert "resident_id, name" in (problems[0].expected or "")


def test_not_utf8_names_line_and_column(tiny: Path) -> None:
    path = tiny / "residents.csv"
    path.write_bytes(path.read_bytes().replace(b"Eli Park", "Éli Park".encode("latin-1")))
    problems = problems_of(tiny)
    assert [(p.file, p.line, p.column) for p in problems] == [("residents.csv", 3, "4")]
    assert "not UTF-8" in problems[0].message
    assert "CSV UTF-8" in (problems[0].expected or "")


def test_toml_not_utf8(tiny: Path) -> None:
    path = tiny / "program.toml"
    path.write_bytes(path.read_bytes().replace(b"Tiny", b"T\xefny"))
    problems = problems_of(tiny)
    assert (problems[0].file, problems[0].line, problems[0].column) == ("program.toml", 1, "10")


def test_utf8_byte_order_mark_is_accepted(tiny: Path) -> None:
    path = tiny / "coaches.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load_program(tiny).coaches[0].coach_id == "C1"


def test_unknown_column_warns_with_closest_name(edit: Callable[..., Path]) -> None:
    folder = edit("coaches.csv", "name,email,", "name,emial,")
    with pytest.warns(ProgramWarning, match=r"coaches.csv line 1, column emial: .*'email'"):
        program = load_program(folder)
    assert program.coaches[0].email == ""


def test_broken_row_is_not_reported_again_as_unknown(edit: Callable[..., Path]) -> None:
    # C2's row is broken; references to C2 elsewhere must not add noise
    folder = edit("coaches.csv", ",false,true", ",maybe,true")
    problems = problems_of(folder)
    assert [(p.file, p.line, p.column) for p in problems] == [("coaches.csv", 3, "virtual_ok")]


def test_every_problem_in_one_report(edit: Callable[..., Path]) -> None:
    edit("program.toml", "max_caseload = 3", "max_caseloads = 3")
    edit("coaches.csv", "ada@example.org,tgh", "ada@example.org,tgx")
    edit("residents.csv", "P-senior,C2,", "P-senior,C99,")
    edit("rotations.csv", "R1,2026-07-29", "R1,2026-07-20")
    folder = edit("survey.csv", "R1,style,4", "R1,style,9")
    problems = problems_of(folder)
    assert [(p.file, p.line) for p in problems] == [
        ("program.toml", 7),
        ("coaches.csv", 2),
        ("residents.csv", 3),
        ("survey.csv", 3),
        ("rotations.csv", 3),
    ]
    with pytest.raises(ProgramError, match=r"^5 problems in program folder"):
        load_program(folder)


def test_error_is_a_value_error(edit: Callable[..., Path]) -> None:
    folder = edit("residents.csv", "P-senior,C2,", "P-senior,C99,")
    with pytest.raises(
        ValueError, match=r"residents\.csv line 3, column current_coach_id: unknown coach 'C99'"
    ):
        load_program(folder)


def test_problem_carries_value_and_expectation(edit: Callable[..., Path]) -> None:
    folder = edit("coaches.csv", "cy@example.org,sunnybrook,2,", "cy@example.org,sunnybrook,two,")
    (problem,) = problems_of(folder)
    assert (problem.value, problem.expected) == ("two", "a whole number")


def test_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_program(tmp_path / "nowhere")


def test_unreadable_ics(tiny: Path) -> None:
    (tiny / "busy").mkdir()
    (tiny / "busy" / "C1.ics").write_text("this is not a calendar\n", encoding="utf-8")
    problems = problems_of(tiny)
    assert [(p.file, p.line, p.message) for p in problems] == [
        ("busy/C1.ics", 1, "not an iCalendar file")
    ]


def test_ics_bad_property_names_its_line(tiny: Path) -> None:
    (tiny / "busy").mkdir()
    (tiny / "busy" / "C1.ics").write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:a\r\n"
        "DTSTART:20261102T0900XX\r\nDTEND:20261102T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        encoding="utf-8",
    )
    problems = problems_of(tiny)
    assert [(p.file, p.line, p.column) for p in problems] == [("busy/C1.ics", 6, "DTSTART")]


def test_ics_unclosed_component(tiny: Path) -> None:
    (tiny / "busy").mkdir()
    (tiny / "busy" / "R1.ics").write_text(
        "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nDTSTART:20261102T090000\nEND:VCALENDAR\n",
        encoding="utf-8",
    )
    problems = problems_of(tiny)
    assert [(p.file, p.line, p.column) for p in problems] == [("busy/R1.ics", 5, "END")]


def test_ics_for_unknown_person(tiny: Path) -> None:
    (tiny / "busy").mkdir()
    (tiny / "busy" / "Q1.ics").write_text("BEGIN:VCALENDAR\nEND:VCALENDAR\n", encoding="utf-8")
    problems = problems_of(tiny)
    assert [(p.file, p.message) for p in problems] == [("busy/Q1.ics", "unknown person 'Q1'")]
