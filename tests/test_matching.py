"""match(): flow and CP-SAT agree, results pass audit(), optimal by brute force, reasons."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from coachmatch import (
    AffinityScore,
    Coach,
    InfeasibleError,
    Matching,
    Program,
    ProgramWarning,
    Request,
    Resident,
    audit,
    load_program,
    match,
)
from coachmatch.datasets import synthetic
from coachmatch.solver.problem import build_problem
from tests import reference
from tests.conftest import EXAMPLE
from tests.strategies import programs


def checked(program: Program, method: str, allow_unmatched: bool = False) -> Matching:
    """match() whose result must pass audit()."""
    result = match(program, method=method, allow_unmatched=allow_unmatched)  # type: ignore[arg-type]
    assert audit(program, result.pairs, allow_unmatched=allow_unmatched) == []
    assert set(result.unmatched["resident_id"]).isdisjoint(result.pairs["resident_id"])
    return result


def optimized_levels(result: Matching) -> dict[str, int | None]:
    return {level: result.levels[level] for level in result.optimized}


def random_policy(program: Program, data: st.DataObject) -> Program:
    with warnings.catch_warnings():
        # min_caseload shadowed by coaches' own min_load is the point of some draws
        warnings.simplefilter("ignore", ProgramWarning)
        return program.with_policy(
            keep_current=data.draw(st.booleans()),
            fairness=data.draw(st.sampled_from(["maxmin", "total"])),
            min_caseload=data.draw(st.sampled_from([0, 0, 0, 1])),
        )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(max_residents=7, max_coaches=4), st.data())
def test_flow_and_cpsat_agree_on_every_level(program: Program, data: st.DataObject) -> None:
    try:
        program = random_policy(program, data)
    except ValueError:
        event("policy invalid for this program")
        return  # the drawn policy makes the program invalid (a min_load above a cap)
    allow_unmatched = data.draw(st.booleans())
    try:
        flow = checked(program, "flow", allow_unmatched)
    except InfeasibleError as error:
        event("infeasible: " + " ".join(error.reasons[0].split()[1:4]))
        assert error.reasons and all(isinstance(r, str) and r for r in error.reasons)
        with pytest.raises(InfeasibleError):
            match(program, method="cpsat", allow_unmatched=allow_unmatched)
        return
    event(f"feasible, {len(flow.pairs)} matched")
    cpsat = checked(program, "cpsat", allow_unmatched)
    assert cpsat.status == "optimal"
    # O2 as both solvers optimize it: a matching that leaves every respondent unmatched
    # (possible with allow_unmatched) reaches the ceiling (MatchingProblem.fairness_ceiling)
    ceiling = build_problem(program, allow_unmatched=allow_unmatched).fairness_ceiling()
    found = [optimized_levels(flow), optimized_levels(cpsat)]
    for levels in found:
        if levels.get("min_affinity", 0) is None:
            levels["min_affinity"] = ceiling
    assert found[0] == found[1]
    assert len(flow.unmatched) == len(cpsat.unmatched)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(max_residents=4, max_coaches=3), st.data())
def test_flow_is_optimal_by_brute_force(program: Program, data: st.DataObject) -> None:
    try:
        program = random_policy(program, data)
    except ValueError:
        return
    coaches = [c.coach_id for c in program.coaches if c.active]
    residents = [r.resident_id for r in program.residents if r.active]
    every = reference.all_assignments(program, dict.fromkeys(residents, coaches))
    valid = [a for a in every if audit(program, list(a.items())) == []]
    if not valid:
        with pytest.raises(InfeasibleError):
            match(program)
        return
    result = checked(program, "flow")
    levels = result.levels
    best = reference.best_levels(program, valid)
    policy = program.policy
    found = (
        levels["continuity"] if policy.keep_current else 0,
        (levels["min_affinity"] or 0) if policy.fairness == "maxmin" else 0,
        levels["total_affinity"],
        -(levels["sum_sq_caseload"] or 0),
    )
    assert found == best


SMALL_SITE = synthetic("small").sites[0].site_id


@st.composite
def scored_pools(draw: st.DrawFn) -> Program:
    """A few residents and coaches with every pair scored (affinity.csv, 0-100), current
    coaches, caps and a forbidden pair or two: every resident counts for O2, and the
    threshold search has room to climb above the first solution's smallest affinity."""
    n_coach = draw(st.integers(1, 3))
    n_res = draw(st.integers(1, 2 * n_coach + 1))
    coaches = tuple(
        Coach(
            coach_id=f"C{k}",
            name=f"Coach {k}",
            site_id=SMALL_SITE,
            capacity=draw(st.integers(2, 3)),
            min_load=draw(st.sampled_from([None, None, None, 1])),
        )
        for k in range(n_coach)
    )
    residents = tuple(
        Resident(
            resident_id=f"R{k}",
            name=f"Resident {k}",
            current_coach_id=draw(st.sampled_from([None, *(c.coach_id for c in coaches)])),
        )
        for k in range(n_res)
    )
    scores = tuple(
        AffinityScore(
            resident_id=r.resident_id, coach_id=c.coach_id, affinity=draw(st.integers(0, 100))
        )
        for r in residents
        for c in coaches
    )
    forbid = draw(
        st.lists(
            st.tuples(st.sampled_from(residents), st.sampled_from(coaches)), max_size=2, unique=True
        )
    )
    requests = tuple(
        Request(resident_id=r.resident_id, coach_id=c.coach_id, kind="forbid") for r, c in forbid
    )
    base = synthetic("small")
    policy = base.policy.model_copy(
        update={"fairness": "maxmin", "keep_current": draw(st.booleans()), "must_meet": False}
    )
    return base.replace(
        coaches=coaches,
        residents=residents,
        affinity=scores,
        requests=requests,
        policy=policy,
        rotations=(),
        availability=(),
        busy=(),
        panels=(),
        survey=(),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scored_pools())
def test_fairness_search_is_optimal_by_brute_force(program: Program) -> None:
    residents = [r.resident_id for r in program.residents]
    coaches = [c.coach_id for c in program.coaches]
    every = reference.all_assignments(program, dict.fromkeys(residents, coaches))
    valid = [a for a in every if audit(program, list(a.items())) == []]
    if not valid:
        event("infeasible")
        with pytest.raises(InfeasibleError):
            match(program)
        return
    levels = checked(program, "flow").levels
    best = reference.best_levels(program, valid)
    found = (
        levels["continuity"] if program.policy.keep_current else 0,
        levels["min_affinity"] or 0,
        levels["total_affinity"],
        -(levels["sum_sq_caseload"] or 0),
    )
    event("feasible")
    assert found == best


def test_example_program_both_paths() -> None:
    program = load_program(EXAMPLE)
    flow = checked(program, "flow")
    cpsat = checked(program, "cpsat")
    assert flow.status == cpsat.status == "optimal"
    assert flow.levels == cpsat.levels  # the default policy optimizes all four levels
    assert len(flow.pairs) == 190


@pytest.mark.parametrize("method", ["flow", "cpsat"])
def test_deterministic(method: str) -> None:
    program = synthetic("medium", seed=3)
    first = match(program, method=method)  # type: ignore[arg-type]
    second = match(program, method=method)  # type: ignore[arg-type]
    assert first.pairs.equals(second.pairs)
    assert first.pairs.to_csv() == second.pairs.to_csv()


def test_result_frames_and_summary() -> None:
    program = synthetic("small")
    result = checked(program, "flow")
    assert list(result.pairs.columns) == [
        "resident_id",
        "coach_id",
        "resident_name",
        "coach_name",
        "site_id",
        "affinity",
        "kept",
        "best_affinity",
    ]
    assert (result.pairs["best_affinity"] >= result.pairs["affinity"]).all()
    assert result.pairs["resident_id"].tolist() == [
        r.resident_id for r in program.residents if r.active
    ]
    assert int(result.caseloads["caseload"].sum()) == len(result.pairs)
    coaches = {c.coach_id: c for c in program.coaches}
    assert result.caseloads["coach_name"].tolist() == [
        coaches[c].name for c in result.caseloads["coach_id"]
    ]
    first = result.pairs.iloc[0]
    assert first["coach_name"] == coaches[first["coach_id"]].name
    assert first["site_id"] == coaches[first["coach_id"]].site_id
    names = {r.resident_id: r.name for r in program.residents}
    assert first["resident_name"] == names[first["resident_id"]]
    assert result.levels["continuity"] == int(result.pairs["kept"].sum())
    assert "status: optimal" in result.summary()
    assert "<table" in result._repr_html_()
    text = result.explain("R0001")
    assert text.startswith("R0001 (")
    assert "excluded — R2 no supervisor" in text or "allowed, affinity" in text


def test_current_coaches_are_kept_when_allowed(tiny: Path) -> None:
    program = load_program(tiny)
    result = checked(program, "flow")
    # R2's current coach C2 is allowed and has room; R3's current coach C1 sits on P-junior
    assert result.coach_of("R2") == "C2"
    assert result.levels["continuity"] == 1
    assert "current coach C1 is not kept: R3 not own decision" in result.explain("R3")


def tiny_infeasible(tiny: Path, **policy: object) -> InfeasibleError:
    program = load_program(tiny).with_policy(**policy)
    with pytest.raises(InfeasibleError) as caught:
        match(program)
    return caught.value


def test_reason_resident_without_allowed_coach(tiny: Path) -> None:
    program = load_program(tiny)
    requests = (
        Request(resident_id="R1", coach_id="C2", kind="forbid"),
        Request(resident_id="R1", coach_id="C3", kind="forbid"),
    )
    with pytest.raises(InfeasibleError) as caught:
        match(program.replace(requests=requests))
    (reason,) = caught.value.reasons
    assert reason.startswith("R1 has no allowed coach among 3 active coaches")
    assert "R2 no supervisor excludes 1 (C1)" in reason
    assert "R5 requests excludes 2 (C2, C3)" in reason


def test_reason_total_capacity(tiny: Path) -> None:
    program = load_program(tiny)
    coaches = tuple(c.model_copy(update={"capacity": 1, "min_load": 0}) for c in program.coaches)
    with pytest.raises(InfeasibleError) as caught:
        match(program.replace(coaches=coaches[:2]))
    assert caught.value.reasons == [
        "total capacity of the 2 active coaches is 2, 1 short of the 3 active residents"
    ]


def test_reason_hall_violation_names_the_group(tiny: Path) -> None:
    program = load_program(tiny)
    # C1 is excluded for all three (R1: supervisor, R2: forbid, R3: panel) and C3
    # now coaches only Neurology: C2, with room for one, is all that remains
    coaches = (
        program.coaches[0],
        program.coaches[1].model_copy(update={"capacity": 1}),
        program.coaches[2].model_copy(
            update={"capacity": 4, "min_load": 0, "programs": ("Neurology",)}
        ),
    )
    with pytest.raises(InfeasibleError) as caught:
        match(program.replace(coaches=coaches))
    (reason,) = caught.value.reasons
    assert reason == (
        "3 residents (3 in Psychiatry: R1, R2, R3) can only be coached by "
        "1 coach (C2) with total capacity 1; 2 more places are needed among "
        "them, or fewer exclusions"
    )


def test_reason_min_load(tiny: Path) -> None:
    program = load_program(tiny)
    coaches = (
        *program.coaches[:2],
        program.coaches[2].model_copy(update={"min_load": 3, "capacity": 3}),
    )
    with pytest.raises(InfeasibleError) as caught:
        match(program.replace(coaches=coaches))
    assert "C3 needs at least 3 coachees but only 2 residents may be coached by them" in (
        caught.value.reasons
    )


def test_reason_contradicting_requires(tiny: Path) -> None:
    program = load_program(tiny)
    requests = (
        Request(resident_id="R1", coach_id="C1", kind="require"),
        Request(resident_id="R3", coach_id="C2", kind="require"),
        Request(resident_id="R3", coach_id="C3", kind="require"),
    )
    with pytest.raises(InfeasibleError) as caught:
        match(program.replace(requests=requests))
    reasons = caught.value.reasons
    assert "R3 has require requests for several coaches (C2, C3); keep one" in reasons
    assert any(
        r.startswith("R1 is required to be coached by C1, but R2 no supervisor forbids")
        for r in reasons
    )


def test_allow_unmatched_lists_reasons(tiny: Path) -> None:
    program = load_program(tiny)
    requests = (
        Request(resident_id="R1", coach_id="C2", kind="forbid"),
        Request(resident_id="R1", coach_id="C3", kind="forbid"),
    )
    program = program.replace(requests=requests)
    result = checked(program, "flow", allow_unmatched=True)
    assert result.unmatched.to_dict("records") == [
        {
            "resident_id": "R1",
            "reason": "no allowed coach (R2 no supervisor excludes 1; R3 not own decision "
            "excludes 1; R5 requests excludes 2)",
        }
    ]
    assert "is unmatched: no allowed coach" in result.explain("R1")
    cpsat = checked(program, "cpsat", allow_unmatched=True)
    assert optimized_levels(cpsat) == optimized_levels(result)


def test_recuse_mode_lists_recusals(tiny: Path) -> None:
    program = load_program(tiny)
    # R3 is decided by P-junior, where C1 sits; a require makes the pair
    require = (*program.requests, Request(resident_id="R3", coach_id="C1", kind="require"))
    program = program.replace(requests=require)
    with pytest.raises(InfeasibleError, match="R3 not own decision forbids it"):
        match(program)
    recuse = program.with_policy(not_own_decision="recuse")
    result = checked(recuse, "flow")
    assert result.coach_of("R3") == "C1"
    assert result.recusals.to_dict("records") == [
        {"resident_id": "R3", "coach_id": "C1", "panel_id": "P-junior"}
    ]


def test_inactive_people_take_no_part() -> None:
    program = synthetic("small")
    residents = tuple(
        r.model_copy(update={"active": k % 2 == 0}) for k, r in enumerate(program.residents)
    )
    coaches = (
        *program.coaches,
        Coach(coach_id="C-off", name="Dr. Off", site_id="camh-queen", capacity=50, active=False),
    )
    sparse = program.replace(residents=residents, coaches=coaches)
    result = checked(sparse, "flow")
    assert len(result.pairs) == 30
    assert "C-off" not in set(result.pairs["coach_id"])


def test_unknown_method() -> None:
    with pytest.raises(ValueError, match="method must be"):
        match(synthetic("small"), method="magic")  # type: ignore[arg-type]


def test_progress_callback_receives_lines() -> None:
    lines: list[str] = []
    match(synthetic("small"), progress=lines.append)
    assert lines and lines[0].startswith("matching 60 residents with 20 coaches")


def test_resident_without_program_can_have_an_unrestricted_coach() -> None:
    program = synthetic("small")
    extra = Resident(resident_id="R-new", name="New Resident")
    result = checked(program.replace(residents=(*program.residents, extra)), "flow")
    coach = result.coach_of("R-new")
    assert coach is not None
    assert not next(c for c in program.coaches if c.coach_id == coach).programs


def test_cpsat_stopped_by_a_limit_keeps_a_valid_incumbent() -> None:
    from coachmatch.solver.cpsat import solve_cpsat
    from coachmatch.solver.flow import solve_flow
    from coachmatch.solver.problem import build_problem

    program = synthetic("medium", seed=2)
    problem = build_problem(program)
    flow = solve_flow(problem)
    assert flow is not None
    stopped = solve_cpsat(problem, flow.assignment, deterministic_time=1e-6)
    assert stopped is not None
    assert not stopped.optimal
    assert stopped.bounds  # each unproven level reports the solver's bound
    pairs = [
        (
            program.residents[int(problem.residents[r])].resident_id,
            program.coaches[int(problem.coaches[c])].coach_id,
        )
        for r, c in enumerate(stopped.assignment)
        if c >= 0
    ]
    assert audit(program, pairs) == []
