"""The Schedule result: meetings with ids, travel and its bound, and every unplanned pair
with its reason."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import pandas as pd

from coachmatch.constraints.meetings import MEETING_COLUMNS
from coachmatch.models import Program
from coachmatch.results import Schedule
from coachmatch.solver.scheduling.model import alone, solve_coach
from coachmatch.solver.scheduling.replan import History, meeting_id, merge
from coachmatch.solver.scheduling.tasks import CoachResult, CoachTask
from coachmatch.timegrid import SLOTS_PER_DAY, TimeGrid

__all__ = ["pair_reasons", "schedule_result"]


def pair_reasons(program: Program, task: CoachTask) -> list[str]:
    """Why a coach's pairs cannot all be planned: each pair alone, then the coach."""
    reasons = []
    start = program.start

    def on(day: int) -> date:
        return start + timedelta(days=day)

    for pair in task.pairs:
        if not solve_coach(alone(task, pair)).infeasible:
            continue
        names = f"{pair.resident_id} and {pair.coach_id}"
        days = sorted({u // SLOTS_PER_DAY for u in pair.starts})
        due = [d for d in days if pair.first_from <= d <= pair.first_by]
        what = "next" if pair.past_count else "first"
        if not days:
            reasons.append(f"{names} have no common free time in the horizon")
        elif not due:
            reasons.append(
                f"{names} have no common free time from {on(max(pair.first_from, 0))} to "
                f"{on(pair.first_by)}, when their {what} meeting is due"
                + "".join(
                    f"; their next common free day is {on(d)}" for d in days if d > pair.first_by
                )[: len("; their next common free day is 2026-01-01")]
            )
        else:
            gaps = [(a, b) for a, b in itertools.pairwise(days) if b - a > task.longest]
            if gaps:
                a, b = gaps[0]
                reasons.append(
                    f"{names} have no common free time from {on(a + 1)} to {on(b - 1)}, "
                    f"longer than the {task.longest}-day cadence allows"
                )
            else:
                reasons.append(
                    f"{names} cannot meet every {task.shortest}-{task.longest} "
                    "days on their common free days"
                )
    if not reasons:
        reasons.append(
            f"{task.coach_id}'s {len(task.pairs)} pairs can each be planned but not "
            "all together: too few free slots for the coach's meetings"
        )
    return reasons


def schedule_result(
    program: Program,
    tasks: Sequence[CoachTask],
    results: Sequence[CoachResult],
    problems: list[str],
    bound: int | None,
    runtime: float,
    history: History | None,
    pairs: list[tuple[str, str]],
) -> Schedule:
    grid = TimeGrid.of(program)
    minutes = program.policy.meeting_minutes
    planned: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for task, result in zip(tasks, results, strict=True):
        if result.infeasible:
            continue
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
    changes = None
    starts: dict[tuple[str, str], date] = {}
    ends: dict[tuple[str, str], date] = {}
    if history is None:
        rows = [
            {**row, "meeting_id": meeting_id(pair, k)}
            for pair, items in planned.items()
            for k, row in enumerate(items, start=1)
        ]
    else:
        rows, changes, starts, ends = merge(program, history, planned, pairs)
        held = sum(r["travel_minutes"] for r in history.carried if r["status"] != "cancelled")
        bound = None if bound is None else bound + held
    meetings = pd.DataFrame(rows, columns=list(MEETING_COLUMNS))
    if len(meetings):
        meetings = meetings.sort_values(
            ["start", "coach_id", "resident_id", "meeting_id"], kind="stable"
        ).reset_index(drop=True)
    optimal = all(r.optimal for r in results if not r.infeasible)
    scheduled = meetings[meetings["status"] != "cancelled"]
    return Schedule(
        program=program,
        meetings=meetings,
        status="optimal" if optimal else "feasible",
        travel_total=int(scheduled["travel_minutes"].sum()) if len(scheduled) else 0,
        travel_lower_bound=bound,
        problems=problems,
        runtime=runtime,
        starts=starts,
        ends=ends,
        changes=changes,
    )
