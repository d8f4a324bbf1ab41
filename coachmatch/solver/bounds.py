"""A lower bound on total travel, computed without the scheduler's solver.

Relax the coach's other meetings: each pair alone, with its own free days, places,
cadence, virtual share and first-meeting rule, has a least-travel plan that a
dynamic program over days finds exactly. No plan of the whole program can beat the
sum of these, because the full problem only adds the coach's no-overlap rule.
"""

from __future__ import annotations

import numpy as np

from coachmatch.solver.tasks import CoachTask, PairTask
from coachmatch.timegrid import SLOTS_PER_DAY

__all__ = ["pair_lower_bound", "travel_lower_bound"]

_INF = np.inf


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
    early = np.arange(n) <= pair.first_by
    if not only:
        best[early, 0] = in_person[early]
    if virtual_day.any() and (only or not pair.in_person_first):
        best[early & virtual_day, 1] = 0.0
    answer = _INF
    for count in range(1, most + 1):
        last = n - 1 - np.arange(n) < task.longest  # may end the plan
        for v in range(min(count, most) + 1):
            share_ok = only or denominator * v <= numerator * count
            if share_ok and np.isfinite(best[last, v]).any():
                answer = min(answer, float(best[last, v].min()))
        if count == most:
            break
        # the previous meeting `shortest`..`longest` days before each day
        before = np.full((n, most + 1), _INF)
        for gap in range(task.shortest, task.longest + 1):
            before[gap:] = np.minimum(before[gap:], best[:-gap] if gap < n else before[gap:])
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
        if not np.isfinite(best).any():
            break
    return answer


def travel_lower_bound(tasks: list[CoachTask]) -> int | None:
    """Sum of the pairs' own least travel; None when some pair cannot be planned.

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> import coachmatch
    >>> from coachmatch.solver.scheduling import build_tasks
    >>> program = synthetic("small")
    >>> bound = travel_lower_bound(build_tasks(program, coachmatch.match(program)))
    >>> bound is not None and bound >= 0
    True
    """
    total = 0.0
    for task in tasks:
        for pair in task.pairs:
            value = pair_lower_bound(pair, task)
            if not np.isfinite(value):
                return None
            total += value
    return round(total)
