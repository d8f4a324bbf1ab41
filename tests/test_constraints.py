"""Each rule of SPEC §4: one matching that respects it, one that breaks it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coachmatch import Program, Violation, audit, load_program
from coachmatch.constraints import (
    eligibility,
    exclusions,
    r1_one_coach,
    r2_no_supervisor,
    r3_not_own_decision,
    r4_caseload,
    r5_requests,
    r6_program,
)
from tests.strategies import programs


@pytest.fixture
def program(tiny: Path) -> Program:
    # R1..R3 active; C1 capacity 3, C2 policy cap 3, C3 capacity 2 with min_load 1
    return load_program(tiny)


def rules(violations: list[Violation]) -> set[str]:
    return {v.rule for v in violations}


VALID = [("R1", "C3"), ("R2", "C2"), ("R3", "C2")]


def test_a_valid_matching_passes_every_rule(program: Program) -> None:
    assert audit(program, VALID) == []


def test_r1_missing_and_double_and_inactive(program: Program) -> None:
    assert r1_one_coach.check(program, VALID) == []
    broken = r1_one_coach.check(program, [("R1", "C2"), ("R1", "C3"), ("R4", "C1")])
    messages = [v.message for v in broken]
    assert "R1 has 2 coaches (C2, C3)" in messages
    assert "R2 has no coach" in messages
    assert "R4 is inactive but paired with C1" in messages
    assert r1_one_coach.check(program, [("R1", "C2")], allow_unmatched=True) == []


def test_r2_supervisor(program: Program) -> None:
    assert r2_no_supervisor.check(program, VALID) == []
    (v,) = r2_no_supervisor.check(program, [("R1", "C1")])
    assert v.message == (
        "C1 supervises R1 on Inpatient at Toronto General Hospital, 2026-07-01 to 2026-07-28"
    )
    off = program.with_policy(no_supervisor=False)
    assert r2_no_supervisor.check(off, [("R1", "C1")]) == []


def test_r2_ignores_rotations_outside_the_horizon(program: Program) -> None:
    later = program.replace(start=program.start.replace(month=9), end=program.end)
    assert r2_no_supervisor.check(later, [("R1", "C1")]) == []


def test_r3_forbid(program: Program) -> None:
    assert r3_not_own_decision.check(program, VALID) == []
    (v,) = r3_not_own_decision.check(program, [("R3", "C1")])
    assert "C1 sits on panel P-junior, which decides R3's progression" in v.message
    assert (
        r3_not_own_decision.check(program.with_policy(not_own_decision="off"), [("R3", "C1")]) == []
    )


def test_r3_panel_members_from_panels_csv(program: Program) -> None:
    # P-senior lists C3 as a member: C3 must not coach R2, whom P-senior decides
    (v,) = r3_not_own_decision.check(program, [("R2", "C3")])
    assert "C3 sits on panel P-senior" in v.message


def test_r3_recuse_keeps_quorum(program: Program) -> None:
    recuse = program.with_policy(not_own_decision="recuse")
    # P-junior has members F1, F2 and C1 with quorum 2: C1 can recuse
    assert r3_not_own_decision.check(recuse, [("R3", "C1")]) == []
    assert r3_not_own_decision.recusals(recuse, [("R3", "C1")]) == [("R3", "C1", "P-junior")]
    # raise the quorum to 3: recusing leaves 2 of 3
    panels = tuple(p.model_copy(update={"quorum": 3}) for p in recuse.panels)
    strict = recuse.replace(panels=panels)
    (v,) = r3_not_own_decision.check(strict, [("R3", "C1")])
    assert "recusing would leave 2 of the quorum of 3" in v.message


def test_r4_caseload(program: Program) -> None:
    assert r4_caseload.check(program, VALID) == []
    over = r4_caseload.check(program, [("R1", "C3"), ("R2", "C3"), ("R3", "C3")])
    assert [v.message for v in over] == ["C3 has 3 coachees, above the capacity of 2"]
    under = r4_caseload.check(program, [("R1", "C2"), ("R2", "C2"), ("R3", "C2")])
    assert [v.message for v in under] == ["C3 has 0 coachees, below the minimum of 1"]


def test_r5_requests(program: Program) -> None:
    assert r5_requests.check(program, VALID) == []
    (v,) = r5_requests.check(program, [("R2", "C1")])
    assert v.message == "R2 is paired with C1 despite a forbid request"
    from coachmatch import Request

    required = program.replace(
        requests=(*program.requests, Request(resident_id="R1", coach_id="C3", kind="require"))
    )
    assert r5_requests.check(required, VALID) == []
    (v,) = r5_requests.check(required, [("R1", "C2"), ("R2", "C2"), ("R3", "C3")])
    assert v.message == "R1 is not paired with C3 despite a require request"


def test_r6_program(program: Program) -> None:
    assert r6_program.check(program, VALID) == []
    from coachmatch import Resident

    residents = (*program.residents[:3], Resident(resident_id="R5", name="New", program="Surgery"))
    surgery = program.replace(residents=residents)
    (v,) = r6_program.check(surgery, [("R5", "C1")])
    assert v.message == "C1 coaches only Psychiatry; R5 is in Surgery"
    assert r6_program.check(surgery, [("R5", "C2")]) == []  # C2 coaches any program


def test_eligibility_agrees_with_checks(program: Program) -> None:
    allowed = eligibility(program).allowed
    index = program.index
    for r in program.residents:
        for c in program.coaches:
            pair = [(r.resident_id, c.coach_id)]
            broken = any(
                rule.check(program, pair)
                for rule in (r2_no_supervisor, r3_not_own_decision, r5_requests, r6_program)
            )
            inactive = not (r.active and c.active)
            assert allowed[index.resident[r.resident_id], index.coach[c.coach_id]] == (
                not broken and not inactive
            )
            assert bool(exclusions(program, r.resident_id, c.coach_id)) == (broken or inactive)


def test_audit_accepts_a_frame_with_unmatched_rows(program: Program) -> None:
    import pandas as pd

    frame = pd.DataFrame({"resident_id": ["R1", "R2", "R3"], "coach_id": ["C2", None, "C2"]})
    # R2 unmatched (R1), and C3 below its minimum (R4)
    assert rules(audit(program, frame)) == {"R1 one coach", "R4 caseload"}
    assert rules(audit(program, frame, allow_unmatched=True)) == {"R4 caseload"}


@settings(max_examples=200, deadline=None)
@given(programs(), st.integers(0, 120), st.integers(0, 120))
def test_r2_mask_is_its_check_on_every_pair(program: Program, later: int, earlier: int) -> None:
    """The column-wise mask forbids exactly the pairs the rule's own check finds, with
    the horizon cut so that some rotations fall outside it."""
    start = program.start + timedelta(days=later)
    end = max(start, program.end - timedelta(days=earlier))
    program = program.replace(start=start, end=end)
    mask = r2_no_supervisor.forbidden(program)
    index = program.index
    pairs = [(r, c) for r in index.resident_ids for c in index.coach_ids]
    found = {(v.resident_id, v.coach_id) for v in r2_no_supervisor.check(program, pairs)}
    assert {(r, c) for r, c in pairs if mask[index.resident[r], index.coach[c]]} == found


@settings(max_examples=150, deadline=None)
@given(programs(), st.sampled_from(["forbid", "recuse", "off"]))
def test_r3_mask_is_its_check_on_every_pair(program: Program, mode: str) -> None:
    """R3's mask, a panel at a time, forbids exactly the pairs its own check finds,
    under each of the three policies."""
    program = program.replace(policy=program.policy.model_copy(update={"not_own_decision": mode}))
    mask = r3_not_own_decision.forbidden(program)
    index = program.index
    pairs = [(r, c) for r in index.resident_ids for c in index.coach_ids]
    found = {(v.resident_id, v.coach_id) for v in r3_not_own_decision.check(program, pairs)}
    assert {(r, c) for r, c in pairs if mask[index.resident[r], index.coach[c]]} == found
