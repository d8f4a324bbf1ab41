"""Busy time from iCalendar files (``busy/<person_id>.ics``, SPEC §2).

Recurring events are expanded over the horizon with ``recurring-ical-events``
(RRULE, RDATE, EXDATE and moved occurrences); ``TRANSP:TRANSPARENT`` events
(free time) and cancelled events are ignored; an all-day event blocks the
whole day, from local midnight to the next local midnight. Times with a TZID
or in UTC are converted to the program's time zone; floating times are read
as the program's local time. Daylight-saving changes are handled by zoneinfo.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

from coachmatch.exceptions import Problem, decode_text
from coachmatch.limits import max_calendar_events
from coachmatch.models import BusyInterval

__all__ = ["busy_from_ics"]

_CONTENT_LINE = re.compile(r"^[A-Za-z0-9-]+(;[^:]*)?:")


def _unfold(text: str) -> list[tuple[int, str]]:
    """Logical content lines with the physical line each starts on (RFC 5545 §3.1)."""
    lines: list[tuple[int, str]] = []
    for number, physical in enumerate(text.splitlines(), start=1):
        if physical[:1] in (" ", "\t") and lines:
            start, logical = lines[-1]
            lines[-1] = (start, logical + physical[1:])
        elif physical.strip():
            lines.append((number, physical))
    return lines


def _structure_problems(file: str, lines: list[tuple[int, str]]) -> list[Problem]:
    problems: list[Problem] = []
    if not lines or lines[0][1].strip().upper() != "BEGIN:VCALENDAR":
        first = lines[0][0] if lines else 1
        problems.append(
            Problem(
                file,
                first,
                None,
                "not an iCalendar file",
                lines[0][1][:40] if lines else None,
                "BEGIN:VCALENDAR",
            )
        )
        return problems
    stack: list[str] = []
    for number, line in lines:
        if not _CONTENT_LINE.match(line):
            problems.append(
                Problem(
                    file,
                    number,
                    None,
                    "malformed content line",
                    line[:60],
                    "NAME:value or NAME;PARAM=x:value",
                )
            )
            continue
        name, _, value = line.partition(":")
        key = name.split(";")[0].upper()
        if key == "BEGIN":
            stack.append(value.strip().upper())
        elif key == "END":
            if not stack or stack[-1] != value.strip().upper():
                problems.append(
                    Problem(
                        file,
                        number,
                        "END",
                        f"END:{value} without BEGIN:{value}",
                        line,
                        f"END:{stack[-1]}" if stack else None,
                    )
                )
                break  # the nesting is lost; later ENDs would only repeat this
            else:
                stack.pop()
    if stack and not problems:
        problems.append(
            Problem(
                file,
                lines[-1][0],
                None,
                f"BEGIN:{stack[-1]} is never closed",
                None,
                f"END:{stack[-1]}",
            )
        )
    return problems


def _locate(lines: list[tuple[int, str]], prop: str, raw: str) -> int | None:
    """The line of ``prop`` whose value is ``raw`` (a rule's parts in any order)."""
    parts = sorted(raw.upper().split(";"))
    for number, line in lines:
        name, _, value = line.partition(":")
        if name.split(";")[0].upper() != prop.upper():
            continue
        if raw in value or sorted(value.strip().upper().split(";")) == parts:
            return number
    return None


def _to_local(value: date | datetime, zone: ZoneInfo) -> datetime:
    if not isinstance(value, datetime):
        return datetime.combine(value, time(), tzinfo=zone)
    if value.tzinfo is None:
        return value.replace(tzinfo=zone)
    return value.astimezone(zone)


#: seconds in one period of each FREQ (generous: a month of 31 days, a year of 366)
_PERIOD = {
    "SECONDLY": 1,
    "MINUTELY": 60,
    "HOURLY": 3600,
    "DAILY": 86400,
    "WEEKLY": 7 * 86400,
    "MONTHLY": 31 * 86400,
    "YEARLY": 366 * 86400,
}
_DAYS_PER_PERIOD = {"WEEKLY": 7, "MONTHLY": 31, "YEARLY": 366}
_FINER = {"BYSECOND": 1, "BYMINUTE": 60, "BYHOUR": 3600}  # each part and its unit
_DAY_PARTS = ("BYDAY", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO")


def _instances_at_most(rule: Any, first: datetime, begin: datetime, stop: datetime) -> int:
    """An upper bound on a rule's instances in [begin, stop): the periods of its FREQ
    there, times what its BY-parts can add within one period (RFC 5545 §3.3.10)."""
    freq = str((rule.get("FREQ") or ["YEARLY"])[0]).upper()
    period = _PERIOD.get(freq, 86400)
    interval = int((rule.get("INTERVAL") or [1])[0])
    until = rule.get("UNTIL")
    last = stop
    if until:
        last = min(stop, _to_local(until[0], begin.tzinfo))  # type: ignore[arg-type]
    window = (last.timestamp() - max(first, begin).timestamp()) if last > first else 0.0
    if window <= 0:
        return 1
    periods = int(window // (period * interval)) + 2
    per_period = 1
    for part, unit in _FINER.items():
        if rule.get(part) and unit < period:
            per_period *= len(rule[part])
    if any(rule.get(part) for part in _DAY_PARTS) and freq in _DAYS_PER_PERIOD:
        per_period *= _DAYS_PER_PERIOD[freq]
    elif rule.get("BYMONTH") and freq == "YEARLY":
        per_period *= len(rule["BYMONTH"])
    return periods * per_period


def _expansion_problems(
    calendar: Any,
    lines: list[tuple[int, str]],
    file: str,
    zone: ZoneInfo,
    begin: datetime,
    stop: datetime,
) -> list[Problem]:
    """Rules that would never finish (INTERVAL below 1) or would expand to more events
    in the horizon than :func:`coachmatch.limits.max_calendar_events` allows; judged
    before the expansion, which would otherwise hang or fill memory."""
    cap = max_calendar_events()
    problems: list[Problem] = []
    total = 0
    for event in calendar.walk("VEVENT"):
        start = event.get("DTSTART")
        rules = event.get("RRULE")
        dates = event.get("RDATE")
        total += 1 + sum(len(d.dts) for d in (dates if isinstance(dates, list) else [dates]) if d)
        if start is None or rules is None:
            continue
        first = _to_local(start.dt, zone)
        for rule in rules if isinstance(rules, list) else [rules]:
            raw = rule.to_ical().decode()
            line = _locate(lines, "RRULE", raw)
            try:
                interval = int((rule.get("INTERVAL") or [1])[0])
            except (TypeError, ValueError):
                interval = 0
            if interval < 1:
                problems.append(
                    Problem(
                        file,
                        line,
                        "RRULE",
                        "INTERVAL must be a whole number of at least 1",
                        raw,
                        "RRULE with INTERVAL=1 or more",
                    )
                )
                continue
            count = _instances_at_most(rule, first, begin, stop)
            total += count
            if count > cap:
                problems.append(
                    Problem(
                        file,
                        line,
                        "RRULE",
                        f"this rule can repeat up to {count:,} times within the horizon; "
                        f"coachmatch expands at most {cap:,} events per calendar",
                        raw,
                        "a rule repeating at most daily or hourly (or set "
                        "COACHMATCH_MAX_CALENDAR_EVENTS)",
                    )
                )
    if not problems and total > cap:
        problems.append(
            Problem(
                file,
                None,
                None,
                f"the calendar can hold up to {total:,} events within the horizon; coachmatch "
                f"expands at most {cap:,} per calendar",
                None,
                "a calendar of the horizon's busy time (or set COACHMATCH_MAX_CALENDAR_EVENTS)",
            )
        )
    return problems


def busy_from_ics(
    data: bytes, person_id: str, file: str, zone: ZoneInfo, start: date, end: date
) -> tuple[list[BusyInterval], list[Problem]]:
    """Expand one iCalendar file into busy intervals within the horizon.

    Parameters
    ----------
    data : bytes
        The file's content.
    person_id : str
        Whose busy time this is (the file's name without ``.ics``).
    file : str
        How problems name the file (``"busy/C01.ics"``).
    zone : zoneinfo.ZoneInfo
        The program's time zone.
    start, end : datetime.date
        The horizon, inclusive.

    Returns
    -------
    intervals : list of BusyInterval
        Sorted by start; empty when there are problems.
    problems : list of Problem
        Everything wrong with the file, with line numbers.

    Examples
    --------
    >>> from datetime import date
    >>> ics = (b"BEGIN:VCALENDAR\\r\\nVERSION:2.0\\r\\nPRODID:-//x//y//EN\\r\\n"
    ...        b"BEGIN:VEVENT\\r\\nUID:1\\r\\nDTSTART;VALUE=DATE:20261110\\r\\n"
    ...        b"END:VEVENT\\r\\nEND:VCALENDAR\\r\\n")
    >>> busy, problems = busy_from_ics(ics, "C01", "busy/C01.ics", ZoneInfo("America/Toronto"),
    ...                                date(2026, 7, 1), date(2027, 6, 30))
    >>> toronto = ZoneInfo("America/Toronto")
    >>> [t.astimezone(toronto).isoformat() for t in (busy[0].start, busy[0].end)]
    ['2026-11-10T00:00:00-05:00', '2026-11-11T00:00:00-05:00']
    """
    text, problem = decode_text(data, file)
    if text is None:
        return [], [problem] if problem else []
    lines = _unfold(text)
    problems = _structure_problems(file, lines)
    if problems:
        return [], problems
    try:
        calendar = icalendar.Calendar.from_ical(text)
    except ValueError as error:
        return [], [
            Problem(
                file, None, None, f"unreadable iCalendar: {error}", None, "an RFC 5545 calendar"
            )
        ]
    for component in calendar.walk():
        for prop, message in getattr(component, "errors", []):
            broken = component.get(prop)
            raw = str(getattr(broken, "to_ical", lambda: b"")().decode()) if broken else ""
            problems.append(
                Problem(
                    file,
                    _locate(lines, prop, raw) if raw else None,
                    prop,
                    str(message),
                    raw or None,
                    f"a valid {prop} value",
                )
            )
    if problems:
        return [], problems
    begin = datetime.combine(start, time(), tzinfo=zone)
    stop = datetime.combine(end + timedelta(days=1), time(), tzinfo=zone)
    problems = _expansion_problems(calendar, lines, file, zone, begin, stop)
    if problems:
        return [], problems
    try:
        events: list[Any] = recurring_ical_events.of(calendar).between(begin, stop)
    except Exception as error:  # the library raises several types for bad recurrences
        return [], [
            Problem(
                file,
                None,
                None,
                f"cannot expand recurring events: {error}",
                None,
                "valid RRULE, RDATE and EXDATE properties",
            )
        ]
    busy: list[BusyInterval] = []
    for event in events:
        if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
            continue
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        if event.get("DTSTART") is None:
            continue
        first = event["DTSTART"].dt
        last = event["DTEND"].dt if event.get("DTEND") is not None else None
        if last is None:
            duration = event.get("DURATION")
            if duration is not None:
                last = first + duration.dt
            elif not isinstance(first, datetime):
                last = first + timedelta(days=1)
        if last is None:
            continue  # an instant (no DTEND, no DURATION) blocks no time
        interval_start, interval_end = _to_local(first, zone), _to_local(last, zone)
        if interval_end.timestamp() > interval_start.timestamp():  # exact across DST
            busy.append(BusyInterval(person_id=person_id, start=interval_start, end=interval_end))
    busy.sort(key=lambda b: (b.start, b.end))
    return busy, []
