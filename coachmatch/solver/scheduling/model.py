"""One coach's meetings: the pairs' own plans, a search where they clash, else CP-SAT.

Per coach, the pairs' own best plans (:mod:`.pair_plan`: least travel, then the gaps
nearest the middle of the cadence, both exact) are tried first: when the coach can
hold them all in distinct slots, their travel equals the proven lower bound and they
are optimal. When some day's meetings clash, a best-first branch and bound
(:func:`_search`) moves one of the clashing pairs off that day at a time, re-planning
only that pair; the first node whose meetings all fit is optimal (most pairs planned,
then least travel, then the gaps), and its travel is the coach's proven bound.

Only when the search gives up (:data:`SEARCH_NODES`) or previous meetings must be
weighed against each other (re-planning) does the coach go to a CP-SAT model: each
pair has up to K optional meetings; meeting k is an interval on the half-hour grid
whose start ranges over the pair's common free slots (S1, S3), and the coach's
intervals never overlap (S3). Consecutive meetings are ``cadence_days[0]``..
``cadence_days[1]`` days apart, the first within ``first_meeting_within_days`` and the
last within ``cadence_days[1]`` days of the horizon end (S2). A meeting is virtual or
at the day's place of least travel — the coach's home site or the resident's rotation
site — under the virtual policy, share and first-meeting rule (S4). Objective:
minimize total travel; once proven, a second solve with the objective fixed takes the
gaps nearest the middle of the cadence.

Either way, a meeting's slot within its day is then chosen by preference (protected
half-day, then working hours), leaving kept meetings where they are.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from typing import Any

from ortools.sat.python import cp_model

from coachmatch.constraints.meetings import VIRTUAL
from coachmatch.solver.scheduling.pair_plan import (
    pair_lower_bound,
    pair_plan,
    score_travel,
    scored_plan,
    scored_plans,
)
from coachmatch.solver.scheduling.tasks import CoachResult, CoachTask, PairTask
from coachmatch.timegrid import SLOT_MINUTES, SLOTS_PER_DAY

__all__ = ["solve_coach"]


def solve_coach(task: CoachTask, *, use_plans: bool = True) -> CoachResult:
    """Plan one coach's pairs (runs in a worker process; pure data in and out).

    As many pairs as possible are fully planned (SPEC 1.1), then travel is the least,
    then the tie-breaks. A pair with no plan even alone (its own dynamic program,
    :func:`.pair_plan.pair_lower_bound`, finds none) cannot be planned at all. For the
    others: first, each pair's own least-travel plan; when the coach can hold all of
    them in distinct slots, every pair is planned at the proven travel floor, which is
    optimal; where they clash, the branch and bound of :func:`_search`, also exact.
    When that gives up (or with ``use_plans=False``), the CP-SAT model: each pair is
    planned or not; a planned pair has up to K meetings (K enough for the horizon at
    the shortest gap), meeting k an optional interval on the half-hour grid whose start
    ranges over the pair's common free slots. The coach's intervals never overlap;
    consecutive meetings of a pair are ``shortest``..``longest`` days apart; the first
    falls in its window and the last within ``longest`` days of the end. Travel is the
    day's least in-person travel unless the meeting is virtual. The objective counts
    a pair left unplanned above any travel (an exact weight: more than all travel).

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> import coachmatch
    >>> program = synthetic("small")
    >>> from coachmatch.solver.scheduling import build_tasks
    >>> tasks = build_tasks(program, coachmatch.match(program))
    >>> result = solve_coach(tasks[0])
    >>> result.unplanned, len(result.meetings) > 0
    ([], True)
    """
    roots = scored_plans(task.pairs, task) if use_plans else []
    floors = task.pair_floors
    if len(floors) != len(task.pairs):
        floors = (
            tuple(score_travel(score, task) for score, _ in roots)
            if roots
            else tuple(pair_lower_bound(pair, task) for pair in task.pairs)
        )
    alone = [p for p, floor in enumerate(floors) if not math.isfinite(floor)]
    candidates = [p for p, floor in enumerate(floors) if math.isfinite(floor)]
    if use_plans:
        quick = _search(task, candidates, roots)
        if quick is not None:
            quick.unplanned = sorted(alone + quick.unplanned)
            quick.floors = floors
            return quick
    out = _solve_model(task, candidates, floors)
    out.unplanned = sorted(alone + out.unplanned)
    out.floors = floors
    if not out.optimal:
        _fill_in(task, out)
    return out


def _solve_model(task: CoachTask, candidates: list[int], floors: Sequence[float]) -> CoachResult:
    """The CP-SAT model over the pairs that can be planned alone."""
    model = cp_model.CpModel()
    out = CoachResult(task.coach_id)
    if not candidates:
        return out
    intervals = []
    travel_terms = []
    dropped_terms = []
    added_terms = []
    planned: dict[int, Any] = {}
    plan: dict[int, list[tuple[Any, Any, Any, Any, list[Any]]]] = {}
    last_day = task.n_days - 1
    for p in candidates:
        pair = task.pairs[p]
        is_planned = planned[p] = model.new_bool_var(f"planned{p}")
        if not pair.must_meet:
            model.add(is_planned == 1)  # the meetings already held suffice
        days_free = sorted({u // SLOTS_PER_DAY for u in pair.starts}) or [0]
        count = last_day // task.shortest + 1
        worst = max([c for c in pair.cost if c >= 0] + [t for _, _, t in pair.keep], default=0)
        in_person = [1 if c >= 0 else 0 for c in pair.cost]
        cost_table = [max(c, 0) for c in pair.cost]
        meetings = []
        kept_as: list[list[Any]] = [[] for _ in pair.keep]
        pair_travel = []
        for k in range(count):
            present = model.new_bool_var(f"p{p}_{k}")
            if k == 0:
                if pair.must_meet:
                    model.add(present == is_planned)  # a planned pair meets at least once more
                else:
                    model.add_implication(present, is_planned)
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
            pair_travel.append(travel)
            meetings.append((present, start, day, virtual, is_kept))
        travel_terms.extend(pair_travel)
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
            # the share counts the meetings held before; with no new meeting (a pair
            # whose held meetings suffice) there is nothing left to choose
            model.add(denominator * virtual_count <= numerator * held).only_enforce_if(
                meetings[0][0]
            )
            if pair.in_person_first:
                model.add(meetings[0][3] == 0)
        # the pair's own least travel bounds its travel from below (.pair_plan): with
        # it, a plan that reaches the bounds is proven optimal at once
        model.add(sum(pair_travel) >= math.floor(floors[p])).only_enforce_if(is_planned)
        plan[p] = meetings
    model.add_no_overlap(intervals)
    total = sum(travel_terms)
    travel_most = sum(_upper(t) for t in travel_terms)
    if dropped_terms:
        # re-planning (SPEC §5): keep the previous meetings first, then the least
        # travel, then the fewest meetings added (each one a change for two people)
        per_travel = len(added_terms) + 1
        per_drop = per_travel * (travel_most + 1)
        rest = per_drop * sum(dropped_terms) + per_travel * total + sum(added_terms)
        rest_most = per_drop * len(dropped_terms) + per_travel * travel_most + len(added_terms)
    else:
        rest = total
        rest_most = travel_most
    # SPEC 1.1: as many pairs planned as possible first; a pair outweighs all the rest
    unplanned = len(candidates) - sum(planned.values())
    objective = (rest_most + 1) * unplanned + rest
    model.minimize(objective)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = task.seed
    solver.parameters.max_time_in_seconds = task.time_limit
    solver.parameters.max_deterministic_time = task.deterministic_time
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        # leaving every pair unplanned is always a solution; not finding one is a limit
        raise RuntimeError(
            f"scheduling {task.coach_id}: no schedule found within the limits "
            f"({solver.status_name(status)})"
        )
    travel_value = sum(solver.value(t) for t in travel_terms)
    every = all(solver.value(v) for v in planned.values())
    floor = sum(math.floor(floors[p]) for p in candidates)
    out.optimal = status == cp_model.OPTIMAL or (
        every and not dropped_terms and travel_value <= floor
    )
    if out.optimal and not dropped_terms:
        out.bound = travel_value  # the least travel of the most pairs that can be planned
    if out.optimal:
        solver = _gaps_near_the_middle(model, task, plan, objective, solver)
    chosen: list[_Chosen] = []
    for p, meetings in plan.items():
        pair = task.pairs[p]
        if not solver.value(planned[p]):
            out.unplanned.append(p)
            continue
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


def taken_slots(task: CoachTask, meetings: Sequence[tuple[int, int, int, str, int]]) -> set[int]:
    """Every half-hour unit (day * 48 + slot) the coach's meetings cover."""
    return {d * SLOTS_PER_DAY + s + k for _, d, s, _, _ in meetings for k in range(task.length)}


def free_starts(pair: PairTask, task: CoachTask, taken: set[int]) -> tuple[int, ...]:
    """The pair's start units whose whole meeting avoids the ``taken`` units."""
    return tuple(u for u in pair.starts if not any(u + k in taken for k in range(task.length)))


def _fill_in(task: CoachTask, out: CoachResult) -> None:
    """When the plan is not proven best, add any unplanned pair whose own plan fits in the
    coach's remaining free time (its meetings never move another pair's)."""
    for p in list(out.unplanned):
        pair = task.pairs[p]
        if not pair.must_meet or pair.planned_before:
            continue
        narrowed = replace(pair, starts=free_starts(pair, task, taken_slots(task, out.meetings)))
        travel, days = pair_plan(narrowed, task)
        if not math.isfinite(travel):
            continue
        chosen: list[_Chosen] = [
            (p, d, VIRTUAL, 0, None) if virtual else (p, d, pair.site[d], pair.cost[d], None)
            for d, virtual in days
        ]
        solo = replace(
            task, pairs=tuple(narrowed if q == p else x for q, x in enumerate(task.pairs))
        )
        arranged = _arrange(solo, chosen)
        if arranged is None:
            continue
        out.meetings = sorted(out.meetings + arranged)
        out.unplanned.remove(p)


def _gaps_near_the_middle(
    model: cp_model.CpModel,
    task: CoachTask,
    plan: dict[int, list[tuple[Any, Any, Any, Any, list[Any]]]],
    objective: Any,
    solved: cp_model.CpSolver,
) -> cp_model.CpSolver:
    """SPEC §5's tie-break: among plans as good as the one found (proven optimal),
    the one whose gaps are nearest the middle of the cadence. Returns the solver
    holding the better plan (the first one's when the second solve finds none)."""
    best = round(solved.objective_value)
    model.clear_hints()  # type: ignore[no-untyped-call]
    for meetings in plan.values():
        for present, start, day, virtual, is_kept in meetings:
            for var in (present, start, day, virtual, *is_kept):
                model.add_hint(var, solved.value(var))
    model.add(objective == best)
    middle_twice = task.shortest + task.longest
    deviations = []
    for meetings in plan.values():
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
    """The upper bound of an integer variable's domain.

    (The proto's repeated field does not take negative indices: ``domain[-1]`` reads
    element 0 in OR-Tools 9.15, so the last element is addressed by its position.)

    Examples
    --------
    >>> model = cp_model.CpModel()
    >>> _upper(model.new_int_var(0, 37, "x"))
    37
    """
    domain = var.proto.domain
    return int(domain[len(domain) - 1])


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


#: nodes the per-coach search (:func:`_search`) may open before the coach goes to CP-SAT
SEARCH_NODES = 1000


def _search(
    task: CoachTask, candidates: list[int], roots: Sequence[tuple[float, list[tuple[int, bool]]]]
) -> CoachResult | None:
    """The coach's plan by best-first branch and bound over the pairs' own plans.

    Each pair takes its own best plan (:func:`.pair_plan.scored_plan`: least travel,
    then gaps nearest the cadence's middle); a pair whose previous meetings all still
    hold keeps them (re-planning). When some day's meetings cannot all be given
    separate slots, some pair of the smallest such group must meet on another day: one
    branch per pair of the group, with that day taken from it. A node's value, (pairs
    without a plan, summed scores), never exceeds that of any plan it leads to, and
    every plan of the coach is reached by some branch, so the first node whose
    meetings all fit is optimal: the most pairs planned, then the least travel, then
    the gaps. Returns None (the caller uses CP-SAT) when some previous meetings no
    longer hold, or after :data:`SEARCH_NODES` nodes. ``roots`` holds every pair's
    own best plan, as :func:`.pair_plan.scored_plan` gives it.
    """
    fixed: list[_Chosen] = []
    loose: list[int] = []
    for p in candidates:
        pair = task.pairs[p]
        if pair.planned_before:
            kept = _kept_plan(p, pair, task)
            if kept is None:
                return None
            fixed.extend(kept)
        else:
            loose.append(p)
    fixed_by_day: dict[int, list[int]] = {}
    for _, day, _, _, slot in fixed:
        assert slot is not None
        fixed_by_day.setdefault(day, []).append(slot)
    plans = {(p, frozenset[int]()): roots[p] for p in loose}

    def plan_of(p: int, banned: frozenset[int]) -> tuple[float, list[tuple[int, bool]]]:
        key = (p, banned)
        if key not in plans:
            pair = task.pairs[p]
            if banned:
                starts = tuple(u for u in pair.starts if u // SLOTS_PER_DAY not in banned)
                pair = replace(pair, starts=starts)
            plans[key] = scored_plan(pair, task)
        return plans[key]

    def value(bans: tuple[frozenset[int], ...]) -> tuple[int, float]:
        scores = [plan_of(p, banned)[0] for p, banned in zip(loose, bans, strict=True)]
        finite = [s for s in scores if math.isfinite(s)]
        return len(scores) - len(finite), sum(finite)

    def conflict(bans: tuple[frozenset[int], ...]) -> tuple[int, list[int]] | None:
        """The first day whose meetings do not fit, with a smallest group to blame."""
        by_day: dict[int, list[int]] = {}
        for p, banned in zip(loose, bans, strict=True):
            for day, _ in plan_of(p, banned)[1]:
                by_day.setdefault(day, []).append(p)
        for day, members in sorted(by_day.items()):
            held = fixed_by_day.get(day, [])

            def fit(group: list[int], day: int = day, held: list[int] = held) -> bool:
                options = [_day_slots(task.pairs[q], day) for q in group]
                return _fit_apart(options, task.length, held)

            if len(members) + len(held) < 2 or fit(members):
                continue
            group = list(members)
            for p in members:  # drop whoever is not needed for the clash
                trial = [q for q in group if q != p]
                if not fit(trial):
                    group = trial
            return day, group
        return None

    root = tuple(frozenset[int]() for _ in loose)
    heap: list[tuple[tuple[int, float], int, tuple[frozenset[int], ...]]] = [(value(root), 0, root)]
    seen = {root}
    opened = 0
    while heap:
        _, _, bans = heapq.heappop(heap)
        opened += 1
        if opened > SEARCH_NODES:
            return None
        found = conflict(bans)
        if found is None:
            return _searched(task, loose, bans, fixed, plan_of)
        day, group = found
        if not group:
            return None  # kept meetings clash among themselves: the model decides
        for p in group:
            k = loose.index(p)
            child = (*bans[:k], bans[k] | {day}, *bans[k + 1 :])
            if child not in seen:
                seen.add(child)
                heapq.heappush(heap, (value(child), len(seen), child))
    return None  # not reached: a node where every pair is unplanned always fits


def _searched(
    task: CoachTask,
    loose: list[int],
    bans: tuple[frozenset[int], ...],
    fixed: list[_Chosen],
    plan_of: Callable[[int, frozenset[int]], tuple[float, list[tuple[int, bool]]]],
) -> CoachResult | None:
    """The result of the search's winning node: slots chosen by preference."""
    chosen = list(fixed)
    out = CoachResult(task.coach_id)
    for p, banned in zip(loose, bans, strict=True):
        score, plan = plan_of(p, banned)
        if not math.isfinite(score):
            out.unplanned.append(p)
            continue
        pair = task.pairs[p]
        for day, virtual in plan:
            site, cost = (VIRTUAL, 0) if virtual else (pair.site[day], pair.cost[day])
            chosen.append((p, day, site, cost, None))
    arranged = _arrange(task, chosen)
    if arranged is None:
        return None
    out.meetings = arranged
    out.bound = None if fixed else sum(m[4] for m in arranged)
    return out


def _day_slots(pair: PairTask, day: int) -> list[int]:
    """The pair's start slots on ``day`` (its ``starts`` are in ascending order)."""
    first = day * SLOTS_PER_DAY
    lo = bisect.bisect_left(pair.starts, first)
    hi = bisect.bisect_left(pair.starts, first + SLOTS_PER_DAY, lo)
    return [u - first for u in pair.starts[lo:hi]]


def _fit_apart(options: list[list[int]], length: int, fixed: Sequence[int] = ()) -> bool:
    """Whether each list can give one start slot, no two (nor any ``fixed`` one) closer
    than ``length``: exact, by a dynamic program over the slots in time order with the
    set of lists served so far (at most a few pairs meet a coach on one day)."""
    if any(abs(a - b) < length for a, b in itertools.combinations(fixed, 2)):
        return False
    if len(options) > 16:
        return _place(options, length, fixed) is not None
    usable = [[s for s in slots if all(abs(s - f) >= length for f in fixed)] for slots in options]
    at: dict[int, int] = {}
    for k, slots in enumerate(usable):
        for s in slots:
            at[s] = at.get(s, 0) | (1 << k)
    everyone = (1 << len(options)) - 1
    reached = {0: -length}  # set of lists served -> the earliest next start allowed
    for s in sorted(at):
        for served, ready in list(reached.items()):
            if ready > s:
                continue
            waiting = at[s] & ~served
            while waiting:
                bit = waiting & -waiting
                waiting ^= bit
                grown = served | bit
                if grown not in reached or reached[grown] > s + length:
                    reached[grown] = s + length
        if everyone in reached:
            return True
    return everyone in reached


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
            free = _day_slots(task.pairs[p], day)
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
