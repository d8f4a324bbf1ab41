"""A lower bound on total travel, computed without the scheduler's solver.

Relax the coach's other meetings: each pair alone, with its own free days, places,
cadence, virtual share and first-meeting rule, has a least-travel plan that a
dynamic program over days finds exactly. No plan of the whole program can beat the
sum of these, because the full problem only adds the coach's no-overlap rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from coachmatch.timegrid import SLOTS_PER_DAY

if TYPE_CHECKING:  # the tasks are built with these bounds: no import at run time
    from coachmatch.solver.scheduling.tasks import CoachTask, PairTask

__all__ = ["pair_lower_bound", "pair_plan", "score_travel", "scored_plan"]

_INF = np.inf


def _scale(task: CoachTask) -> int:
    """The weight of one minute of travel against the gap tie-break: more than the
    largest total distance of a plan's gaps from the middle of the cadence, so that
    travel always comes first and the tie-break is exact below it."""
    most = (task.n_days - 1) // task.shortest + 1
    return most * max(task.longest - task.shortest, 0) + 1


def _dp(
    pair: PairTask, task: CoachTask
) -> tuple[float, list[Any], tuple[int, int, int] | None, Any, Any]:
    """The dynamic program: (least score, best arrays per meeting count, final state,
    in-person score per day, virtual-possible per day).

    A plan's score is its travel times :func:`_scale` plus the total distance of its
    gaps from the middle of the cadence (``|2 gap - shortest - longest|`` each), so
    the least score is the least travel and, among plans of that travel, the gaps
    nearest the middle (SPEC §5's tie-break), both exact. Scores are whole numbers
    held exactly in float64 (``inf`` marks what is impossible).
    """
    n = task.n_days
    scale = float(_scale(task))
    most = (n - 1) // task.shortest + 1  # meetings a pair can have at most
    free = np.zeros(n, dtype=bool)
    free[np.asarray(pair.starts, dtype=np.int64) // SLOTS_PER_DAY] = True
    cost = np.asarray(pair.cost, dtype=np.float64)
    in_person = np.where(free & (cost >= 0), cost * scale, _INF)
    virtual_day = free & pair.virtual_ok
    only = task.virtual_only
    numerator, denominator = task.share
    middle_twice = task.shortest + task.longest
    best = np.full((n, most + 1), _INF)
    early = (np.arange(n) >= pair.first_from) & (np.arange(n) <= pair.first_by)
    if not only:
        best[early, 0] = in_person[early]
    if virtual_day.any() and (only or not pair.in_person_first):
        best[early & virtual_day, 1] = 0.0
    answer: float = _INF
    final: tuple[int, int, int] | None = None
    if not pair.must_meet:  # the meetings already held suffice: no meeting at all
        answer, final = 0.0, (0, -1, 0)
    history = [best]
    last = n - 1 - np.arange(n) < task.longest  # days that may end the plan
    virtual_counts = np.arange(most + 1)
    for count in range(1, most + 1):
        # the best plan of `count` meetings ending on a day that may end it, per v
        ending = np.where(last[:, None], best, _INF)
        column = ending.min(axis=0)
        if not only:  # the virtual share, counting the meetings already held
            share_ok = denominator * (virtual_counts + pair.past_virtual) <= numerator * (
                count + pair.past_count
            )
            column[~share_ok] = _INF
        v = int(column.argmin())  # the fewest virtual meetings among equals
        if column[v] < answer:
            answer, final = float(column[v]), (count, int(ending[:, v].argmin()), v)
        if count == most:
            break
        # the previous meeting `shortest`..`longest` days before each day
        before = np.full((n, most + 1), _INF)
        for gap in range(task.shortest, min(task.longest, n - 1) + 1):
            deviation = abs(2 * gap - middle_twice)
            before[gap:] = np.minimum(before[gap:], best[:-gap] + deviation)
        step = np.full((n, most + 1), _INF)
        if not only:
            step = before + in_person[:, None]
        if virtual_day.any():
            shifted = np.full((n, most + 1), _INF)
            shifted[:, 1:] = before[:, :-1]
            shifted[~virtual_day] = _INF
            step = np.minimum(step, shifted)
        if only:
            step[:, :count] = _INF  # every meeting virtual: v equals the count
        best = step
        history.append(best)
        if not np.isfinite(best).any():
            break
    return answer, history, final, in_person, virtual_day


def score_travel(score: float, task: CoachTask) -> float:
    """The travel part of a plan's score (``inf`` stays ``inf``)."""
    return score if not np.isfinite(score) else float(int(score) // _scale(task))


def pair_lower_bound(pair: PairTask, task: CoachTask) -> float:
    """The least travel of ``pair`` planned alone (``inf`` if it cannot be planned).

    ``best[d, v]`` is the least travel of a plan whose latest meeting is on day d
    with v virtual meetings so far; each round adds one meeting ``shortest`` to
    ``longest`` days later, in person (the day's least travel) or virtual (free).

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> import coachmatch
    >>> from coachmatch.solver.scheduling import build_tasks
    >>> program = synthetic("small")
    >>> task = build_tasks(program, coachmatch.match(program))[0]
    >>> pair_lower_bound(task.pairs[0], task) >= 0
    True
    """
    return score_travel(_dp(pair, task)[0], task)


def pair_plan(pair: PairTask, task: CoachTask) -> tuple[float, list[tuple[int, bool]]]:
    """A least-travel plan of ``pair`` alone: (travel, [(day, virtual), ...]).

    Among plans of the least travel, the one whose gaps are nearest the middle of the
    cadence (exactly: the least total distance, part of the dynamic program's score),
    and a meeting is in person when that costs nothing more.

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> import coachmatch
    >>> from coachmatch.solver.scheduling import build_tasks
    >>> program = synthetic("small")
    >>> task = build_tasks(program, coachmatch.match(program))[0]
    >>> travel, days = pair_plan(task.pairs[0], task)
    >>> travel == pair_lower_bound(task.pairs[0], task), len(days) >= 6
    (True, True)
    """
    score, plan = scored_plan(pair, task)
    return score_travel(score, task), plan


def scored_plan(pair: PairTask, task: CoachTask) -> tuple[float, list[tuple[int, bool]]]:
    """:func:`pair_plan` with the plan's whole score (travel times the task's scale plus
    the gaps' distance from the cadence's middle; ``inf`` when there is no plan), the
    quantity the per-coach search adds up."""
    answer, history, final, in_person, virtual_day = _dp(pair, task)
    if final is None:
        return _INF, []
    count, day, v = final
    if count == 0:
        return 0.0, []
    middle_twice = task.shortest + task.longest
    gaps = sorted(
        range(task.shortest, task.longest + 1), key=lambda g: (abs(2 * g - middle_twice), g)
    )
    plan: list[tuple[int, bool]] = []
    value = history[count - 1][day, v]
    for k in range(count - 1, 0, -1):
        previous = history[k - 1]
        chosen = None
        for gap in gaps:
            d0 = day - gap
            if d0 < 0:
                continue
            here = value - abs(2 * gap - middle_twice)  # the score before this gap
            if np.isfinite(in_person[day]) and previous[d0, v] + in_person[day] == here:
                chosen = (d0, v, False)
                break
            if virtual_day[day] and v >= 1 and previous[d0, v - 1] == here:
                chosen = (d0, v - 1, True)
                break
        assert chosen is not None, "the dynamic program must backtrack"
        d0, v0, virtual = chosen
        plan.append((day, virtual))
        day, v, value = d0, v0, previous[d0, v0]
    plan.append((day, v == 1))  # a first meeting is virtual exactly when v counts it
    plan.reverse()
    return answer, plan
