"""schedule(): every plan passes audit_schedule(); deterministic; reasons when it cannot."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, time

import pytest
from hypothesis import HealthCheck, given, settings

from coachmatch import (
    AvailabilityWindow,
    InfeasibleError,
    Matching,
    Program,
    Schedule,
    audit_schedule,
    match,
    schedule,
)
from coachmatch.datasets import synthetic
from tests.strategies import schedulable_programs


def checked(program: Program, matching: Matching, **kwargs: object) -> Schedule:
    plan = schedule(program, matching, **kwargs)  # type: ignore[arg-type]
    planned = {tuple(k) for k in plan.meetings[["resident_id", "coach_id"]].to_numpy()}
    violations = audit_schedule(program, plan.meetings, pairs=sorted(planned))
    assert violations == [], [str(v) for v in violations[:5]]
    if plan.travel_lower_bound is not None and plan.status == "optimal":
        assert plan.travel_lower_bound <= plan.travel_total
    return plan


@pytest.fixture(scope="module")
def small() -> tuple[Program, Matching]:
    program = synthetic("small", seed=1)
    return program, match(program)


@pytest.fixture(scope="module")
def small_plan(small: tuple[Program, Matching]) -> Schedule:
    program, matching = small
    return checked(program, matching, executor=ThreadPoolExecutor(max_workers=2))


def test_every_pair_is_planned_and_valid(
    small: tuple[Program, Matching], small_plan: Schedule
) -> None:
    program, matching = small
    assert small_plan.status == "optimal"
    assert audit_schedule(program, small_plan.meetings, pairs=matching.pairs) == []
    assert small_plan.per_pair()["meetings"].min() >= 6
    assert small_plan.travel_total == int(small_plan.meetings["travel_minutes"].sum())


def test_same_plan_whatever_the_executor(
    small: tuple[Program, Matching], small_plan: Schedule
) -> None:
    program, matching = small
    again = schedule(program, matching)  # the default process pool
    assert again.meetings.equals(small_plan.meetings)


def test_result_frames_and_text(small_plan: Schedule) -> None:
    meetings = small_plan.meetings
    assert list(meetings.columns) == [
        "meeting_id",
        "sequence",
        "resident_id",
        "coach_id",
        "start",
        "end",
        "site_id",
        "travel_minutes",
        "status",
    ]
    assert str(meetings["start"].dt.tz) == "America/Toronto"
    assert meetings["meeting_id"].is_unique
    assert meetings["start"].is_monotonic_increasing
    assert "status: optimal" in small_plan.summary()
    first = meetings["meeting_id"].iloc[0]
    assert "first meeting" in small_plan.explain(first)
    later = meetings[meetings["meeting_id"].str.endswith("-03")]["meeting_id"].iloc[0]
    assert "days after their previous meeting (cadence 42-56)" in small_plan.explain(later)
    assert set(small_plan.per_coach().columns) == {
        "coach_id",
        "coach_name",
        "site_id",
        "coachees",
        "meetings",
        "travel_minutes",
    }
    assert "<table" in small_plan._repr_html_()
    per_pair = small_plan.per_pair()
    assert list(per_pair.columns[:4]) == ["resident_id", "coach_id", "resident_name", "coach_name"]
    assert per_pair["coach_name"].notna().all()


def test_virtual_never_means_in_person(small: tuple[Program, Matching]) -> None:
    program, _matching = small
    strict = program.with_policy(virtual="never")
    plan = checked(strict, match(strict))
    assert not (plan.meetings["site_id"] == "virtual").any()
    assert plan.travel_total >= 0


def test_pair_without_common_time_gets_a_reason(small: tuple[Program, Matching]) -> None:
    program, matching = small
    resident = str(matching.pairs["resident_id"].iloc[0])
    # the resident is now free only on Sundays, when no coach works
    windows = (
        *tuple(w for w in program.availability if w.person_id != resident),
        AvailabilityWindow(person_id=resident, weekday="sun", start=time(9), end=time(10)),
    )
    lonely = program.replace(availability=windows)
    with pytest.raises(InfeasibleError) as caught:
        schedule(lonely, matching)
    (reason,) = caught.value.reasons
    assert reason.startswith(f"{resident} and ") and "no common free time" in reason
    partial = checked(lonely, matching, allow_partial=True)
    assert resident not in set(partial.meetings["resident_id"])
    assert partial.problems == [reason]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedulable_programs())
def test_random_programs_plan_validly(program: Program) -> None:
    """Busy time, leave blocks, windows, virtual policies, horizons across DST dates."""
    try:
        matching = match(program)
    except InfeasibleError:
        return
    checked(program, matching, allow_partial=True)


def test_short_horizon_and_daylight_saving() -> None:
    program = synthetic("small", seed=2).replace(start=date(2026, 10, 1), end=date(2027, 3, 31))
    checked(program, match(program), executor=ThreadPoolExecutor(max_workers=1))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedulable_programs(max_residents=3, max_coaches=2))
def test_lower_bound_dynamic_program_equals_each_pair_solved_alone(program: Program) -> None:
    """Two independent methods, one pair at a time: the bound's DP and the CP-SAT model."""
    from dataclasses import replace

    from coachmatch.solver.scheduling import build_tasks, pair_lower_bound, solve_coach

    try:
        matching = match(program)
    except InfeasibleError:
        return
    for task in build_tasks(program, matching):
        for pair in task.pairs:
            # CP-SAT, the pair alone, with no travel floor (nor the DP's verdict) to lean on
            single = replace(task, pairs=(pair,), pair_floors=(0.0,))
            alone = solve_coach(single, use_plans=False)
            bound = pair_lower_bound(pair, task)
            assert alone.optimal
            if alone.unplanned:
                assert bound == float("inf")
            else:
                assert bound == sum(m[4] for m in alone.meetings)


def test_bound_is_tight_when_coaches_have_room(small_plan: Schedule) -> None:
    assert small_plan.travel_lower_bound == small_plan.travel_total
    assert "1.000× the bound" in small_plan.summary()


def _deviation(result: object, task: object, middle_twice: int) -> int:
    by_pair: dict[int, list[int]] = {}
    for p, day, *_ in result.meetings:  # type: ignore[attr-defined]
        by_pair.setdefault(p, []).append(day)
    return sum(
        abs(2 * (b - a) - middle_twice)
        for days in by_pair.values()
        for a, b in zip(sorted(days), sorted(days)[1:], strict=False)
    )


def test_pair_plans_break_ties_toward_the_middle_of_the_cadence_exactly(
    small: tuple[Program, Matching],
) -> None:
    """Both paths keep the least travel; the pair plans' dynamic program minimizes the
    gaps' distance from the cadence's middle exactly, so its gaps are at least as near
    as those of CP-SAT's second solve (which has a time limit)."""
    from coachmatch.solver.scheduling import build_tasks, solve_coach

    program, matching = small
    middle_twice = sum(program.policy.cadence_days)
    for task in build_tasks(program, matching)[:4]:
        quick, model = solve_coach(task), solve_coach(task, use_plans=False)
        assert sum(m[4] for m in model.meetings) == sum(m[4] for m in quick.meetings)
        assert _deviation(quick, task, middle_twice) <= _deviation(model, task, middle_twice)
