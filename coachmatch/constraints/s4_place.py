"""S4 place — hard.

Rule: a meeting is at the coach's home site, at the site of the resident's rotation
that day, or virtual. Virtual meetings follow the policy's ``virtual`` (never,
allowed or only), the coach's ``virtual_ok``, ``max_virtual_share`` of each pair's
meetings and ``first_meeting_in_person``. The travel a meeting reports is the
model's: the resident's round trip from that day's rotation site plus the coach's
from their home site (zero for whoever is already there; zero when virtual).
Why: travel between hospitals is the burden residents rotating every four weeks
feel most; meeting where one of them already is, or online, removes it — but a
relationship needs some meetings face to face.

With ``virtual = "only"`` every meeting is virtual, so the share and the
first-meeting rule do not apply. A resident with no rotation data has no known
site: they meet at the coach's home site (travel counted for the coach only) or
virtually.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from coachmatch.constraints.base import Violation
from coachmatch.constraints.meetings import Meeting, by_pair
from coachmatch.models import Program
from coachmatch.timegrid import TimeGrid
from coachmatch.travel import round_trip, travel_matrix

NAME = "S4 place"
HARD = True


def travel_minutes(
    program: Program,
    grid: TimeGrid,
    m: Meeting,
    matrix: npt.NDArray[np.int64] | None = None,
    resident_sites: npt.NDArray[np.int64] | None = None,
) -> int | None:
    """The model's travel for a meeting; None where a site or travel time is unknown.

    ``matrix`` (:func:`~coachmatch.travel.travel_matrix`) and ``resident_sites``
    (:meth:`TimeGrid.site_of` for the resident) may be passed to save recomputing them.
    """
    if m.virtual:
        return 0
    index = program.index
    if m.site_id not in index.site:
        return None
    matrix = travel_matrix(program) if matrix is None else matrix
    sites = grid.site_of(m.resident_id) if resident_sites is None else resident_sites
    place = index.site[m.site_id]
    home = int(index.coach_site[index.coach[m.coach_id]])
    day, _, _ = grid.locate(m.start)
    at = int(sites[day]) if 0 <= day < len(grid.days) else -1
    legs = [(home, place)] + ([(at, place)] if at >= 0 else [])
    if any(a != b and (matrix[a, b] < 0 or matrix[b, a] < 0) for a, b in legs):
        return None
    return sum(round_trip(matrix, a, b) for a, b in legs)


def check(
    program: Program, meetings: list[Meeting], grid: TimeGrid | None = None
) -> list[Violation]:
    """Meetings in the wrong place, virtual against the rules, or with wrong travel.

    Examples
    --------
    >>> from datetime import datetime, timedelta
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small").with_policy(virtual="never")
    >>> start = datetime(2026, 7, 8, 13, 0, tzinfo=program.zone)
    >>> m = Meeting("m1", "R0001", "C0001", start, start + timedelta(minutes=30), "virtual")
    >>> check(program, [m])[0].message
    'm1 (R0001 and C0001) on 2026-07-08 is virtual, but the program meets in person only'
    """
    grid = grid or TimeGrid.of(program)
    policy = program.policy
    index = program.index
    zone = program.zone
    matrix = travel_matrix(program)
    sites_of: dict[str, npt.NDArray[np.int64]] = {}
    found = []
    for m in meetings:
        r, c = m.resident_id, m.coach_id
        day = m.start.astimezone(zone).date()
        who = f"{m.meeting_id} ({r} and {c}) on {day}"
        coach = program.coaches[index.coach[c]] if c in index.coach else None
        if r not in sites_of:
            sites_of[r] = grid.site_of(r)
        if m.virtual:
            if policy.virtual == "never":
                found.append(
                    Violation(NAME, f"{who} is virtual, but the program meets in person only", r, c)
                )
            if coach is not None and not coach.virtual_ok:
                found.append(
                    Violation(NAME, f"{who} is virtual, but {c} does not meet virtually", r, c)
                )
        else:
            if policy.virtual == "only":
                found.append(
                    Violation(
                        NAME, f"{who} is at {m.site_id}, but the program meets virtually only", r, c
                    )
                )
            if m.site_id not in index.site:
                found.append(Violation(NAME, f"{who} is at unknown site '{m.site_id}'", r, c))
                continue
            d = grid.day_of(day)
            at = int(sites_of[r][d]) if 0 <= d < len(grid.days) else -1
            allowed = {coach.site_id} if coach is not None else set()
            if at >= 0:
                allowed.add(index.site_ids[at])
            if m.site_id not in allowed:
                found.append(
                    Violation(
                        NAME,
                        f"{who} is at {m.site_id}, neither {c}'s home site "
                        f"nor {r}'s rotation site that day "
                        f"({' or '.join(sorted(allowed)) or 'none'})",
                        r,
                        c,
                    )
                )
                continue
        expected = travel_minutes(program, grid, m, matrix, sites_of[r])
        if expected is None:
            found.append(
                Violation(
                    NAME,
                    f"{who}: no travel time is known to {m.site_id} "
                    "(add coordinates or travel.csv rows)",
                    r,
                    c,
                )
            )
        elif m.travel_minutes is not None and m.travel_minutes != expected:
            found.append(
                Violation(
                    NAME,
                    f"{who} reports {m.travel_minutes} travel minutes; "
                    f"the travel model gives {expected}",
                    r,
                    c,
                )
            )
    if policy.virtual == "allowed":
        for (r, c), items in by_pair(meetings).items():
            virtual = sum(m.virtual for m in items)
            if virtual > policy.max_virtual_share * len(items) + 1e-9:
                found.append(
                    Violation(
                        NAME,
                        f"{r} and {c} meet virtually {virtual} of "
                        f"{len(items)} times, more than the share of "
                        f"{policy.max_virtual_share:g}",
                        r,
                        c,
                    )
                )
            if policy.first_meeting_in_person and items[0].virtual:
                found.append(
                    Violation(
                        NAME,
                        f"{r} and {c} first meet virtually "
                        f"({items[0].meeting_id}); the first meeting is "
                        "in person",
                        r,
                        c,
                    )
                )
    return found
