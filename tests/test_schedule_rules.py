"""Rules S1-S4 (SPEC §5) on hand-made schedules: each respected, each broken."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from coachmatch import (
    AvailabilityWindow,
    BusyInterval,
    Coach,
    Program,
    Resident,
    Rotation,
    Site,
    TravelTime,
)
from coachmatch.constraints import audit_schedule

TORONTO = ZoneInfo("America/Toronto")
MEETING_DAYS = [date(2026, 7, 8), date(2026, 8, 26), date(2026, 10, 14), date(2026, 12, 2)]


def program(**changes: Any) -> Program:
    """Six months; R1 at site a in odd months, b in even ones; C1 and C2 live at a."""
    rotations = []
    for month in range(7, 13):
        start = date(2026, month, 1)
        end = (date(2026, month + 1, 1) if month < 12 else date(2027, 1, 1)) - timedelta(days=1)
        rotations.append(
            Rotation(resident_id="R1", start=start, end=end, site_id="a" if month % 2 else "b")
        )
    rotations += [
        Rotation(resident_id="R2", start=r.start, end=r.end, site_id=r.site_id) for r in rotations
    ]
    base: dict[str, Any] = {
        "name": "Rules",
        "timezone": "America/Toronto",
        "start": date(2026, 7, 1),
        "end": date(2026, 12, 31),
        "sites": [Site(site_id="a", name="A"), Site(site_id="b", name="B")],
        "travel": [
            TravelTime(from_site="a", to_site="b", minutes=10),
            TravelTime(from_site="b", to_site="a", minutes=12),
        ],
        "coaches": [
            Coach(coach_id="C1", name="Dr. One", site_id="a"),
            Coach(coach_id="C2", name="Dr. Two", site_id="a", virtual_ok=False),
        ],
        "residents": [
            Resident(resident_id="R1", name="Res One"),
            Resident(resident_id="R2", name="Res Two"),
        ],
        "rotations": rotations,
    }
    base.update(changes)
    return Program.model_validate(base)


def meeting(
    k: int,
    day: date,
    site: str = "a",
    travel: int | None = None,
    *,
    resident: str = "R1",
    coach: str = "C1",
    at: time = time(9),
    minutes: int = 30,
) -> dict[str, Any]:
    start = datetime.combine(day, at, tzinfo=TORONTO)
    resident_site = "a" if day.month % 2 else "b"
    if travel is None:
        travel = 0 if site == "virtual" or site == resident_site else 22
    return {
        "meeting_id": f"{resident}-{coach}-{k}",
        "sequence": 0,
        "resident_id": resident,
        "coach_id": coach,
        "start": start,
        "end": start + timedelta(minutes=minutes),
        "site_id": site,
        "travel_minutes": travel,
        "status": "scheduled",
    }


def valid() -> list[dict[str, Any]]:
    return [meeting(k, day) for k, day in enumerate(MEETING_DAYS)]


def messages(schedule: Any, prog: Program | None = None, **kwargs: Any) -> list[str]:
    return [str(v) for v in audit_schedule(prog or program(), schedule, **kwargs)]


def test_valid_schedule_passes() -> None:
    assert messages(valid(), pairs=[("R1", "C1")]) == []
    assert messages(pd.DataFrame(valid())) == []


def test_meetings_csv_text_is_accepted() -> None:
    rows = [{**m, "start": m["start"].isoformat(), "end": m["end"].isoformat()} for m in valid()]
    assert messages(rows) == []


def test_cancelled_meetings_are_ignored() -> None:
    rows = [*valid(), {**meeting(9, date(2026, 7, 4)), "status": "cancelled"}]
    assert messages(rows) == []


# -- S1 ---------------------------------------------------------------------------


def test_s1_length_and_boundary() -> None:
    rows = valid()
    rows[1] = meeting(1, MEETING_DAYS[1], minutes=45)
    rows[2] = meeting(2, MEETING_DAYS[2], at=time(9, 10))
    found = messages(rows)
    assert "S1 length: R1-C1-1 (R1 and C1) on 2026-08-26 lasts 45 minutes, not 30" in found
    assert "S1 length: R1-C1-2 (R1 and C1) starts at 09:10, not on a 30-minute boundary" in found


# -- S2 ---------------------------------------------------------------------------


def test_s2_first_meeting_late() -> None:
    days = [date(2026, 7, 30), date(2026, 9, 16), date(2026, 11, 4), date(2026, 12, 16)]
    rows = [meeting(k, day) for k, day in enumerate(days)]
    assert messages(rows) == [
        "S2 cadence: R1 and C1 first meet on 2026-07-30, 29 days after 2026-07-01; the first "
        "meeting is due within 28"
    ]
    # a pair made in mid-July has until 28 days after its own start
    assert messages(rows, starts={("R1", "C1"): date(2026, 7, 15)}) == []


def test_s2_gaps_too_short_and_too_long() -> None:
    rows = [
        meeting(0, date(2026, 7, 8)),
        meeting(1, date(2026, 8, 12)),
        meeting(2, date(2026, 10, 14)),
        meeting(3, date(2026, 12, 2)),
    ]
    assert messages(rows) == [
        "S2 cadence: R1 and C1 meet 2026-07-08 and 2026-08-12: 35 days apart, fewer than 42",
        "S2 cadence: R1 and C1 meet 2026-08-12 and 2026-10-14: 63 days apart, more than 56",
    ]


def test_s2_stops_too_early_and_missing_pairs() -> None:
    found = messages(valid()[:3], pairs=[("R1", "C1"), ("R2", "C1")])
    assert (
        "S2 cadence: R1 and C1 last meet on 2026-10-14, 78 days before the horizon ends "
        "on 2026-12-31; the last gap must be under 56"
    ) in found
    assert "S2 cadence: R2 and C1 have no meeting" in found


def test_s2_a_pair_that_ended_during_the_horizon() -> None:
    ended = {("R1", "C1"): date(2026, 11, 1)}
    # the last gap is measured to the pair's end, not the horizon's: respected
    assert messages(valid()[:3], ends=ended) == []
    # broken: the last meeting too long before the end, and a meeting after it
    assert messages(valid()[:2], ends=ended) == [
        "S2 cadence: R1 and C1 last meet on 2026-08-26, 67 days before the pair ended on "
        "2026-11-01; the last gap must be under 56"
    ]
    assert messages(valid(), ends=ended) == [
        "S2 cadence: R1-C1-3 (R1 and C1) on 2026-12-02 is after the pair ended on 2026-11-01"
    ]


def test_s2_meetings_before_a_pairs_start_belong_to_an_earlier_stint() -> None:
    # the pair met once in July, then was made again on 2026-10-01: its cadence restarts
    rows = [
        meeting(0, date(2026, 7, 8)),
        *(meeting(k, d) for k, d in enumerate([date(2026, 10, 14), date(2026, 12, 2)], start=1)),
    ]
    assert messages(rows, starts={("R1", "C1"): date(2026, 10, 1)}) == []
    assert any("more than 56" in m for m in messages(rows))


def test_s2_outside_the_horizon() -> None:
    rows = [*valid(), meeting(9, date(2027, 1, 20))]
    assert any("is outside the horizon" in m for m in messages(rows))


# -- S3 ---------------------------------------------------------------------------


def test_s3_weekend_and_hours() -> None:
    rows = valid()
    rows[1] = meeting(1, date(2026, 8, 29))  # a Saturday
    rows[2] = meeting(2, MEETING_DAYS[2], at=time(18))
    found = messages(rows)
    assert (
        "S3 availability: R1-C1-1 on 2026-08-29 at 09:00: R1 is not available (outside "
        "their availability windows or workday)"
    ) in found
    assert sum("R1-C1-2 on 2026-10-14 at 18:00" in m for m in found) == 2  # both people


def test_s3_windows_replace_the_workday() -> None:
    windows = [AvailabilityWindow(person_id="C1", weekday="wed", start=time(13), end=time(17))]
    found = messages(valid(), program(availability=windows))
    assert len([m for m in found if "C1 is not available" in m]) == 4
    afternoon = [meeting(k, day, at=time(13, 30)) for k, day in enumerate(MEETING_DAYS)]
    assert messages(afternoon, program(availability=windows)) == []


def test_s3_busy_time() -> None:
    busy = [
        BusyInterval(
            person_id="C1",
            start=datetime(2026, 10, 14, 8, 45, tzinfo=TORONTO),
            end=datetime(2026, 10, 14, 9, 15, tzinfo=TORONTO),
        )
    ]
    assert messages(valid(), program(busy=busy)) == [
        "S3 availability: R1-C1-2 on 2026-10-14 at 09:00: C1 is not available (busy)"
    ]


def test_s3_off_rotation() -> None:
    prog = program()
    rotations = tuple(
        r for r in prog.rotations if not (r.resident_id == "R1" and r.start.month == 8)
    )
    found = messages(valid(), prog.replace(rotations=rotations))
    assert any("R1 is not available (not on a rotation that day)" in m for m in found)


def test_s3_double_booking() -> None:
    rows = [*valid(), *[meeting(k, day, resident="R2") for k, day in enumerate(MEETING_DAYS)]]
    found = messages(rows)
    assert sum("C1 has two meetings at once" in m for m in found) == 4
    later = [meeting(k, day, resident="R2", at=time(9, 30)) for k, day in enumerate(MEETING_DAYS)]
    assert messages([*valid(), *later]) == []


# -- S4 ---------------------------------------------------------------------------


def test_s4_place_must_be_home_or_rotation_site() -> None:
    prog = program(
        sites=[
            Site(site_id="a", name="A"),
            Site(site_id="b", name="B"),
            Site(site_id="c", name="C"),
        ],
        travel=[
            TravelTime(from_site=x, to_site=y, minutes=10) for x in "abc" for y in "abc" if x != y
        ],
    )
    rows = valid()
    rows[0] = meeting(0, MEETING_DAYS[0], site="c", travel=40)
    found = messages(rows, prog)
    assert (
        "S4 place: R1-C1-0 (R1 and C1) on 2026-07-08 is at c, neither C1's home site nor "
        "R1's rotation site that day (a)"
    ) in found


def test_s4_meeting_at_the_residents_site_costs_the_coach() -> None:
    rows = valid()
    rows[1] = meeting(1, MEETING_DAYS[1], site="b", travel=22)  # resident at b in August
    assert messages(rows) == []
    rows[1] = meeting(1, MEETING_DAYS[1], site="b", travel=5)
    assert messages(rows) == [
        "S4 place: R1-C1-1 (R1 and C1) on 2026-08-26 reports 5 travel minutes; the travel "
        "model gives 22"
    ]


def test_s4_virtual_rules() -> None:
    rows = valid()
    rows[1] = meeting(1, MEETING_DAYS[1], site="virtual")
    assert messages(rows) == []  # 1 of 4 virtual, share 0.5
    rows[2] = meeting(2, MEETING_DAYS[2], site="virtual")
    rows[3] = meeting(3, MEETING_DAYS[3], site="virtual")
    assert messages(rows) == [
        "S4 place: R1 and C1 meet virtually 3 of 4 times, more than the share of 0.5"
    ]
    first = [meeting(0, MEETING_DAYS[0], site="virtual"), *valid()[1:]]
    assert messages(first) == [
        "S4 place: R1 and C1 first meet virtually (R1-C1-0); the first meeting is in person"
    ]
    never = program().with_policy(virtual="never")
    assert any("the program meets in person only" in m for m in messages(first, never))
    only = program().with_policy(virtual="only")
    assert len(messages(valid(), only)) == 4
    assert messages([meeting(k, d, site="virtual") for k, d in enumerate(MEETING_DAYS)], only) == []


def test_s4_coach_who_does_not_meet_virtually() -> None:
    rows = [meeting(k, d, coach="C2") for k, d in enumerate(MEETING_DAYS)]
    rows[1] = meeting(1, MEETING_DAYS[1], coach="C2", site="virtual")
    assert (
        "S4 place: R1-C2-1 (R1 and C2) on 2026-08-26 is virtual, but C2 does not meet virtually"
    ) in messages(rows)


def test_s4_unknown_site() -> None:
    rows = valid()
    rows[0] = meeting(0, MEETING_DAYS[0], site="mars")
    assert "S4 place: R1-C1-0 (R1 and C1) on 2026-07-08 is at unknown site 'mars'" in (
        messages(rows)
    )


def test_naive_times_are_rejected() -> None:
    rows = valid()
    rows[0] = {**rows[0], "start": datetime(2026, 7, 8, 9)}
    with pytest.raises(ValueError, match="time-zone-aware"):
        audit_schedule(program(), rows)
