"""The Schedule result: meetings with ids, travel and its bound, and every unplanned pair
with its reason."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from coachmatch.constraints.meetings import MEETING_COLUMNS
from coachmatch.constraints.r7_can_meet import Unmet, unmet_cause
from coachmatch.models import Program
from coachmatch.results import Schedule
from coachmatch.solver.scheduling.pair_plan import pair_lower_bound
from coachmatch.solver.scheduling.replan import History, meeting_id, merge
from coachmatch.solver.scheduling.tasks import CoachResult, CoachTask, PairTask
from coachmatch.timegrid import SLOTS_PER_DAY, TimeGrid

__all__ = ["schedule_result", "unplanned_pairs"]

_LIST = 6  # weeks listed before "and N more"


def unplanned_pairs(
    program: Program, task: CoachTask, result: CoachResult
) -> list[tuple[str, str, str]]:
    """(resident_id, coach_id, reason) of every pair of this coach left without meetings.

    The reason names dates and causes (SPEC 1.1): either the pair alone has no plan
    (the sentence of R7), or it competes with named coachees of the same coach for
    the coach's time in named weeks.
    """
    found = []
    floors = _pair_floors(task, result)
    for p in result.unplanned:
        pair = task.pairs[p]
        if math.isfinite(floors[p]):
            why = _competing(program, task, result, p)
        else:
            why = _alone(program, task, pair)
        found.append((pair.resident_id, pair.coach_id, why))
    return found


def _pair_floors(task: CoachTask, result: CoachResult) -> tuple[float, ...]:
    """Each pair's own least travel: as the worker found it, else computed here."""
    for floors in (result.floors, task.pair_floors):
        if len(floors) == len(task.pairs):
            return floors
    return tuple(pair_lower_bound(pair, task) for pair in task.pairs)


def _days(pair: PairTask, task: CoachTask, starts: Sequence[int]) -> tuple[Any, Any]:
    """(in person, virtual) per day of the horizon, from the pair's start units."""
    free = np.zeros(task.n_days, dtype=bool)
    free[np.asarray(starts, dtype=np.int64) // SLOTS_PER_DAY] = True
    in_person = free & (np.asarray(pair.cost) >= 0) & (not task.virtual_only)
    return in_person, free & pair.virtual_ok


def _cause(program: Program, task: CoachTask, pair: PairTask, starts: Sequence[int]) -> Unmet:
    in_person, virtual = _days(pair, task, starts)
    return unmet_cause(
        in_person,
        virtual,
        day0=program.start,
        first_from=pair.first_from,
        first_by=pair.first_by,
        shortest=task.shortest,
        longest=task.longest,
        share=task.share[0] / task.share[1],
        in_person_first=pair.in_person_first,
        what="next" if pair.past_count else "first",
    )


def _alone(program: Program, task: CoachTask, pair: PairTask) -> str:
    """Why the pair has no plan even without the coach's other coachees."""
    names = f"{pair.resident_id} and {pair.coach_id}"
    if task.virtual_only and not pair.virtual_ok:
        return (
            f'{names} cannot meet: meetings are virtual only (policy virtual = "only") '
            f"and {pair.coach_id} does not meet virtually (virtual_ok = false)"
        )
    return f"{names} {_cause(program, task, pair, pair.starts).clause}"


def _competing(program: Program, task: CoachTask, result: CoachResult, p: int) -> str:
    """Why a pair that can meet alone was left out: the cause on the time the coach's
    other meetings leave it, and whose meetings take that time, in which weeks."""
    pair = task.pairs[p]
    names = f"{pair.resident_id} and {pair.coach_id}"
    owner: dict[int, int] = {}
    for q, d, s, _, _ in result.meetings:
        for k in range(task.length):
            owner[d * SLOTS_PER_DAY + s + k] = q
    left: list[int] = []
    taken: dict[int, set[int]] = {}
    for u in pair.starts:
        takers = {owner[u + k] for k in range(task.length) if u + k in owner}
        if takers:
            taken.setdefault(u // SLOTS_PER_DAY, set()).update(takers)
        else:
            left.append(u)
    if not taken:
        return (
            f"{names} can meet on their own, but no plan fitting them between "
            f"{pair.coach_id}'s other meetings was found within the solver's limits"
        )
    cause = _cause(program, task, pair, left)
    focus = sorted(d for d in taken if cause.first <= d <= cause.last) or sorted(taken)
    rivals = sorted({task.pairs[q].resident_id for d in focus for q in taken[d]})
    weeks = sorted(
        {
            max(program.start + timedelta(days=d - (task.weekday0 + d) % 7), program.start)
            for d in focus
        }
    )
    shown = ", ".join(str(w) for w in weeks[:_LIST])
    more = f" and {len(weeks) - _LIST} more" if len(weeks) > _LIST else ""
    return (
        f"{names} can meet on their own, but not besides {pair.coach_id}'s other "
        f"coachees: with {pair.coach_id}'s meetings with {', '.join(rivals)} in the weeks "
        f"of {shown}{more}, they {cause.clause}"
    )


def schedule_result(
    program: Program,
    tasks: Sequence[CoachTask],
    results: Sequence[CoachResult],
    unplanned: list[tuple[str, str, str]],
    runtime: float,
    history: History | None,
    pairs: list[tuple[str, str]],
) -> Schedule:
    """Merge the coaches' results, in coach order, into one :class:`Schedule`."""
    grid = TimeGrid.of(program)
    minutes = program.policy.meeting_minutes
    planned: dict[tuple[str, str], list[dict[str, Any]]] = {}
    floor = 0.0
    for task, result in zip(tasks, results, strict=True):
        if result.bound is not None and history is None:
            floor += result.bound  # the coach's proven optimum
        else:
            floors = _pair_floors(task, result)
            floor += sum(f for p, f in enumerate(floors) if p not in result.unplanned)
        for p, d, s, site, cost in sorted(result.meetings):
            pair = task.pairs[p]
            start = pd.Timestamp(grid.slot_start(d, s))
            planned.setdefault((pair.resident_id, pair.coach_id), []).append(
                {
                    "meeting_id": "",
                    "sequence": 0,
                    "resident_id": pair.resident_id,
                    "coach_id": pair.coach_id,
                    "start": start,
                    "end": start + pd.Timedelta(minutes=minutes),
                    "site_id": site,
                    "travel_minutes": cost,
                    "status": "scheduled",
                }
            )
    bound: int | None = round(floor)
    changes = None
    starts: dict[tuple[str, str], date] = {}
    ends: dict[tuple[str, str], date] = {}
    if history is None:
        rows = [
            {**row, "meeting_id": meeting_id(pair, k)}
            for pair, items in planned.items()
            for k, row in enumerate(items, start=1)
        ]
        changed = {row["meeting_id"] for row in rows}
    else:
        rows, changes, starts, ends, changed = merge(program, history, planned, pairs)
        held = sum(r["travel_minutes"] for r in history.carried if r["status"] != "cancelled")
        bound = round(floor) + held
    meetings = pd.DataFrame(rows, columns=list(MEETING_COLUMNS))
    ids = meetings["meeting_id"].str.casefold()
    if not ids.is_unique:  # unique by construction: a repeat is a bug, never a silent loss
        twice = sorted(set(meetings["meeting_id"][ids.duplicated(keep=False)]))
        raise RuntimeError(f"meeting ids are not unique: {twice[:5]}")
    if len(meetings):
        meetings = meetings.sort_values(
            ["start", "coach_id", "resident_id", "meeting_id"], kind="stable"
        ).reset_index(drop=True)
    optimal = all(r.optimal for r in results)
    scheduled = meetings[meetings["status"] != "cancelled"]
    left = pd.DataFrame(unplanned, columns=["resident_id", "coach_id", "reason"], dtype=object)
    return Schedule(
        program=program,
        meetings=meetings,
        status="partial" if len(left) else ("optimal" if optimal else "feasible"),
        travel_total=int(scheduled["travel_minutes"].sum()) if len(scheduled) else 0,
        travel_lower_bound=bound,
        problems=[str(why) for why in left["reason"]],
        runtime=runtime,
        unplanned=left,
        pairs_asked=len(pairs),
        changed=frozenset(changed),
        starts=starts,
        ends=ends,
        changes=changes,
    )
