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

Either way, a meeting's slot within its day is then chosen by preference (protected
half-day, then working hours), leaving kept meetings where they are. Gaps near the
middle of the cadence: the pair-plan path prefers them while backtracking its dynamic
program (greedily, gap by gap); the CP-SAT path, once its plan is proven optimal,
solves a second time with the objective fixed at its optimum and minimizes the gaps'
total distance from the middle.

Re-planning (``previous=``, ``as_of=``, :mod:`coachmatch.solver.replan`): the tasks
start on the as-of date, knowing each pair's held meetings and which previous
meetings still hold; the model keeps as many of those as it can, then minimizes
travel, then adds the fewest meetings.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import replace
from datetime import date, timedelta
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
from coachmatch.solver.replan import History, meeting_id, merge, read_previous
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
    history: History | None = None,
) -> PairTask:
    index = program.index
    policy = program.policy
    coach = program.coaches[index.coach[coach_id]]
    for person in (resident_id, coach_id):
        if person not in free:
            free[person] = grid.available(person)
    common = grid.can_start(free[resident_id] & free[coach_id])
    home = int(index.coach_site[index.coach[coach_id]])
    sites = grid.site_of(resident_id)
    virtual_ok = policy.virtual != "never" and coach.virtual_ok

    def travel(day: int, place: int) -> int:
        """In-person travel at ``place`` on ``day``; -1 when it is not a place (S4)."""
        at = int(sites[day])
        if policy.virtual == "only" or place not in (home, at):
            return -1
        legs = [(home, place)] + ([(at, place)] if at >= 0 else [])
        if not all(a == b or (matrix[a, b] >= 0 and matrix[b, a] >= 0) for a, b in legs):
            return -1
        return sum(round_trip(matrix, a, b) for a, b in legs)

    # per day, the least in-person travel: at the coach's home (the resident comes
    # from the day's rotation site) or at that site (the coach comes); home on a tie
    n_days = len(grid.days)
    if policy.virtual == "only":
        cost_array = np.full(n_days, -1, dtype=np.int64)
        place_array = np.full(n_days, -1, dtype=np.int64)
    else:
        trip = _round_trips(matrix)
        on_site = sites >= 0
        at = np.where(on_site, sites, home)
        at_home = np.where(on_site, trip[at, home], 0)
        at_site = np.where(on_site & (at != home), trip[home, at], -1)
        take_site = (at_site >= 0) & ((at_home < 0) | (at_site < at_home))
        cost_array = np.where(take_site, at_site, at_home)
        place_array = np.where(take_site, at, np.where(at_home >= 0, home, -1))
    costs = cost_array.tolist()
    names = [*index.site_ids, ""]
    places = [names[k] for k in place_array.tolist()]
    usable = (cost_array >= 0) | virtual_ok
    ok = common & usable[:, None]
    pair = (resident_id, coach_id)
    first_by = policy.first_meeting_within_days
    extra: dict[str, Any] = {}
    if history is not None:
        from_day = max(grid.day_of(history.as_of), 0)
        ok[:from_day] = False
        shortest, longest = policy.cadence_days
        if pair in history.known and pair in history.held:
            last, count, virtual = history.held[pair]
            last_day = grid.day_of(last)
            extra.update(
                first_from=last_day + shortest,
                first_by=last_day + longest,
                must_meet=len(grid.days) - 1 - last_day >= longest,
                past_count=count,
                past_virtual=virtual,
            )
        else:
            start = grid.day_of(history.start_of(program, pair))
            extra.update(first_from=max(start, 0), first_by=start + first_by)
        before = history.future.get(pair, []) if pair in history.known else []
        keep = []
        for row in before:
            day, slot, exact = grid.locate(row["start"].to_pydatetime())
            minutes = (row["end"] - row["start"]).total_seconds() / 60
            if not (exact and 0 <= day < len(grid.days) and minutes == policy.meeting_minutes):
                continue
            if not (common[day, slot] and day >= from_day):
                continue
            if row["site_id"] == VIRTUAL:
                if virtual_ok:
                    keep.append((day * SLOTS_PER_DAY + slot, VIRTUAL, 0))
            elif row["site_id"] in index.site:
                cost = travel(day, index.site[row["site_id"]])
                if cost >= 0:
                    keep.append((day * SLOTS_PER_DAY + slot, row["site_id"], cost))
        extra.update(planned_before=len(before), keep=tuple(keep))
    days, slots = np.nonzero(ok)
    in_person_first = policy.first_meeting_in_person and policy.virtual == "allowed"
    return PairTask(
        resident_id=resident_id,
        coach_id=coach_id,
        starts=tuple((days * SLOTS_PER_DAY + slots).tolist()),
        cost=tuple(costs),
        site=tuple(places),
        virtual_ok=virtual_ok,
        first_by=extra.pop("first_by", first_by),
        in_person_first=in_person_first and not extra.get("past_count", 0),
        **extra,
    )


def _round_trips(matrix: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Round-trip minutes between sites; -1 where a leg has no travel time."""
    both = matrix + matrix.T
    trip: npt.NDArray[np.int64] = np.where((matrix >= 0) & (matrix.T >= 0), both, -1)
    np.fill_diagonal(trip, 0)
    return trip


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
    dropped_terms = []
    added_terms = []
    plan: list[list[tuple[Any, Any, Any, Any, list[Any]]]] = []
    last_day = task.n_days - 1
    for p, pair in enumerate(task.pairs):
        if not pair.starts and pair.must_meet:
            out.infeasible = True
            return out
        days_free = sorted({u // SLOTS_PER_DAY for u in pair.starts}) or [0]
        count = last_day // task.shortest + 1
        worst = max([c for c in pair.cost if c >= 0] + [t for _, _, t in pair.keep], default=0)
        in_person = [1 if c >= 0 else 0 for c in pair.cost]
        cost_table = [max(c, 0) for c in pair.cost]
        meetings = []
        kept_as: list[list[Any]] = [[] for _ in pair.keep]
        for k in range(count):
            present = model.new_bool_var(f"p{p}_{k}")
            if k == 0 and pair.must_meet:
                model.add(present == 1)  # the pair meets at least once more
            start = model.new_int_var_from_domain(
                cp_model.Domain.from_values(list(pair.starts) or [0]), f"u{p}_{k}"
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
            travel = model.new_int_var(0, worst, f"t{p}_{k}")
            # meeting k may be a previous meeting j kept as it was (time, place, travel)
            is_kept = []
            for j, (unit, site, cost) in enumerate(pair.keep):
                flag = model.new_bool_var(f"k{p}_{k}_{j}")
                model.add_implication(flag, present)
                model.add(start == unit).only_enforce_if(flag)
                model.add(virtual == int(site == VIRTUAL)).only_enforce_if(flag)
                model.add(travel == cost).only_enforce_if(flag)
                kept_as[j].append(flag)
                is_kept.append(flag)
            kept = model.new_bool_var(f"kk{p}_{k}")
            model.add(kept == sum(is_kept))
            added = model.new_bool_var(f"n{p}_{k}")  # a meeting that was not planned before
            model.add(added >= present - kept)
            added_terms.append(added)
            # in person needs an in-person place that day; its travel is the day's least
            possible = model.new_int_var(0, 1, f"ip{p}_{k}")
            model.add_element(day, in_person, possible)
            model.add(possible == 1).only_enforce_if([present, virtual.negated()])
            cost_k = model.new_int_var(0, worst, f"c{p}_{k}")
            model.add_element(day, cost_table, cost_k)
            chosen_place = [present, virtual.negated(), kept.negated()]
            model.add(travel == cost_k).only_enforce_if(chosen_place)
            model.add(travel == 0).only_enforce_if(virtual)
            model.add(travel == 0).only_enforce_if(present.negated())
            travel_terms.append(travel)
            meetings.append((present, start, day, virtual, is_kept))
        for flags in kept_as:
            dropped = model.new_bool_var("")
            model.add(sum(flags) + dropped == 1)
            dropped_terms.append(dropped)
        # S2: the first (next) meeting in its window; gaps; the last near enough to the end
        model.add(meetings[0][2] >= pair.first_from).only_enforce_if(meetings[0][0])
        model.add(meetings[0][2] <= pair.first_by).only_enforce_if(meetings[0][0])
        for (p0, _, d0, _, _), (p1, _, d1, _, _) in itertools.pairwise(meetings):
            model.add_implication(p1, p0)
            model.add(d1 - d0 >= task.shortest).only_enforce_if(p1)
            model.add(d1 - d0 <= task.longest).only_enforce_if(p1)
            # no next meeting: this one must be the last, within `longest` of the end
            model.add(last_day - d0 < task.longest).only_enforce_if([p0, p1.negated()])
        model.add(last_day - meetings[-1][2] < task.longest).only_enforce_if(meetings[-1][0])
        if not task.virtual_only and pair.virtual_ok:
            numerator, denominator = task.share
            virtual_count = pair.past_virtual + sum(m[3] for m in meetings)
            held = pair.past_count + sum(m[0] for m in meetings)
            model.add(denominator * virtual_count <= numerator * held)
            if pair.in_person_first:
                model.add(meetings[0][3] == 0)
        plan.append(meetings)
    model.add_no_overlap(intervals)
    total = sum(travel_terms)
    # the pairs' own least travel bounds the coach's from below (solver.bounds): with
    # it, a plan that reaches the bound is proven optimal at once
    model.add(total >= task.travel_floor)
    if dropped_terms:
        # re-planning (SPEC §5): keep the previous meetings first, then the least
        # travel, then the fewest meetings added (each one a change for two people)
        per_travel = len(added_terms) + 1
        per_drop = per_travel * (sum(_upper(t) for t in travel_terms) + 1)
        objective = per_drop * sum(dropped_terms) + per_travel * total + sum(added_terms)
    else:
        objective = total
    model.minimize(objective)
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
    travel_value = sum(solver.value(t) for t in travel_terms)
    out.optimal = status == cp_model.OPTIMAL or (
        not dropped_terms and travel_value <= task.travel_floor
    )
    if out.optimal:
        solver = _gaps_near_the_middle(model, task, plan, objective, solver)
    chosen: list[_Chosen] = []
    for p, meetings in enumerate(plan):
        pair = task.pairs[p]
        for present, start, day, virtual, is_kept in meetings:
            if not solver.value(present):
                continue
            u, d = solver.value(start), solver.value(day)
            kept_here = [pair.keep[j] for j, flag in enumerate(is_kept) if solver.value(flag)]
            if kept_here:
                unit, site, cost = kept_here[0]
                chosen.append((p, d, site, cost, unit % SLOTS_PER_DAY))
                continue
            site, cost = (VIRTUAL, 0) if solver.value(virtual) else (pair.site[d], pair.cost[d])
            same = (u, site, cost) in pair.keep
            chosen.append((p, d, site, cost, u % SLOTS_PER_DAY if same else None))
    arranged = _arrange(task, chosen)
    assert arranged is not None, "the solver's own slots are a valid arrangement"
    out.meetings = arranged
    return out


def _gaps_near_the_middle(
    model: cp_model.CpModel,
    task: CoachTask,
    plan: list[list[tuple[Any, Any, Any, Any, list[Any]]]],
    objective: Any,
    solved: cp_model.CpSolver,
) -> cp_model.CpSolver:
    """SPEC §5's tie-break: among plans as good as the one found (proven optimal),
    the one whose gaps are nearest the middle of the cadence. Returns the solver
    holding the better plan (the first one's when the second solve finds none)."""
    best = round(solved.objective_value)
    model.clear_hints()  # type: ignore[no-untyped-call]
    for meetings in plan:
        for present, start, day, virtual, is_kept in meetings:
            for var in (present, start, day, virtual, *is_kept):
                model.add_hint(var, solved.value(var))
    model.add(objective == best)
    middle_twice = task.shortest + task.longest
    deviations = []
    for meetings in plan:
        for (_, _, d0, _, _), (p1, _, d1, _, _) in itertools.pairwise(meetings):
            deviation = model.new_int_var(0, 2 * task.longest, "")
            model.add(deviation >= 2 * (d1 - d0) - middle_twice).only_enforce_if(p1)
            model.add(deviation >= middle_twice - 2 * (d1 - d0)).only_enforce_if(p1)
            deviations.append(deviation)
    model.minimize(sum(deviations))
    second = cp_model.CpSolver()
    second.parameters.num_workers = 1
    second.parameters.random_seed = task.seed
    second.parameters.max_time_in_seconds = task.time_limit
    second.parameters.max_deterministic_time = min(task.deterministic_time, 5.0)
    if second.solve(model) in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return second
    return solved


def _upper(var: Any) -> int:
    """The upper bound of an integer variable's domain."""
    return int(var.proto.domain[-1])


def _preference(task: CoachTask, day: int, slot: int) -> tuple[int, int]:
    """Order of start slots on a day: protected half-day, working hours, the rest."""
    weekday = (task.weekday0 + day) % 7
    minute = slot * SLOT_MINUTES
    if weekday == 2 and 13 * 60 <= minute < 17 * 60:
        return 0, slot
    if weekday < 5 and 8 * 60 <= minute < 18 * 60:
        return 1, slot
    return 2, slot


#: a meeting before its slot is chosen: (pair index, day, site_id, travel, fixed slot)
_Chosen = tuple[int, int, str, int, int | None]


def _kept_plan(p: int, pair: PairTask, task: CoachTask) -> list[_Chosen] | None:
    """Pair ``p``'s previous meetings, all kept, if they still make a valid plan."""
    if len(pair.keep) != pair.planned_before:
        return None
    days = [unit // SLOTS_PER_DAY for unit, _, _ in pair.keep]
    virtual = [site == VIRTUAL for _, site, _ in pair.keep]
    if not days:
        return [] if not pair.must_meet else None
    gaps_ok = all(task.shortest <= b - a <= task.longest for a, b in itertools.pairwise(days))
    numerator, denominator = task.share
    share_ok = task.virtual_only or denominator * (pair.past_virtual + sum(virtual)) <= (
        numerator * (pair.past_count + len(days))
    )
    if (
        gaps_ok
        and share_ok
        and pair.first_from <= days[0] <= pair.first_by
        and task.n_days - 1 - days[-1] < task.longest
        and not (pair.in_person_first and virtual[0])
    ):
        return [
            (p, d, site, cost, unit % SLOTS_PER_DAY)
            for (unit, site, cost), d in zip(pair.keep, days, strict=True)
        ]
    return None


def _from_pair_plans(task: CoachTask) -> CoachResult | None:
    """Each pair's own least-travel plan, if the coach can hold them all.

    A pair whose previous meetings all still hold keeps them (re-planning); any other
    pair takes its least-travel plan. Together these cost the least possible (the
    travel floor, plus what the kept meetings cost), so when the coach's meetings on
    every day fit into distinct slots the result is optimal without a solver. None
    when some pair needs the solver (some previous meetings no longer hold) or some
    day's meetings cannot be placed.
    """
    chosen: list[_Chosen] = []
    for p, pair in enumerate(task.pairs):
        if pair.planned_before:
            kept = _kept_plan(p, pair, task)
            if kept is None:
                return None
            chosen.extend(kept)
            continue
        travel, plan = pair_plan(pair, task)
        if not math.isfinite(travel):
            return None
        for day, virtual in plan:
            site, cost = (VIRTUAL, 0) if virtual else (pair.site[day], pair.cost[day])
            chosen.append((p, day, site, cost, None))
    arranged = _arrange(task, chosen)
    if arranged is None:
        return None
    out = CoachResult(task.coach_id)
    out.meetings = arranged
    return out


def _arrange(task: CoachTask, chosen: list[_Chosen]) -> list[tuple[int, int, int, str, int]] | None:
    """Start slots for meetings whose days are chosen: fixed ones stay, the others take
    the most preferred free slots (protected half-day, working hours) that fit."""
    by_day: dict[int, list[_Chosen]] = {}
    for item in chosen:
        by_day.setdefault(item[1], []).append(item)
    out = []
    for day, items in sorted(by_day.items()):
        fixed = [slot for *_, slot in items if slot is not None]
        loose = [item for item in items if item[4] is None]
        options = []
        for p, *_ in loose:
            free = [u % SLOTS_PER_DAY for u in task.pairs[p].starts if u // SLOTS_PER_DAY == day]
            options.append(sorted(free, key=partial(_preference, task, day)))
        slots = _place(options, task.length, fixed)
        if slots is None:
            return None
        for (p, d, site, cost, _), slot in zip(loose, slots, strict=True):
            out.append((p, d, slot, site, cost))
        out.extend((p, d, slot, site, cost) for p, d, site, cost, slot in items if slot is not None)
    return sorted(out)


def _place(options: list[list[int]], length: int, fixed: Sequence[int] = ()) -> list[int] | None:
    """Non-overlapping start slots, one from each list (in its order of preference),
    clear of the ``fixed`` ones."""
    chosen: list[int] = []
    if any(abs(a - b) < length for a, b in itertools.combinations(fixed, 2)):
        return None

    def extend(k: int) -> bool:
        if k == len(options):
            return True
        for slot in options[k]:
            if all(abs(slot - other) >= length for other in itertools.chain(chosen, fixed)):
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
    history: History | None = None,
) -> list[CoachTask]:
    """One task per coach with coachees, in the program's coach order.

    With a ``history`` (re-planning), the pairs plan from its as-of date on, knowing
    the meetings already held and the previous meetings that still hold.
    """
    grid = TimeGrid.of(program)
    matrix = travel_matrix(program)
    policy = program.policy
    share = Fraction(policy.max_virtual_share).limit_denominator(1000)
    free: dict[str, Any] = {}
    by_coach: dict[str, list[str]] = {}
    for r, c in _pairs(matching):
        by_coach.setdefault(c, []).append(r)
    tasks = []
    for coach in program.coaches:
        residents = by_coach.get(coach.coach_id)
        if not residents:
            continue
        pairs = tuple(
            _pair_task(program, grid, matrix, r, coach.coach_id, free, history) for r in residents
        )
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
        bounds = tuple(pair_lower_bound(pair, task) for pair in pairs)
        floor = sum(b for b in bounds if math.isfinite(b))
        tasks.append(
            replace(
                task,
                pair_floors=bounds,
                travel_floor=round(floor),
                weekday0=program.start.weekday(),
            )
        )
    return tasks


def _pairs(matching: Matching) -> list[tuple[str, str]]:
    frame = matching.pairs
    return [
        (str(r), str(c))
        for r, c in zip(frame["resident_id"], frame["coach_id"], strict=True)
        if isinstance(c, str)
    ]


def schedule(
    program: Program,
    matching: Matching,
    *,
    previous: Schedule | pd.DataFrame | None = None,
    as_of: date | None = None,
    starts: Mapping[tuple[str, str], date] | None = None,
    ends: Mapping[tuple[str, str], date] | None = None,
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
    previous : Schedule or DataFrame, optional
        The previous run's meetings (``meetings.csv`` columns) to re-plan from; needs
        ``as_of``. Meetings before ``as_of`` (and cancelled ones) are carried over
        unchanged; later meetings of pairs that continue are kept where they still
        satisfy the rules (as many as possible, then the least travel); a kept meeting
        keeps its id and sequence, a moved one keeps its id with the sequence one
        higher, and one with no place in the new plan is returned as ``"cancelled"``.
    as_of : datetime.date, optional
        The re-planning date; nothing is planned before it. Alone (no ``previous``),
        every pair starts on it.
    starts, ends : mapping of (resident_id, coach_id) to date, optional
        Start dates of pairs made, and last dates of pairs ended, during the horizon
        by earlier runs, when ``previous`` is a table (a Schedule carries its own).
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
    ValueError
        When ``previous`` is given without ``as_of``, or is not a meetings table.

    Examples
    --------
    >>> import coachmatch
    >>> from datetime import date
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> matching = coachmatch.match(program)
    >>> plan = schedule(program, matching)
    >>> plan.status, coachmatch.audit_schedule(program, plan.meetings) == []
    ('optimal', True)
    >>> again = schedule(program, matching, previous=plan, as_of=date(2026, 11, 1))
    >>> again.changes
    {'kept': 280, 'moved': 0, 'new': 0, 'cancelled': 0}
    """
    started = time.perf_counter()
    if previous is not None and as_of is None:
        raise ValueError("re-planning from a previous schedule needs as_of (a date)")
    history = (
        read_previous(program, previous, as_of, starts=starts, ends=ends)
        if as_of is not None
        else None
    )
    tasks = build_tasks(program, matching, history=history)
    results = _run(tasks, executor, progress)
    problems: list[str] = []
    for task, result in zip(tasks, results, strict=True):
        if result.infeasible:
            problems.extend(_pair_reasons(program, task))
    if problems and not allow_partial:
        raise InfeasibleError(problems, "schedule")
    planned = [task for task, result in zip(tasks, results, strict=True) if not result.infeasible]
    bound = travel_lower_bound(planned)
    return _schedule_result(
        program,
        tasks,
        results,
        problems,
        bound,
        time.perf_counter() - started,
        history,
        _pairs(matching),
    )


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


def alone(task: CoachTask, pair: PairTask) -> CoachTask:
    """The coach's task with this one pair (its travel floor the pair's own).

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> import coachmatch
    >>> program = synthetic("small")
    >>> task = build_tasks(program, coachmatch.match(program))[0]
    >>> len(alone(task, task.pairs[0]).pairs)
    1
    """
    bound = pair_lower_bound(pair, task)
    floor = round(bound) if math.isfinite(bound) else 0
    return replace(task, pairs=(pair,), pair_floors=(bound,), travel_floor=floor)


def _pair_reasons(program: Program, task: CoachTask) -> list[str]:
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


def _schedule_result(
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
