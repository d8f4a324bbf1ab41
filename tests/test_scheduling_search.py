"""The per-coach search (pair plans, then branch and bound where they clash) against
CP-SAT on random coaches whose coachees compete for a few slots.

The tasks are drawn directly as data: a short horizon, a tight cadence, a handful of
start slots per pair on a few days and a travel cost per day, so that the pairs' own
best plans often want the same slot and the search has to branch. Both methods claim
a proven optimum; they must agree on the pairs planned and on the least travel, and
the search's plan must keep every rule of the pair's task.
"""

from __future__ import annotations

import itertools
import math

from hypothesis import HealthCheck, event, given, settings, target
from hypothesis import strategies as st

from coachmatch.constraints.meetings import VIRTUAL
from coachmatch.solver.scheduling import CoachTask, PairTask, pair_lower_bound, solve_coach
from coachmatch.solver.scheduling.pair_plan import scored_plan, scored_plans
from coachmatch.timegrid import SLOTS_PER_DAY


@st.composite
def clashing_coaches(draw: st.DrawFn, variety: bool = False) -> CoachTask:
    """A coach whose coachees want the same few slots (the same one, on the same days,
    without ``variety``, so that their own plans clash); with ``variety``, also pairs
    with meetings held before (past the virtual share or not), pairs whose held meetings
    suffice, late first meetings and virtual-only programs (fewer clashes, more cases)."""
    more = st.booleans() if variety else st.just(False)
    n_days = draw(st.integers(12, 30))
    shortest = draw(st.integers(2, 4))
    longest = shortest + draw(st.integers(0, 3))
    if variety:
        busy_days = draw(st.lists(st.integers(0, n_days - 1), min_size=4, max_size=12, unique=True))
        slots = draw(st.lists(st.integers(16, 18), min_size=1, max_size=2, unique=True))
    else:  # one slot on the same days for everyone: their own plans nearly always clash
        busy_days = [d for d in range(n_days) if d % draw(st.integers(1, 2)) == 0]
        slots = [17]
    share = draw(st.sampled_from([(1, 2), (1, 3), (0, 1), (1, 1)]))
    pairs = []
    for k in range(draw(st.integers(2, 5 if variety else 3))):
        days = (
            draw(st.lists(st.sampled_from(sorted(busy_days)), min_size=3, unique=True))
            if variety
            else busy_days
        )
        mine = draw(st.lists(st.sampled_from(slots), min_size=1, max_size=2, unique=True))
        starts = sorted(d * SLOTS_PER_DAY + s for d in days for s in mine)
        cost = tuple(draw(st.sampled_from([-1, 0, 20, 40, 90])) for _ in range(n_days))
        pairs.append(
            PairTask(
                resident_id=f"R{k}",
                coach_id="C0",
                starts=tuple(starts),
                cost=cost,
                site=tuple("S1" if c >= 0 else "" for c in cost),
                virtual_ok=draw(st.booleans()),
                first_from=(first_from := 2 if draw(more) else 0),
                first_by=first_from + draw(st.integers(longest, longest + 4)),
                in_person_first=draw(st.booleans()),
                must_meet=not (draw(more) and draw(more)),
                past_count=(past := draw(st.integers(0, 2)) if draw(more) else 0),
                # held meetings may already be past the share (a previous plan keeps it
                # over the year, not in every prefix)
                past_virtual=draw(st.integers(0, past)),
            )
        )
    return CoachTask(
        coach_id="C0",
        pairs=tuple(pairs),
        n_days=n_days,
        length=draw(st.integers(1, 2)),
        shortest=shortest,
        longest=longest,
        share=share,
        virtual_only=draw(more) and draw(more),
        seed=0,
        time_limit=20.0,
        deterministic_time=20.0,
    )


def _travel(result: object) -> int:
    return sum(m[4] for m in result.meetings)  # type: ignore[attr-defined]


def _valid(task: CoachTask, result: object) -> None:
    """Each planned pair keeps its task's rules; no two meetings overlap."""
    meetings = result.meetings  # type: ignore[attr-defined]
    for a, b in itertools.combinations(meetings, 2):
        if a[1] == b[1]:
            assert abs(a[2] - b[2]) >= task.length, (a, b)
    for p, pair in enumerate(task.pairs):
        mine = sorted(m for m in meetings if m[0] == p)
        if p in result.unplanned:  # type: ignore[attr-defined]
            assert not mine
            continue
        if not mine:
            assert not pair.must_meet  # the meetings already held suffice
            continue
        days = [m[1] for m in mine]
        assert pair.first_from <= days[0] <= pair.first_by
        assert task.n_days - 1 - days[-1] < task.longest
        assert all(task.shortest <= b - a <= task.longest for a, b in itertools.pairwise(days))
        for _, day, slot, site, cost in mine:
            assert day * SLOTS_PER_DAY + slot in pair.starts
            if site == VIRTUAL:
                assert pair.virtual_ok and cost == 0
            else:
                assert cost == pair.cost[day] >= 0
        virtual = sum(m[3] == VIRTUAL for m in mine) + pair.past_virtual
        held = len(mine) + pair.past_count
        assert task.virtual_only or task.share[1] * virtual <= task.share[0] * held
        if pair.in_person_first and not task.virtual_only:
            assert mine[0][3] != VIRTUAL
        if task.virtual_only:
            assert all(m[3] == VIRTUAL for m in mine)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(clashing_coaches() | clashing_coaches(variety=True))
def test_search_equals_cp_sat_on_clashing_coachees(task: CoachTask) -> None:
    search, model = solve_coach(task), solve_coach(task, use_plans=False)
    _valid(task, search)
    assert search.optimal
    floors = [pair_lower_bound(pair, task) for pair in task.pairs]
    own = sum(f for p, f in enumerate(floors) if p not in search.unplanned and math.isfinite(f))
    target(float(_travel(search) - own), label="travel above the pairs' own plans")
    if search.unplanned != [p for p, f in enumerate(floors) if not math.isfinite(f)]:
        event("coachees compete: some left unplanned")
    elif _travel(search) > own:
        event("own plans clash: the search found dearer plans")
    else:
        event("own plans fit")
    assert search.bound == _travel(search)
    if model.optimal:
        assert len(search.unplanned) == len(model.unplanned)
        assert _travel(search) == _travel(model)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(clashing_coaches(variety=True))
def test_pairs_planned_together_as_each_alone(task: CoachTask) -> None:
    """The dynamic programs of a coach's pairs run in shared arrays: each pair's plan is
    the one its own program gives."""
    together = scored_plans(task.pairs, task)
    assert together == [scored_plan(pair, task) for pair in task.pairs]


def test_held_meetings_past_the_share_need_no_new_meeting() -> None:
    """A re-planned pair whose held meetings suffice, one virtual of one held (past a
    share of 1/2), with nowhere to meet in person: nothing is left to plan, and the
    CP-SAT model agrees instead of finding its model infeasible (it once did)."""
    n_days = 13
    pair = PairTask(
        resident_id="R1",
        coach_id="C0",
        starts=(16, 64, 112),
        cost=(-1,) * n_days,
        site=("",) * n_days,
        virtual_ok=True,
        first_by=2,
        in_person_first=False,
        must_meet=False,
        past_count=1,
        past_virtual=1,
    )
    task = CoachTask(
        coach_id="C0",
        pairs=(pair,),
        n_days=n_days,
        length=1,
        shortest=2,
        longest=2,
        share=(1, 2),
        virtual_only=False,
        seed=0,
        time_limit=20.0,
        deterministic_time=20.0,
    )
    for result in (solve_coach(task), solve_coach(task, use_plans=False)):
        assert result.optimal and result.unplanned == [] and result.meetings == []
