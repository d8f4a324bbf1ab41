"""SPEC 1.1 §5: each coach plans as many pairs as possible, then the least travel, and
no pair is left without meetings silently."""

from __future__ import annotations

import math
from datetime import date, time

import pytest
from hypothesis import HealthCheck, event, given, settings

from coachmatch import (
    AvailabilityWindow,
    Coach,
    InfeasibleError,
    Policy,
    Program,
    Resident,
    Site,
    match,
    schedule,
)
from coachmatch.solver.scheduling import build_tasks, solve_coach
from tests import reference
from tests.strategies import competing_programs, narrow_programs

START, END = date(2026, 7, 1), date(2027, 6, 30)


def one_slot_coach(residents: int, **policy: object) -> Program:
    """One coach free for a single half-hour a week (Wednesdays 14:00), and residents
    free every Wednesday afternoon: in the first 28 days the coach has five slots."""
    return Program(
        name="One slot a week",
        timezone="America/Toronto",
        start=START,
        end=END,
        policy=Policy.model_validate({"max_caseload": residents, **policy}),
        sites=[Site(site_id="tgh", name="Toronto General", lat=43.659, lon=-79.388)],
        coaches=[Coach(coach_id="C1", name="Dr. Busy", site_id="tgh")],
        residents=[Resident(resident_id=f"R{k}", name=f"Resident {k}") for k in range(residents)],
        availability=[
            AvailabilityWindow(person_id="C1", weekday="wed", start=time(14), end=time(14, 30)),
            *(
                AvailabilityWindow(person_id=f"R{k}", weekday="wed", start=time(13), end=time(17))
                for k in range(residents)
            ),
        ],
    )


def test_a_coach_plans_as_many_pairs_as_fit_and_names_the_rest() -> None:
    program = one_slot_coach(6)
    matching = match(program)
    plan = schedule(program, matching, allow_partial=True)
    assert plan.status == "partial"
    assert len(plan.unplanned) == 1
    (resident, coach, reason) = plan.unplanned.iloc[0].tolist()
    planned = set(plan.scheduled["resident_id"])
    assert len(planned) == 5 and resident not in planned and coach == "C1"
    rivals = sorted(planned)
    assert reason == (
        f"{resident} and C1 can meet on their own, but not besides C1's other coachees: "
        f"with C1's meetings with {', '.join(rivals)} in the weeks of 2026-07-01, "
        "2026-07-06, 2026-07-13, 2026-07-20, 2026-07-27, they have no common free time "
        "from 2026-07-01 to 2026-07-29, when their first meeting is due; their next common "
        "free day is 2026-08-05"
    )
    assert plan.problems == [reason]
    summary = plan.summary()
    assert "status: partial" in summary
    assert "pairs: 5 of 6 planned, 1 not planned" in summary
    assert reason in summary
    with pytest.raises(InfeasibleError) as caught:
        schedule(program, matching)
    assert caught.value.reasons == [reason]


def test_one_pair_that_cannot_meet_no_longer_drops_the_coachs_others() -> None:
    """Before SPEC 1.1 a coach's model failed as a whole: one impossible pair left all
    the coach's pairs without meetings, and status still said optimal."""
    program = one_slot_coach(3, must_meet=False)
    sunday = AvailabilityWindow(person_id="R2", weekday="sun", start=time(9), end=time(10))
    program = program.replace(
        availability=(*(w for w in program.availability if w.person_id != "R2"), sunday)
    )
    matching = match(program)
    assert matching.cannot_meet["resident_id"].tolist() == ["R2"]
    plan = schedule(program, matching, allow_partial=True)
    assert set(plan.scheduled["resident_id"]) == {"R0", "R1"}
    assert plan.unplanned["resident_id"].tolist() == ["R2"]
    assert plan.unplanned["reason"].iloc[0] == (
        "R2 and C1 have no common free time from 2026-07-01 to 2027-06-30"
    )
    assert plan.status == "partial"


def test_every_planned_pair_gets_its_full_year() -> None:
    program = one_slot_coach(4)
    plan = schedule(program, match(program))
    assert plan.status == "optimal" and len(plan.unplanned) == 0
    assert plan.per_pair()["meetings"].min() >= 6


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(competing_programs(max_residents=3) | narrow_programs(3, 1, short=True))
def test_each_coach_plans_the_most_pairs_possible(program: Program) -> None:
    """Checked against brute force over every pair's day sequences and start slots
    (tests.reference.max_planned shares no code with the scheduler's models)."""
    program = program.with_policy(must_meet=False)  # let the matcher make hard pairs too
    matching = match(program)
    for task in build_tasks(program, matching):
        result = solve_coach(task)
        best = reference.max_planned(task)
        if best is None:
            event("search too big")
            continue
        alone = sum(math.isfinite(f) for f in result.floors)
        event("coachees compete" if alone > best else f"{len(task.pairs)} pairs, {best} plannable")
        assert result.optimal
        assert len(task.pairs) - len(result.unplanned) == best
        # the CP-SAT model alone (no pair plans) agrees on the count, and on the least
        # travel when it proves its plan; a proven bound is the plan's own travel
        model = solve_coach(task, use_plans=False)
        assert len(model.unplanned) == len(result.unplanned)
        travel = sum(m[4] for m in result.meetings)
        if travel > sum(f for p, f in enumerate(result.floors) if p not in result.unplanned):
            event("the pairs' own plans clash: the search branched")
        if model.optimal:
            assert travel == sum(m[4] for m in model.meetings)
        assert result.bound is None or result.bound == travel


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(narrow_programs(max_residents=4, max_coaches=2))
def test_narrow_programs_every_pair_planned_or_listed(program: Program) -> None:
    """A year of narrow availability: every matched pair passes R7, and every pair of
    the schedule is planned (the conftest audit checks S1-S4) or listed with a reason."""
    try:
        matching = match(program, allow_unmatched=True)
    except InfeasibleError:
        event("no matching")
        return
    plan = schedule(program, matching, allow_partial=True)
    asked = set(zip(matching.pairs["resident_id"], matching.pairs["coach_id"], strict=True))
    planned = set(zip(plan.scheduled["resident_id"], plan.scheduled["coach_id"], strict=True))
    left = set(zip(plan.unplanned["resident_id"], plan.unplanned["coach_id"], strict=True))
    assert planned | left == asked and not planned & left
    event(f"{len(left)} unplanned" if left else "all planned")
