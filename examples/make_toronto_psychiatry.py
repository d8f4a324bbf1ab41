"""Generate ``examples/toronto-psychiatry/``: a realistic, fully synthetic psychiatry residency.

About 190 residents (PGY1–5) and 55 faculty coaches over the 18 Toronto
teaching hospitals bundled with coachmatch (real addresses and coordinates),
13 four-week blocks from 1 July with supervisors on every rotation, 4
competence panels (PGY1-2, PGY3, PGY4, PGY5), an interest survey (career
interests, life experience, research, coaching style, languages), weekly
availability with the Wednesday-afternoon protected half-day, busy time
(``busy.csv`` and two iCalendar files) and some requests. Every name is
invented; the output is the same on every run.

Run from the repository root::

    python examples/make_toronto_psychiatry.py
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar

from coachmatch import Policy, TravelTime, load_program, write_program
from coachmatch.datasets import synthetic

HERE = Path(__file__).resolve().parent
#: the example ships inside the package (``coachmatch demo`` runs it);
#: ``examples/toronto-psychiatry`` is a link to it
EXAMPLE = HERE.parent / "coachmatch" / "data" / "toronto-psychiatry"
SEED = 2026
SERVICES = (
    "Adult Inpatient Psychiatry",
    "Emergency Psychiatry",
    "Consultation-Liaison Psychiatry",
    "Child and Adolescent Psychiatry",
    "Geriatric Psychiatry",
    "Addiction Psychiatry",
    "Forensic Psychiatry",
    "Community Psychiatry (ACT)",
    "Psychotherapy",
    "Neurology",
    "Internal Medicine",
    "Family Medicine",
)
START = date(2026, 7, 1)
TORONTO = ZoneInfo("America/Toronto")
STAMP = datetime(2026, 6, 1, 12, 0, tzinfo=ZoneInfo("UTC"))  # fixed, so reruns are identical


def _calendar(events: list[icalendar.Event]) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//coachmatch//toronto-psychiatry example//EN")
    calendar.add("version", "2.0")
    for event in events:
        event.add("dtstamp", STAMP)
        calendar.add_component(event)
    calendar.add_missing_timezones()
    data: bytes = calendar.to_ical()
    return data


def _event(
    uid: str, summary: str, start: date | datetime, end: date | datetime, **extra: object
) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", f"{uid}@toronto-psychiatry.example.org")
    event.add("summary", summary)
    event.add("dtstart", start)
    event.add("dtend", end)
    for key, value in extra.items():
        event.add(key, value)
    return event


def busy_calendars(coach_id: str, resident_id: str) -> dict[str, bytes]:
    """Two calendars as Outlook would export them: recurring clinic, holidays, exams."""
    clinic_start = datetime(2026, 7, 7, 9, 0, tzinfo=TORONTO)  # a Tuesday
    coach = _calendar(
        [
            _event(
                "clinic",
                "Outpatient clinic",
                clinic_start,
                clinic_start + timedelta(hours=3),
                rrule={"freq": "weekly", "until": datetime(2027, 6, 29, 23, 59, tzinfo=TORONTO)},
                exdate=[datetime(2026, 12, 29, 9, 0, tzinfo=TORONTO)],
            ),
            _event("holidays", "Winter holidays", date(2026, 12, 21), date(2027, 1, 4)),
            _event(
                "journal-club",
                "Journal club (optional)",
                datetime(2026, 9, 16, 12, 0, tzinfo=TORONTO),
                datetime(2026, 9, 16, 13, 0, tzinfo=TORONTO),
                transp="TRANSPARENT",
            ),
        ]
    )
    utc = ZoneInfo("UTC")
    resident = _calendar(
        [
            # the same 14:00 UTC slot on both sides of the 2026-11-01 daylight-saving change
            _event(
                "exam-prep-1",
                "Exam preparation course",
                datetime(2026, 10, 30, 14, 0, tzinfo=utc),
                datetime(2026, 10, 30, 17, 0, tzinfo=utc),
            ),
            _event(
                "exam-prep-2",
                "Exam preparation course",
                datetime(2026, 11, 6, 14, 0, tzinfo=utc),
                datetime(2026, 11, 6, 17, 0, tzinfo=utc),
            ),
            _event("wedding", "Family wedding", date(2027, 5, 14), date(2027, 5, 18)),
        ]
    )
    return {coach_id: coach, resident_id: resident}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=EXAMPLE)
    out: Path = parser.parse_args().out

    program = synthetic(
        None,
        residents=190,
        coaches=55,
        sites=18,
        programs=["Psychiatry"],
        seed=SEED,
        name="Toronto Psychiatry Residency (synthetic example)",
        start=START,
        services=SERVICES,
        panels_per_program=4,
        policy=Policy(max_caseload=4, not_own_decision="forbid", seed=SEED),
    )
    # the CAMH campuses run a staff shuttle: faster than the coordinate model says
    shuttle = (
        TravelTime(from_site="camh-queen", to_site="camh-college", minutes=12),
        TravelTime(from_site="camh-college", to_site="camh-queen", minutes=12),
    )
    program = program.replace(travel=shuttle)

    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as staging:
        folder = write_program(program, Path(staging) / "program")
        (folder / "busy").mkdir()
        for person, data in busy_calendars(
            program.coaches[0].coach_id, program.residents[0].resident_id
        ).items():
            (folder / "busy" / f"{person}.ics").write_bytes(data)
        load_program(folder)  # the folder must read back cleanly before it replaces the old one
        if out.exists():
            shutil.rmtree(out)
        os.replace(folder, out)
    print(load_program(out).summary())


if __name__ == "__main__":
    main()
