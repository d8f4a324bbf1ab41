"""Busy time from iCalendar: recurrence, free time, all-day events, time zones, DST."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from coachmatch.calendar import busy_from_ics

TORONTO = ZoneInfo("America/Toronto")
HORIZON = (date(2026, 7, 1), date(2027, 6, 30))


def calendar(*events: str) -> bytes:
    body = "".join(
        f"BEGIN:VEVENT\r\nUID:{k}@test\r\nDTSTAMP:20260101T000000Z\r\n{e}END:VEVENT\r\n"
        for k, e in enumerate(events)
    )
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//test//EN\r\n"
        + body
        + "END:VCALENDAR\r\n"
    ).encode()


def local(busy: list) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [
        (b.start.astimezone(TORONTO).isoformat(), b.end.astimezone(TORONTO).isoformat())
        for b in busy
    ]


def expand(data: bytes) -> list:  # type: ignore[type-arg]
    busy, problems = busy_from_ics(data, "C1", "busy/C1.ics", TORONTO, *HORIZON)
    assert problems == []
    return busy


def test_weekly_recurrence_across_daylight_saving_keeps_local_time() -> None:
    busy = expand(
        calendar(
            "DTSTART;TZID=America/Toronto:20261027T090000\r\n"
            "DTEND;TZID=America/Toronto:20261027T100000\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\n"
        )
    )
    assert local(busy) == [
        ("2026-10-27T09:00:00-04:00", "2026-10-27T10:00:00-04:00"),
        ("2026-11-03T09:00:00-05:00", "2026-11-03T10:00:00-05:00"),
        ("2026-11-10T09:00:00-05:00", "2026-11-10T10:00:00-05:00"),
    ]


def test_utc_events_convert_to_program_time() -> None:
    busy = expand(
        calendar(
            "DTSTART:20261030T140000Z\r\nDTEND:20261030T150000Z\r\n",
            "DTSTART:20261106T140000Z\r\nDTEND:20261106T150000Z\r\n",
        )
    )
    assert [s for s, _ in local(busy)] == ["2026-10-30T10:00:00-04:00", "2026-11-06T09:00:00-05:00"]


def test_floating_time_is_program_local_time() -> None:
    busy = expand(calendar("DTSTART:20260915T140000\r\nDTEND:20260915T153000\r\n"))
    assert local(busy) == [("2026-09-15T14:00:00-04:00", "2026-09-15T15:30:00-04:00")]


def test_other_time_zone_is_converted() -> None:
    busy = expand(
        calendar(
            "DTSTART;TZID=Europe/Paris:20260915T180000\r\n"
            "DTEND;TZID=Europe/Paris:20260915T190000\r\n"
        )
    )
    assert local(busy) == [("2026-09-15T12:00:00-04:00", "2026-09-15T13:00:00-04:00")]


def test_all_day_event_blocks_whole_days() -> None:
    busy = expand(
        calendar(
            "DTSTART;VALUE=DATE:20261231\r\nDTEND;VALUE=DATE:20270102\r\n",
            "DTSTART;VALUE=DATE:20261110\r\n",
        )
    )
    assert local(busy) == [
        ("2026-11-10T00:00:00-05:00", "2026-11-11T00:00:00-05:00"),
        ("2026-12-31T00:00:00-05:00", "2027-01-02T00:00:00-05:00"),
    ]


def test_all_day_event_on_daylight_saving_day_is_23_hours() -> None:
    (busy,) = expand(calendar("DTSTART;VALUE=DATE:20270314\r\n"))
    assert busy.end - busy.start == timedelta(hours=23)


def test_transparent_and_cancelled_events_are_ignored() -> None:
    busy = expand(
        calendar(
            "DTSTART:20260915T140000\r\nDTEND:20260915T150000\r\nTRANSP:TRANSPARENT\r\n",
            "DTSTART:20260916T140000\r\nDTEND:20260916T150000\r\nSTATUS:CANCELLED\r\n",
            "DTSTART:20260917T140000\r\nDTEND:20260917T150000\r\nTRANSP:OPAQUE\r\n",
        )
    )
    assert [s for s, _ in local(busy)] == ["2026-09-17T14:00:00-04:00"]


def test_exdate_and_duration() -> None:
    busy = expand(
        calendar(
            "DTSTART;TZID=America/Toronto:20260901T080000\r\nDURATION:PT2H\r\n"
            "RRULE:FREQ=DAILY;COUNT=3\r\nEXDATE;TZID=America/Toronto:20260902T080000\r\n"
        )
    )
    assert local(busy) == [
        ("2026-09-01T08:00:00-04:00", "2026-09-01T10:00:00-04:00"),
        ("2026-09-03T08:00:00-04:00", "2026-09-03T10:00:00-04:00"),
    ]


def test_only_the_horizon_is_expanded() -> None:
    busy = expand(
        calendar("DTSTART:20260101T090000\r\nDTEND:20260101T100000\r\nRRULE:FREQ=MONTHLY\r\n")
    )
    starts = [b.start.astimezone(TORONTO).date() for b in busy]
    assert starts[0] == date(2026, 7, 1) and starts[-1] == date(2027, 6, 1)
    assert len(starts) == 12


def test_unbounded_recurrence_expands_deterministically() -> None:
    data = calendar("DTSTART:20260701T090000\r\nDTEND:20260701T093000\r\nRRULE:FREQ=DAILY\r\n")
    assert expand(data) == expand(data)
    assert len(expand(data)) == 365


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (b"BEGIN:VCALENDAR\r\nthis line is broken\r\nEND:VCALENDAR\r\n", 2),
        (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:VTODO\r\nEND:VCALENDAR\r\n", 3),
        (b"hello\r\n", 1),
    ],
)
def test_structural_problems_have_lines(text: bytes, line: int) -> None:
    busy, problems = busy_from_ics(text, "C1", "busy/C1.ics", TORONTO, *HORIZON)
    assert busy == [] and [p.line for p in problems] == [line]


def test_not_utf8_calendar() -> None:
    _, problems = busy_from_ics(
        b"BEGIN:VCALENDAR\r\nX-NAME:\xff\r\n", "C1", "busy/C1.ics", TORONTO, *HORIZON
    )
    assert [(p.line, p.column) for p in problems] == [(2, "8")]


def test_folded_lines_are_unfolded() -> None:
    busy = expand(
        calendar(
            "DTSTART:20260915T14\r\n 0000\r\nDTEND:20260915T150000\r\n"
            "SUMMARY:a very long\r\n  summary\r\n"
        )
    )
    assert len(busy) == 1


def test_busy_is_sorted_and_utc() -> None:
    busy = expand(
        calendar(
            "DTSTART:20261001T090000\r\nDTEND:20261001T100000\r\n",
            "DTSTART:20260901T090000\r\nDTEND:20260901T100000\r\n",
        )
    )
    assert busy[0].start < busy[1].start
    assert busy[0].start.utcoffset() == timedelta(0)
    assert busy[0].start == datetime(2026, 9, 1, 9, tzinfo=TORONTO)
