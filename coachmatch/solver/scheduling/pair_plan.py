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

__all__ = ["pair_lower_bound", "pair_plan"]

_INF = np.inf


def _dp(
    pair: PairTask, task: CoachTask
) -> tuple[float, list[Any], tuple[int, int, int] | None, Any, Any]:
    """The dynamic program: (least travel, best arrays per meeting count, final state,
    in-person travel per day, virtual-possible per day)."""
    n = task.n_days
    most = (n - 1) // task.shortest + 1  # meetings a pair can have at most
    free = np.zeros(n, dtype=bool)
    free[np.unique(np.asarray(pair.starts, dtype=np.int64) // SLOTS_PER_DAY)] = True
    cost = np.asarray(pair.cost, dtype=np.float64)
    in_person = np.where(free & (cost >= 0), cost, _INF)
    virtual_day = free & pair.virtual_ok
    only = task.virtual_only
    numerator, denominator = task.share
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
    for count in range(1, most + 1):
        for v in range(min(count, most) + 1):
            share_ok = only or denominator * (v + pair.past_virtual) <= numerator * (
                count + pair.past_count
            )
            column = np.where(last, best[:, v], _INF)
            if share_ok and np.isfinite(column).any() and column.min() < answer:
                answer, final = float(column.min()), (count, int(column.argmin()), v)
        if count == most:
            break
        # the previous meeting `shortest`..`longest` days before each day
        before = np.full((n, most + 1), _INF)
        for gap in range(task.shortest, min(task.longest, n - 1) + 1):
            before[gap:] = np.minimum(before[gap:], best[:-gap])
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
    return _dp(pair, task)[0]


def pair_plan(pair: PairTask, task: CoachTask) -> tuple[float, list[tuple[int, bool]]]:
    """A least-travel plan of ``pair`` alone: (travel, [(day, virtual), ...]).

    Among equal plans the gaps nearest the middle of the cadence are taken, and a
    meeting is in person when that costs nothing more.

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
    answer, history, final, in_person, virtual_day = _dp(pair, task)
    if final is None:
        return _INF, []
    count, day, v = final
    if count == 0:
        return 0.0, []
    middle = (task.shortest + task.longest) / 2
    gaps = sorted(range(task.shortest, task.longest + 1), key=lambda g: (abs(g - middle), g))
    plan: list[tuple[int, bool]] = []
    value = history[count - 1][day, v]
    for k in range(count - 1, 0, -1):
        previous = history[k - 1]
        chosen = None
        for gap in gaps:
            d0 = day - gap
            if d0 < 0:
                continue
            if np.isfinite(in_person[day]) and previous[d0, v] + in_person[day] == value:
                chosen = (d0, v, False)
                break
            if virtual_day[day] and v >= 1 and previous[d0, v - 1] == value:
                chosen = (d0, v - 1, True)
                break
        assert chosen is not None, "the dynamic program must backtrack"
        d0, v0, virtual = chosen
        plan.append((day, virtual))
        day, v, value = d0, v0, previous[d0, v0]
    plan.append((day, v == 1))  # a first meeting is virtual exactly when v counts it
    plan.reverse()
    return answer, plan
