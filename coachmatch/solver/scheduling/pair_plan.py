"""Each pair's own best plan, and the lower bound on travel it gives.

Relax the coach's other meetings: each pair alone, with its own free days, places,
cadence, virtual share and first-meeting rule, has a least-travel plan that a
dynamic program over days finds exactly (and, among plans of that travel, the one
whose gaps are nearest the middle of the cadence). No plan of the whole program can
beat the sum of these travels, because the full problem only adds the coach's
no-overlap rule. The per-coach scheduler (:mod:`.model`) starts from these plans; the
programs of a coach's pairs run together in shared arrays (:func:`scored_plans`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from coachmatch.timegrid import SLOTS_PER_DAY

if TYPE_CHECKING:  # the tasks are built with these bounds: no import at run time
    from coachmatch.solver.scheduling.tasks import CoachTask, PairTask

__all__ = ["pair_lower_bound", "pair_plan", "score_travel", "scored_plan", "scored_plans"]

_INF = np.inf


def _scale(task: CoachTask) -> int:
    """The weight of one minute of travel against the gap tie-break: more than the
    largest total distance of a plan's gaps from the middle of the cadence, so that
    travel always comes first and the tie-break is exact below it."""
    most = (task.n_days - 1) // task.shortest + 1
    return most * max(task.longest - task.shortest, 0) + 1


class _Solved:
    """The dynamic program of one pair, as :func:`_dps` leaves it for backtracking."""

    __slots__ = ("answer", "final", "history", "in_person", "virtual_day")

    def __init__(
        self,
        answer: float,
        final: tuple[int, int, int] | None,
        history: list[Any],
        in_person: Any,
        virtual_day: Any,
    ) -> None:
        self.answer = answer
        self.final = final
        self.history = history
        self.in_person = in_person
        self.virtual_day = virtual_day


def _dps(pairs: Sequence[PairTask], task: CoachTask) -> list[_Solved]:
    """The dynamic program of several pairs of one task at once (one array each step).

    ``best[p, d, v]`` is the least score of pair p's plans whose latest meeting is on
    day d with v virtual meetings so far. A plan's score is its travel times
    :func:`_scale` plus the total distance of its gaps from the middle of the cadence
    (``|2 gap - shortest - longest|`` each), so the least score is the least travel
    and, among plans of that travel, the gaps nearest the middle (SPEC §5's
    tie-break), both exact. Scores are whole numbers held exactly in float64 (``inf``
    marks what is impossible). The pairs share nothing but the arrays: each pair's
    result is what the program run for it alone gives.
    """
    n, count_of = task.n_days, len(pairs)
    if not count_of:
        return []
    scale = float(_scale(task))
    most = (n - 1) // task.shortest + 1  # meetings a pair can have at most
    days = np.arange(n)
    free = np.zeros((count_of, n), dtype=bool)
    for p, pair in enumerate(pairs):
        free[p, np.asarray(pair.starts, dtype=np.int64) // SLOTS_PER_DAY] = True
    cost = np.array([pair.cost for pair in pairs], dtype=np.float64).reshape(count_of, n)
    in_person = np.where(free & (cost >= 0), cost * scale, _INF)
    virtual_ok = np.array([pair.virtual_ok for pair in pairs], dtype=bool)
    virtual_day = free & virtual_ok[:, None]
    only = task.virtual_only
    numerator, denominator = task.share
    middle_twice = task.shortest + task.longest
    first_from = np.array([pair.first_from for pair in pairs])[:, None]
    first_by = np.array([pair.first_by for pair in pairs])[:, None]
    early = (days >= first_from) & (days <= first_by)
    best = np.full((count_of, n, most + 1), _INF)
    if not only:
        best[:, :, 0] = np.where(early, in_person, _INF)
    may_start_virtual = np.array([only or not pair.in_person_first for pair in pairs], dtype=bool)[
        :, None
    ]
    best[:, :, 1] = np.where(early & virtual_day & may_start_virtual, 0.0, _INF)
    answer = np.full(count_of, _INF)
    final: list[tuple[int, int, int] | None] = [None] * count_of
    for p, pair in enumerate(pairs):
        if not pair.must_meet:  # the meetings already held suffice: no meeting at all
            answer[p], final[p] = 0.0, (0, -1, 0)
    history = [best]
    last = (n - 1 - days < task.longest)[None, :, None]  # days that may end the plan
    virtual_counts = np.arange(most + 1)[None, :]
    past_virtual = np.array([pair.past_virtual for pair in pairs])[:, None]
    past_count = np.array([pair.past_count for pair in pairs])[:, None]
    rows = np.arange(count_of)
    for count in range(1, most + 1):
        # the best plan of `count` meetings ending on a day that may end it, per v
        ending = np.where(last, best, _INF)
        column = ending.min(axis=1)
        if not only:  # the virtual share, counting the meetings already held
            share_ok = denominator * (virtual_counts + past_virtual) <= numerator * (
                count + past_count
            )
            column[~share_ok] = _INF
        v = column.argmin(axis=1)  # the fewest virtual meetings among equals
        value = column[rows, v]
        for p in np.flatnonzero(value < answer).tolist():
            answer[p] = value[p]
            final[p] = (count, int(ending[p, :, v[p]].argmin()), int(v[p]))
        if count == most:
            break
        # the previous meeting `shortest`..`longest` days before each day
        before = np.full(best.shape, _INF)
        for gap in range(task.shortest, min(task.longest, n - 1) + 1):
            deviation = abs(2 * gap - middle_twice)
            np.minimum(before[:, gap:], best[:, :-gap] + deviation, out=before[:, gap:])
        step = np.full(best.shape, _INF) if only else before + in_person[:, :, None]
        shifted = np.full(best.shape, _INF)
        shifted[:, :, 1:] = before[:, :, :-1]
        shifted[~virtual_day] = _INF
        np.minimum(step, shifted, out=step)
        if only:
            step[:, :, :count] = _INF  # every meeting virtual: v equals the count
        best = step
        history.append(best)
        if not np.isfinite(best).any():
            break
    return [
        _Solved(float(answer[p]), final[p], [h[p] for h in history], in_person[p], virtual_day[p])
        for p in range(count_of)
    ]


def score_travel(score: float, task: CoachTask) -> float:
    """The travel part of a plan's score (``inf`` stays ``inf``).

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> import coachmatch
    >>> from coachmatch.solver.scheduling import build_tasks
    >>> program = synthetic("small")
    >>> task = build_tasks(program, coachmatch.match(program))[0]
    >>> score, _ = scored_plan(task.pairs[0], task)
    >>> score_travel(score, task) == pair_lower_bound(task.pairs[0], task)
    True
    """
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
    return score_travel(_dps([pair], task)[0].answer, task)


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
    quantity the per-coach search adds up.

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> import coachmatch
    >>> from coachmatch.solver.scheduling import build_tasks
    >>> program = synthetic("small")
    >>> task = build_tasks(program, coachmatch.match(program))[0]
    >>> score, days = scored_plan(task.pairs[0], task)
    >>> days == pair_plan(task.pairs[0], task)[1], score >= 0
    (True, True)
    """
    return scored_plans([pair], task)[0]


def scored_plans(
    pairs: Sequence[PairTask], task: CoachTask
) -> list[tuple[float, list[tuple[int, bool]]]]:
    """:func:`scored_plan` of several pairs of one task, their dynamic programs run
    together (each pair's result is its own).

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> import coachmatch
    >>> from coachmatch.solver.scheduling import build_tasks
    >>> program = synthetic("small")
    >>> task = build_tasks(program, coachmatch.match(program))[0]
    >>> scored_plans(task.pairs, task) == [scored_plan(p, task) for p in task.pairs]
    True
    """
    return [_backtrack(solved, task) for solved in _dps(pairs, task)]


def _backtrack(solved: _Solved, task: CoachTask) -> tuple[float, list[tuple[int, bool]]]:
    """The plan behind a pair's least score: (score, [(day, virtual), ...])."""
    if solved.final is None:
        return _INF, []
    count, day, v = solved.final
    if count == 0:
        return 0.0, []
    history, in_person, virtual_day = solved.history, solved.in_person, solved.virtual_day
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
    return solved.answer, plan
