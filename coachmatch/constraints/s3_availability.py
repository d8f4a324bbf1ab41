"""S3 availability — hard.

Rule: both people are available for the whole meeting — inside one of their weekly
availability windows (or the workday on weekdays when they list none), not busy
(``busy.csv``, ``busy/*.ics``), the resident on a rotation that day when they have
rotations — and neither is in another coachmatch meeting.
Why: finding time is the burden programs complain of most; a meeting planned into a
clinic, a vacation or another coaching meeting will not happen.

Adds to a model: start slots are limited to the pair's common free slots; a
person's meetings may not overlap.
"""

from __future__ import annotations

import itertools
from collections import defaultdict

import numpy as np
import numpy.typing as npt

from coachmatch.constraints.base import Violation
from coachmatch.constraints.meetings import Meeting
from coachmatch.models import Program
from coachmatch.timegrid import SLOT_MINUTES, SLOTS_PER_DAY, BoolGrid, TimeGrid

NAME = "S3 availability"
HARD = True


def _covered(grid: TimeGrid, m: Meeting) -> list[tuple[int, int]] | None:
    """(day, slot) pairs the meeting touches, or None when it leaves the horizon."""
    day, slot, _ = grid.locate(m.start)
    count = max(1, -(-int((m.end.timestamp() - m.start.timestamp()) // 60) // SLOT_MINUTES))
    if not 0 <= day < len(grid.days) or slot + count > SLOTS_PER_DAY:
        return None
    return [(day, slot + k) for k in range(count)]


def check(
    program: Program, meetings: list[Meeting], grid: TimeGrid | None = None
) -> list[Violation]:
    """Meetings at a time one of the two is not available, or double-booked.

    Examples
    --------
    >>> from datetime import datetime, timedelta
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> start = datetime(2026, 7, 4, 10, 0, tzinfo=program.zone)  # a Saturday
    >>> m = Meeting("m1", "R0001", "C0001", start, start + timedelta(minutes=30), "virtual")
    >>> check(program, [m])[0].message  # doctest: +ELLIPSIS
    'm1 on 2026-07-04 at 10:00: R0001 is not available (outside their availability ...'
    """
    grid = grid or TimeGrid.of(program)
    zone = program.zone
    cache: dict[str, tuple[BoolGrid, BoolGrid, npt.NDArray[np.bool_] | None]] = {}
    found = []

    def reasons(person: str, cells: list[tuple[int, int]]) -> list[str]:
        if person not in cache:
            rotation = grid.on_rotation(person) if person in program.index.resident else None
            cache[person] = (grid.weekly(person), grid.busy(person), rotation)
        weekly, busy, rotation = cache[person]
        out = []
        if not all(weekly[d, s] for d, s in cells):
            out.append("outside their availability windows or workday")
        if any(busy[d, s] for d, s in cells):
            out.append("busy")
        if rotation is not None and not rotation[cells[0][0]]:
            out.append("not on a rotation that day")
        return out

    for m in meetings:
        local = m.start.astimezone(zone)
        where = f"{m.meeting_id} on {local.date()} at {local:%H:%M}"
        cells = _covered(grid, m)
        if cells is None:
            found.append(
                Violation(NAME, f"{where} is outside the planning grid", m.resident_id, m.coach_id)
            )
            continue
        for person in (m.resident_id, m.coach_id):
            why = reasons(person, cells)
            if why:
                found.append(
                    Violation(
                        NAME,
                        f"{where}: {person} is not available ({'; '.join(why)})",
                        m.resident_id,
                        m.coach_id,
                    )
                )
    by_person: dict[str, list[Meeting]] = defaultdict(list)
    for m in meetings:
        by_person[m.resident_id].append(m)
        by_person[m.coach_id].append(m)
    for person, items in by_person.items():
        items.sort(key=lambda m: m.start.timestamp())
        for before, after in itertools.pairwise(items):
            if after.start.timestamp() < before.end.timestamp():
                found.append(
                    Violation(
                        NAME,
                        f"{person} has two meetings at once: {before.meeting_id} and "
                        f"{after.meeting_id} on {before.start.astimezone(zone):%Y-%m-%d %H:%M}",
                        after.resident_id,
                        after.coach_id,
                    )
                )
    return found
