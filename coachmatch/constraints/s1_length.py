"""S1 length — hard.

Rule: each meeting lasts ``meeting_minutes`` and starts on a 30-minute boundary of
local time.
Why: a fixed, short slot on the half-hour is what fits between clinical duties and
what calendars show cleanly.

Adds to a model: start times are grid slots; a meeting covers
``ceil(meeting_minutes / 30)`` of them.
"""

from __future__ import annotations

from coachmatch.constraints.base import Violation
from coachmatch.constraints.meetings import Meeting
from coachmatch.models import Program

NAME = "S1 length"
HARD = True


def check(program: Program, meetings: list[Meeting]) -> list[Violation]:
    """Meetings of the wrong length or off the half-hour grid.

    Examples
    --------
    >>> from datetime import datetime, timedelta
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> start = datetime(2026, 7, 8, 13, 10, tzinfo=program.zone)
    >>> m = Meeting("m1", "R0001", "C0001", start, start + timedelta(minutes=45), "virtual")
    >>> [v.message for v in check(program, [m])]  # doctest: +NORMALIZE_WHITESPACE
    ['m1 (R0001 and C0001) on 2026-07-08 lasts 45 minutes, not 30',
     'm1 (R0001 and C0001) starts at 13:10, not on a 30-minute boundary']
    """
    want = program.policy.meeting_minutes
    found = []
    for m in meetings:
        local = m.start.astimezone(program.zone)
        who = f"{m.meeting_id} ({m.resident_id} and {m.coach_id}) on {local.date()}"
        minutes = (m.end.timestamp() - m.start.timestamp()) / 60
        if minutes != want:
            found.append(
                Violation(
                    NAME, f"{who} lasts {minutes:g} minutes, not {want}", m.resident_id, m.coach_id
                )
            )
        if local.minute % 30 or local.second or local.microsecond:
            found.append(
                Violation(
                    NAME,
                    f"{m.meeting_id} ({m.resident_id} and {m.coach_id}) starts at "
                    f"{local:%H:%M}, not on a 30-minute boundary",
                    m.resident_id,
                    m.coach_id,
                )
            )
    return found
