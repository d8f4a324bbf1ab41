"""``schedule()``: a year of coaching meetings with the least travel (SPEC §5).

Each coach's pairs share only the coach, and different coaches share nobody (a
resident has one coach), so the problem splits into one small CP-SAT model per
coach. The models are described in this process as plain data (:class:`CoachTask`),
solved through any ``concurrent.futures``-compatible executor (a process pool by
default; a dask.distributed client's ``get_executor()`` works too), and merged in
coach order, so the result does not depend on which worker finished first.

Per coach, the pairs' own least-travel plans (a dynamic program per pair, see
:mod:`coachmatch.solver.bounds`) are tried first: when the coach can hold them all
in distinct slots, their travel equals the proven lower bound and they are optimal
(slots are then taken in the protected half-day first, then working hours, and gaps
near the middle of the cadence among equal plans). Otherwise each pair has up to K
optional meetings in a CP-SAT model; meeting k is an interval on
the half-hour grid whose start ranges over the pair's common free slots (S1, S3),
and the coach's intervals never overlap (S3). Consecutive meetings are
``cadence_days[0]``..``cadence_days[1]`` days apart, the first within
``first_meeting_within_days`` and the last within ``cadence_days[1]`` days of the
horizon end (S2). A meeting is virtual or at the day's place of least travel —
the coach's home site or the resident's rotation site — under the virtual policy,
share and first-meeting rule (S4). Objective: minimize total travel.

The travel lower bound comes from :mod:`coachmatch.solver.bounds`, a dynamic
program per pair that shares nothing with the CP-SAT model.

Not yet here: the tie-break inside the CP-SAT fallback, and re-planning from a
previous schedule.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import replace
from datetime import timedelta
from fractions import Fraction
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from ortools.sat.python import cp_model

from coachmatch.constraints.meetings import MEETING_COLUMNS, VIRTUAL
from coachmatch.exceptions import InfeasibleError
from coachmatch.models import Program
from coachmatch.results import Matching, Schedule
from coachmatch.solver.bounds import pair_lower_bound, pair_plan, travel_lower_bound
from coachmatch.solver.tasks import CoachResult, CoachTask, PairTask
from coachmatch.timegrid import SLOT_MINUTES, SLOTS_PER_DAY, TimeGrid
from coachmatch.travel import round_trip, travel_matrix

__all__ = ["CoachTask", "PairTask", "schedule", "solve_coach"]

log = logging.getLogger("coachmatch")


def _pair_task(
    program: Program,
    grid: TimeGrid,
    matrix: npt.NDArray[np.int64],
    resident_id: str,
    coach_id: str,
    free: dict[str, Any],
) -> PairTask:
    index = program.index
    policy = program.policy
    coach = program.coaches[index.coach[coach_id]]
    for person in (resident_id, coach_id):
        if person not in free:
            free[person] = grid.available(person)
    starts = grid.can_start(free[resident_id] & free[coach_id])
    home = int(index.coach_site[index.coach[coach_id]])
    sites = grid.site_of(resident_id)
    virtual_ok = policy.virtual != "never" and coach.virtual_ok
    costs, places = [], []
    for d in range(len(grid.days)):
        best: tuple[int, str] = (-1, "")
        if policy.virtual != "only":
            at = int(sites[d])
            # the coach's home first: on equal travel, the coach stays home
            for place in dict.fromkeys([home] + ([at] if at >= 0 else [])):
                legs = [(home, place)] + ([(at, place)] if at >= 0 else [])
                if all(a == b or (matrix[a, b] >= 0 and matrix[b, a] >= 0) for a, b in legs):
                    cost = sum(round_trip(matrix, a, b) for a, b in legs)
                    if best[0] < 0 or cost < best[0]:
                        best = (cost, index.site_ids[place])
        costs.append(best[0])
        places.append(best[1])
    usable = np.array([c >= 0 or virtual_ok for c in costs])
    ok = starts & usable[:, None]
    days, slots = np.nonzero(ok)
    return PairTask(
        resident_id=resident_id,
        coach_id=coach_id,
        starts=tuple((days * SLOTS_PER_DAY + slots).tolist()),
        cost=tuple(costs),
        site=tuple(places),
        virtual_ok=virtual_ok,
        first_by=policy.first_meeting_within_days,
        in_person_first=policy.first_meeting_in_person and policy.virtual == "allowed",
    )


def solve_coach(task: CoachTask, *, use_plans: bool = True) -> CoachResult:
    """Plan one coach's pairs (runs in a worker process; pure data in and out).

    First, each pair's own least-travel plan (:func:`coachmatch.solver.bounds.pair_plan`):
    when the coach can hold all of them in distinct slots, their travel equals the
    proven floor and the plan is optimal. Otherwise (or with ``use_plans=False``), the
    CP-SAT model: each pair has up to K meetings (K enough for the horizon at the shortest gap),
    meeting k an optional interval on the half-hour grid whose start ranges over the
    pair's common free slots. The coach's intervals never overlap; consecutive
    meetings of a pair are ``shortest``..``longest`` days apart; the first falls in
    the first ``first_by`` days and the last within ``longest`` days of the end.
    Travel is the day's least in-person travel unless the meeting is virtual.

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> import coachmatch
    >>> program = synthetic("small")
    >>> tasks = build_tasks(program, coachmatch.match(program))
    >>> result = solve_coach(tasks[0])
    >>> result.infeasible, len(result.meetings) > 0
    (False, True)
    """
    quick = _from_pair_plans(task) if use_plans else None
    if quick is not None:
        return quick
    model = cp_model.CpModel()
    out = CoachResult(task.coach_id)
    intervals = []
    travel_terms = []
    plan: list[list[tuple[Any, Any, Any, Any]]] = []
    last_day = task.n_days - 1
    for p, pair in enumerate(task.pairs):
        if not pair.starts:
            out.infeasible = True
            return out
        days_free = sorted({u // SLOTS_PER_DAY for u in pair.starts})
        count = last_day // task.shortest + 1
        worst = max([c for c in pair.cost if c >= 0], default=0)
        in_person = [1 if c >= 0 else 0 for c in pair.cost]
        cost_table = [max(c, 0) for c in pair.cost]
        meetings = []
        for k in range(count):
            present = model.new_bool_var(f"p{p}_{k}")
            if k == 0:
                model.add(present == 1)  # every pair meets at least once
            start = model.new_int_var_from_domain(
                cp_model.Domain.from_values(list(pair.starts)), f"u{p}_{k}"
            )
            day = model.new_int_var_from_domain(cp_model.Domain.from_values(days_free), f"d{p}_{k}")
            model.add_division_equality(day, start, SLOTS_PER_DAY)
            intervals.append(
                model.new_optional_fixed_size_interval_var(start, task.length, present, f"i{p}_{k}")
            )
            virtual = model.new_bool_var(f"v{p}_{k}")
            model.add_implication(virtual, present)
            if not pair.virtual_ok:
                model.add(virtual == 0)
            if task.virtual_only:
                model.add(virtual == present)
            # in person needs an in-person place that day
            possible = model.new_int_var(0, 1, f"ip{p}_{k}")
            model.add_element(day, in_person, possible)
            model.add(possible == 1).only_enforce_if([present, virtual.negated()])
            cost = model.new_int_var(0, worst, f"c{p}_{k}")
            model.add_element(day, cost_table, cost)
            travel = model.new_int_var(0, worst, f"t{p}_{k}")
            model.add(travel == cost).only_enforce_if([present, virtual.negated()])
            model.add(travel == 0).only_enforce_if(virtual)
            model.add(travel == 0).only_enforce_if(present.negated())
            travel_terms.append(travel)
            meetings.append((present, start, day, virtual))
        # S2: first within first_by days; gaps; the last near enough to the end
        model.add(meetings[0][2] <= pair.first_by)
        for (p0, _, d0, _), (p1, _, d1, _) in itertools.pairwise(meetings):
            model.add_implication(p1, p0)
            model.add(d1 - d0 >= task.shortest).only_enforce_if(p1)
            model.add(d1 - d0 <= task.longest).only_enforce_if(p1)
            # no next meeting: this one must be the last, within `longest` of the end
            model.add(last_day - d0 < task.longest).only_enforce_if([p0, p1.negated()])
        model.add(last_day - meetings[-1][2] < task.longest).only_enforce_if(meetings[-1][0])
        if not task.virtual_only and pair.virtual_ok:
            numerator, denominator = task.share
            model.add(
                denominator * sum(m[3] for m in meetings) <= numerator * sum(m[0] for m in meetings)
            )
            if pair.in_person_first:
                model.add(meetings[0][3] == 0)
        plan.append(meetings)
    model.add_no_overlap(intervals)
    total = sum(travel_terms)
    # the pairs' own least travel bounds the coach's from below (solver.bounds): with
    # it, a plan that reaches the bound is proven optimal at once
    model.add(total >= task.travel_floor)
    model.minimize(total)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = task.seed
    solver.parameters.max_time_in_seconds = task.time_limit
    solver.parameters.max_deterministic_time = task.deterministic_time
    status = solver.solve(model)
    if status == cp_model.INFEASIBLE:
        out.infeasible = True
        return out
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise RuntimeError(
            f"scheduling {task.coach_id}: no schedule found within the limits "
            f"({solver.status_name(status)})"
        )
    out.optimal = status == cp_model.OPTIMAL or round(solver.objective_value) <= task.travel_floor
    for p, meetings in enumerate(plan):
        pair = task.pairs[p]
        for present, start, day, virtual in meetings:
            if not solver.value(present):
                continue
            u, d = solver.value(start), solver.value(day)
            if solver.value(virtual):
                out.meetings.append((p, d, u % SLOTS_PER_DAY, VIRTUAL, 0))
            else:
                out.meetings.append((p, d, u % SLOTS_PER_DAY, pair.site[d], pair.cost[d]))
    return out


def _preference(task: CoachTask, day: int, slot: int) -> tuple[int, int]:
    """Order of start slots on a day: protected half-day, working hours, the rest."""
    weekday = (task.weekday0 + day) % 7
    minute = slot * SLOT_MINUTES
    if weekday == 2 and 13 * 60 <= minute < 17 * 60:
        return 0, slot
    if weekday < 5 and 8 * 60 <= minute < 18 * 60:
        return 1, slot
    return 2, slot


def _from_pair_plans(task: CoachTask) -> CoachResult | None:
    """Each pair's own least-travel plan, if the coach can hold them all.

    The pairs' plans together cost exactly the travel floor, so when the coach's
    meetings on every day fit into distinct slots the result is optimal without a
    solver. None when some day's meetings cannot be placed (then CP-SAT decides).
    """
    out = CoachResult(task.coach_id)
    by_day: dict[int, list[tuple[int, bool]]] = {}
    for p, pair in enumerate(task.pairs):
        travel, plan = pair_plan(pair, task)
        if not math.isfinite(travel):
            return None
        for day, virtual in plan:
            by_day.setdefault(day, []).append((p, virtual))
    for day, meetings in sorted(by_day.items()):
        options = []
        for p, _ in meetings:
            free = [u % SLOTS_PER_DAY for u in task.pairs[p].starts if u // SLOTS_PER_DAY == day]
            options.append(sorted(free, key=partial(_preference, task, day)))
        slots = _place(options, task.length)
        if slots is None:
            return None
        for (p, virtual), slot in zip(meetings, slots, strict=True):
            pair = task.pairs[p]
            site, cost = (VIRTUAL, 0) if virtual else (pair.site[day], pair.cost[day])
            out.meetings.append((p, day, slot, site, cost))
    return out


def _place(options: list[list[int]], length: int) -> list[int] | None:
    """Non-overlapping start slots, one from each list (in its order of preference)."""
    chosen: list[int] = []

    def extend(k: int) -> bool:
        if k == len(options):
            return True
        for slot in options[k]:
            if all(abs(slot - other) >= length for other in chosen):
                chosen.append(slot)
                if extend(k + 1):
                    return True
                chosen.pop()
        return False

    return chosen if extend(0) else None


def build_tasks(
    program: Program,
    matching: Matching,
    *,
    time_limit: float | None = None,
    deterministic_time: float = 20.0,
) -> list[CoachTask]:
    """One task per coach with coachees, in the program's coach order."""
    grid = TimeGrid.of(program)
    matrix = travel_matrix(program)
    policy = program.policy
    share = Fraction(policy.max_virtual_share).limit_denominator(1000)
    free: dict[str, Any] = {}
    by_coach: dict[str, list[str]] = {}
    for r, c in zip(matching.pairs["resident_id"], matching.pairs["coach_id"], strict=True):
        by_coach.setdefault(str(c), []).append(str(r))
    tasks = []
    for coach in program.coaches:
        residents = by_coach.get(coach.coach_id)
        if not residents:
            continue
        pairs = tuple(_pair_task(program, grid, matrix, r, coach.coach_id, free) for r in residents)
        task = CoachTask(
            coach_id=coach.coach_id,
            pairs=pairs,
            n_days=len(grid.days),
            length=-(-policy.meeting_minutes // SLOT_MINUTES),
            shortest=policy.cadence_days[0],
            longest=policy.cadence_days[1],
            share=(share.numerator, share.denominator),
            virtual_only=policy.virtual == "only",
            seed=policy.seed,
            time_limit=time_limit or policy.time_limit_s,
            deterministic_time=deterministic_time,
        )
        bounds = [pair_lower_bound(pair, task) for pair in pairs]
        floor = sum(b for b in bounds if math.isfinite(b))
        tasks.append(replace(task, travel_floor=round(floor), weekday0=program.start.weekday()))
    return tasks


def schedule(
    program: Program,
    matching: Matching,
    *,
    executor: Executor | None = None,
    allow_partial: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Schedule:
    """Plan every pair's meetings over the horizon with the least travel (SPEC §5).

    Parameters
    ----------
    program : Program
    matching : Matching
        The pairs to plan for (from :func:`coachmatch.match`).
    executor : concurrent.futures.Executor, optional
        Runs the per-coach models; default: a process pool with one worker per core
        (in-process for a single coach). Results are merged in coach order.
    allow_partial : bool, default False
        Plan every pair that can be planned and list the others, instead of raising.
    progress : callable, optional
        Receives a line per coach solved (also logged to ``coachmatch``).

    Returns
    -------
    Schedule

    Raises
    ------
    InfeasibleError
        When some pair cannot meet under S1-S4, with a reason per pair.

    Examples
    --------
    >>> import coachmatch
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> plan = schedule(program, coachmatch.match(program))
    >>> plan.status, coachmatch.audit_schedule(program, plan.meetings) == []
    ('optimal', True)
    """
    started = time.perf_counter()
    tasks = build_tasks(program, matching)
    results = _run(tasks, executor, progress)
    problems: list[str] = []
    for task, result in zip(tasks, results, strict=True):
        if result.infeasible:
            problems.extend(_pair_reasons(program, task))
    if problems and not allow_partial:
        raise InfeasibleError(problems, "schedule")
    planned = [task for task, result in zip(tasks, results, strict=True) if not result.infeasible]
    bound = travel_lower_bound(planned)
    return _schedule_result(program, tasks, results, problems, bound, time.perf_counter() - started)


def _run(
    tasks: Sequence[CoachTask], executor: Executor | None, progress: Callable[[str], None] | None
) -> list[CoachResult]:
    def note(message: str) -> None:
        log.info(message)
        if progress is not None:
            progress(message)

    if executor is None and len(tasks) > 1 and (os.cpu_count() or 1) > 1:
        with ProcessPoolExecutor(max_workers=os.cpu_count()) as pool:
            return _collect(pool, tasks, note)
    if executor is None:
        return [_noted(solve_coach(task), note) for task in tasks]
    return _collect(executor, tasks, note)


def _collect(
    executor: Executor, tasks: Sequence[CoachTask], note: Callable[[str], None]
) -> list[CoachResult]:
    futures = [executor.submit(solve_coach, task) for task in tasks]
    return [_noted(f.result(), note) for f in futures]


def _noted(result: CoachResult, note: Callable[[str], None]) -> CoachResult:
    state = "infeasible" if result.infeasible else f"{len(result.meetings)} meetings"
    note(f"scheduled {result.coach_id}: {state}")
    return result


def _pair_reasons(program: Program, task: CoachTask) -> list[str]:
    """Why a coach's pairs cannot all be planned: each pair alone, then the coach."""
    reasons = []
    start = program.start
    for pair in task.pairs:
        if not solve_coach(replace(task, pairs=(pair,))).infeasible:
            continue
        names = f"{pair.resident_id} and {pair.coach_id}"
        days = sorted({u // SLOTS_PER_DAY for u in pair.starts})
        if not days:
            reasons.append(f"{names} have no common free time in the horizon")
        elif days[0] > pair.first_by:
            due = start + timedelta(days=pair.first_by)
            reasons.append(
                f"{names} have no common free time from {start} to {due} (first "
                f"meeting due within {pair.first_by} days); the first is on "
                f"{start + timedelta(days=days[0])}"
            )
        else:
            gaps = [(a, b) for a, b in itertools.pairwise(days) if b - a > task.longest]
            if gaps:
                a, b = gaps[0]
                reasons.append(
                    f"{names} have no common free time from "
                    f"{start + timedelta(days=a + 1)} to "
                    f"{start + timedelta(days=b - 1)}, longer than the "
                    f"{task.longest}-day cadence allows"
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


def _schedule_result(
    program: Program,
    tasks: Sequence[CoachTask],
    results: Sequence[CoachResult],
    problems: list[str],
    bound: int | None,
    runtime: float,
) -> Schedule:
    grid = TimeGrid.of(program)
    minutes = program.policy.meeting_minutes
    rows = []
    for task, result in zip(tasks, results, strict=True):
        if result.infeasible:
            continue
        counter: dict[int, int] = {}
        for p, d, s, site, cost in sorted(result.meetings):
            pair = task.pairs[p]
            k = counter.get(p, 0) + 1
            counter[p] = k
            start = grid.slot_start(d, s)
            rows.append(
                {
                    "meeting_id": f"{pair.resident_id}-{pair.coach_id}-{k:02d}",
                    "sequence": 0,
                    "resident_id": pair.resident_id,
                    "coach_id": pair.coach_id,
                    "start": pd.Timestamp(start),
                    "end": pd.Timestamp(start) + pd.Timedelta(minutes=minutes),
                    "site_id": site,
                    "travel_minutes": cost,
                    "status": "scheduled",
                }
            )
    meetings = pd.DataFrame(rows, columns=list(MEETING_COLUMNS))
    if len(meetings):
        meetings = meetings.sort_values(
            ["start", "coach_id", "resident_id"], kind="stable"
        ).reset_index(drop=True)
    optimal = all(r.optimal for r in results if not r.infeasible)
    return Schedule(
        program=program,
        meetings=meetings,
        status="optimal" if optimal else "feasible",
        travel_total=int(meetings["travel_minutes"].sum()) if len(meetings) else 0,
        travel_lower_bound=bound,
        problems=problems,
        runtime=runtime,
    )
