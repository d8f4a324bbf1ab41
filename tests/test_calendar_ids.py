"""Issue 11, items 1-2: meeting ids and calendar file names that cannot collide."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest

from coachmatch import (
    AvailabilityWindow,
    Coach,
    Program,
    ProgramError,
    Resident,
    Site,
    load_program,
    match,
    run,
    schedule,
    write_program,
)
from coachmatch.calendar import calendars
from coachmatch.solver.scheduling.replan import meeting_id


def hyphens() -> Program:
    """Reported: resident R1 with coach Q-C9 and resident R1-Q with coach C9 got the
    same meeting ids (1,352 meetings had 1,345 ids; 7 events replaced others)."""
    return Program(
        name="Hyphens",
        timezone="America/Toronto",
        start=date(2026, 7, 1),
        end=date(2027, 6, 30),
        sites=[Site(site_id="tgh", name="Toronto General", lat=43.659, lon=-79.388)],
        coaches=[
            Coach(coach_id="Q-C9", name="Dr. Q", site_id="tgh", capacity=1),
            Coach(coach_id="C9", name="Dr. C", site_id="tgh", capacity=1),
        ],
        residents=[
            Resident(resident_id="R1", name="One", current_coach_id="Q-C9"),
            Resident(resident_id="R1-Q", name="Two", current_coach_id="C9"),
        ],
        availability=[
            AvailabilityWindow(person_id=p, weekday="wed", start=time(13), end=time(17))
            for p in ("Q-C9", "C9", "R1", "R1-Q")
        ],
    )


def test_pairs_with_hyphens_never_share_a_meeting_id() -> None:
    program = hyphens()
    plan = schedule(program, match(program))
    ids = plan.meetings["meeting_id"]
    assert ids.is_unique and len(ids) > 10
    assert set(ids.str.rsplit("-", n=1).str[0]) == {"R1-Q%2DC9", "R1%2DQ-C9"}


def test_meeting_ids_read_as_before_and_stay_file_names() -> None:
    assert meeting_id(("R0001", "C0002"), 7) == "R0001-C0002-07"
    assert meeting_id(("50%", "C"), 1) == "50%25-C-01"
    long = meeting_id(("R" * 100, "C" * 100), 3)
    assert long.startswith("m") and long.endswith("-03") and len(long) < 40
    assert long != meeting_id(("R" * 100, "C" * 99 + "D"), 3)


def test_ids_that_differ_only_in_case_are_an_input_error(tiny: Path) -> None:
    """Reported: r0005 and R0005 overwrite each other's calendar on macOS and Windows."""
    with open(tiny / "residents.csv", "a", encoding="utf-8") as handle:
        handle.write("r1,Dana Fox Jr,,Psychiatry,1,P-junior,,true\n")
    with pytest.raises(ProgramError) as caught:
        load_program(tiny)
    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.column) == ("residents.csv", 6, "resident_id")
    assert problem.message == (
        "'r1' differs from 'R1' (residents.csv row 1) only in letter case; ids name files, "
        "and many file systems ignore case"
    )


def test_a_person_called_program_keeps_their_own_calendar(tmp_path: Path) -> None:
    """Reported: a person whose id is `program` got or lost program.ics."""
    program = hyphens().replace(
        residents=(
            Resident(resident_id="program", name="Pat Program", current_coach_id="Q-C9"),
            Resident(resident_id="R1-Q", name="Two", current_coach_id="C9"),
        ),
        availability=[
            AvailabilityWindow(person_id=p, weekday="wed", start=time(13), end=time(17))
            for p in ("Q-C9", "C9", "program", "R1-Q")
        ],
    )
    files = calendars(schedule(program, match(program)), stamp=program_stamp())
    assert {"program.ics", "people/program.ics"} <= set(files)
    assert files["program.ics"] != files["people/program.ics"]
    out = run(write_program(program, tmp_path / "p"), tmp_path / "out").out
    assert (out / "calendars" / "program.ics").is_file()
    assert (out / "calendars" / "people" / "program.ics").is_file()


def program_stamp():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime(2026, 7, 1, tzinfo=UTC)
