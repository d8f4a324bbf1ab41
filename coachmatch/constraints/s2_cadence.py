"""S2 cadence — hard.

Rule: a pair's first meeting is within ``first_meeting_within_days`` of the horizon
start (or of the pair's start date, for a pair made during the horizon);
consecutive meetings are ``cadence_days[0]`` to ``cadence_days[1]`` days apart (by
date); the horizon ends less than ``cadence_days[1]`` days after the last meeting.
Why: coaching works as a rhythm — every 6 to 8 weeks — that starts soon after a
pair is made and does not lapse before the year ends.

Adds to a model: the number of meetings per pair is free; each gap between
consecutive meetings is bounded below and above.

"Within N days" counts whole days: a first meeting N days after the start is in
time, one N + 1 days after is late.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import date

from coachmatch.constraints.base import Violation
from coachmatch.constraints.meetings import Meeting, by_pair
from coachmatch.models import Program

NAME = "S2 cadence"
HARD = True


def check(
    program: Program,
    meetings: list[Meeting],
    pairs: list[tuple[str, str]] | None = None,
    starts: Mapping[tuple[str, str], date] | None = None,
    ends: Mapping[tuple[str, str], date] | None = None,
) -> list[Violation]:
    """Late first meetings, gaps outside the cadence, and schedules that stop early.

    Parameters
    ----------
    program : Program
    meetings : list of Meeting
    pairs : list of (resident_id, coach_id), optional
        The pairs that must meet; a pair with no meeting at all is a violation.
        Defaults to the pairs that have meetings.
    starts : mapping of pair to date, optional
        A pair's start date when it was made during the horizon. Its meetings from
        before that date belong to an earlier stint and are not part of its cadence.
    ends : mapping of pair to date, optional
        A pair's last date when it ended during the horizon (a re-plan gave the
        resident another coach): no meeting may follow it, and the pair's last gap
        is measured to it instead of to the horizon's end.

    Examples
    --------
    >>> from datetime import datetime, timedelta
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> first = datetime(2026, 7, 8, 13, 0, tzinfo=program.zone)
    >>> m = [Meeting(f"m{k}", "R0001", "C0001", first + timedelta(days=63 * k),
    ...              first + timedelta(days=63 * k, minutes=30), "virtual") for k in range(6)]
    >>> check(program, m)[0].message
    'R0001 and C0001 meet 2026-07-08 and 2026-09-09: 63 days apart, more than 56'
    """
    policy = program.policy
    shortest, longest = policy.cadence_days
    zone = program.zone
    grouped = by_pair(meetings)
    found = []
    for pair in pairs if pairs is not None else list(grouped):
        r, c = pair
        begin = (starts or {}).get(pair, program.start)
        finish = (ends or {}).get(pair, program.end)
        items = [m for m in grouped.get(pair, []) if m.start.astimezone(zone).date() >= begin]
        if not items:
            found.append(Violation(NAME, f"{r} and {c} have no meeting", r, c))
            continue
        days = [m.start.astimezone(zone).date() for m in items]
        for day, m in zip(days, items, strict=True):
            if not program.start <= day <= program.end:
                found.append(
                    Violation(
                        NAME,
                        f"{m.meeting_id} ({r} and {c}) on {day} is outside "
                        f"the horizon {program.start} to {program.end}",
                        r,
                        c,
                    )
                )
            elif day > finish:
                found.append(
                    Violation(
                        NAME,
                        f"{m.meeting_id} ({r} and {c}) on {day} is after the pair "
                        f"ended on {finish}",
                        r,
                        c,
                    )
                )
        wait = (days[0] - begin).days
        if wait > policy.first_meeting_within_days:
            found.append(
                Violation(
                    NAME,
                    f"{r} and {c} first meet on {days[0]}, {wait} days after {begin}; "
                    f"the first meeting is due within {policy.first_meeting_within_days}",
                    r,
                    c,
                )
            )
        for before, after in itertools.pairwise(days):
            gap = (after - before).days
            if gap < shortest:
                found.append(
                    Violation(
                        NAME,
                        f"{r} and {c} meet {before} and {after}: {gap} days "
                        f"apart, fewer than {shortest}",
                        r,
                        c,
                    )
                )
            elif gap > longest:
                found.append(
                    Violation(
                        NAME,
                        f"{r} and {c} meet {before} and {after}: {gap} days "
                        f"apart, more than {longest}",
                        r,
                        c,
                    )
                )
        tail = (finish - days[-1]).days
        if tail >= longest:
            what = "the horizon ends" if finish == program.end else "the pair ended"
            found.append(
                Violation(
                    NAME,
                    f"{r} and {c} last meet on {days[-1]}, {tail} days before {what} "
                    f"on {finish}; the last gap must be under {longest}",
                    r,
                    c,
                )
            )
    return found
