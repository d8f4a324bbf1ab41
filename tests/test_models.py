"""The data model: defaults, immutability, what-if copies, indexes and display."""

from __future__ import annotations

from datetime import date, time

import numpy as np
import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coachmatch import Coach, Policy, Program, ProgramError, ProgramWarning, Resident, Site
from coachmatch.datasets import synthetic
from coachmatch.models import Answer, AvailabilityWindow, check_id
from coachmatch.validation import find_problems


def tiny_program(**policy: object) -> Program:
    return Program(
        name="Demo",
        timezone="America/Toronto",
        start=date(2026, 7, 1),
        end=date(2027, 6, 30),
        policy=Policy.model_validate(policy),
        sites=[Site(site_id="tgh", name="Toronto General")],
        coaches=[
            Coach(coach_id="C1", name="Dr. A", site_id="tgh"),
            Coach(
                coach_id="C2",
                name="Dr. B",
                site_id="tgh",
                capacity=6,
                min_load=1,
                committee_panels="P1",
            ),
        ],
        residents=[Resident(resident_id="R1", name="B. Chen")],
    )


def test_policy_defaults_are_spec_section_2() -> None:
    assert Policy().model_dump() == {
        "max_caseload": 4,
        "min_caseload": 0,
        "no_supervisor": True,
        "not_own_decision": "forbid",
        "keep_current": True,
        "fairness": "maxmin",
        "prefer_bonus": 20,
        "cadence_days": (42, 56),
        "first_meeting_within_days": 28,
        "meeting_minutes": 30,
        "workday": (time(8), time(18)),
        "virtual": "allowed",
        "max_virtual_share": 0.5,
        "first_meeting_in_person": True,
        "seed": 0,
        "time_limit_s": 30.0,
        "must_meet": True,
        "rematch_rounds": 3,
    }


def test_row_defaults() -> None:
    coach = Coach(coach_id="C1", name="Dr. A", site_id="tgh")
    assert (coach.capacity, coach.min_load, coach.programs, coach.virtual_ok, coach.active) == (
        None,
        None,
        (),
        True,
        True,
    )
    resident = Resident(resident_id="R1", name="B")
    assert resident.active and resident.current_coach_id is None
    assert Answer(person_id="R1", question_id="q", answer="a; b").answer == ("a", "b")
    assert (
        AvailabilityWindow(person_id="R1", weekday="Wednesday", start="13:00", end="17:00").weekday
        == "wed"
    )


def test_capacity_falls_back_to_policy() -> None:
    program = tiny_program()
    c1, c2 = program.coaches
    assert (program.capacity(c1), program.min_load(c1)) == (4, 0)
    assert (program.capacity(c2), program.min_load(c2)) == (6, 1)
    with pytest.warns(ProgramWarning, match="1 coach keeps theirs"):
        assert program.with_policy(max_caseload=5).capacity(c1) == 5


def test_program_is_immutable() -> None:
    program = tiny_program()
    with pytest.raises(pydantic.ValidationError):
        program.name = "Other"  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError):
        program.coaches[0].capacity = 9  # type: ignore[misc]


def test_with_policy_validates() -> None:
    program = tiny_program()
    with pytest.raises(ProgramError, match="column max_caseload: expected a number >= 0"):
        program.with_policy(max_caseload=-1)
    with pytest.raises(ProgramError, match="column no_such_key: unknown policy key"):
        program.with_policy(no_such_key=1)
    # a policy change can make the program inconsistent: C3 keeps min_load 2 but its
    # capacity comes from the policy
    program = program.replace(
        coaches=(*program.coaches, Coach(coach_id="C3", name="Dr. C", site_id="tgh", min_load=2))
    )
    with pytest.raises(
        ProgramError, match="coaches row 3, column min_load: min_load 2 is greater than capacity 1"
    ):
        program.with_policy(max_caseload=1)


def test_replace_revalidates() -> None:
    program = tiny_program()
    bad = Coach(coach_id="C3", name="Dr. C", site_id="nowhere")
    with pytest.raises(ProgramError, match="coaches row 3, column site_id: unknown site"):
        program.replace(coaches=(*program.coaches, bad))
    with pytest.raises(TypeError, match="no field 'colour'"):
        program.replace(colour="blue")
    more = program.replace(coaches=(*program.coaches, bad.model_copy(update={"site_id": "tgh"})))
    assert len(more.coaches) == 3 and len(program.coaches) == 2


def test_index_is_dense_and_consistent() -> None:
    program = synthetic("small", seed=3)
    index = program.index
    assert index is program.index  # built once
    assert [index.resident[r] for r in index.resident_ids] == list(range(len(program.residents)))
    assert [index.coach[c] for c in index.coach_ids] == list(range(len(program.coaches)))
    assert index.capacity.dtype == np.int64
    assert index.capacity.tolist() == [program.capacity(c) for c in program.coaches]
    assert index.coach_site.tolist() == [index.site[c.site_id] for c in program.coaches]
    assert index.active_residents.sum() == sum(r.active for r in program.residents)


def test_equality_ignores_built_indexes() -> None:
    a, b = synthetic("small", seed=3), synthetic("small", seed=3)
    _ = a.index
    assert a == b and b == a


def test_panel_members_include_coaches_naming_the_panel() -> None:
    assert tiny_program().panel_members() == {"P1": ("C2",)}


def test_summary_repr_and_html() -> None:
    program = tiny_program(max_caseload=5)
    text = str(program)
    assert "residents: 1 active of 1" in text
    assert "horizon: 2026-07-01 to 2027-06-30 (365 days, America/Toronto)" in text
    assert "policy: max_caseload=5" in text
    assert repr(program).startswith("Program(name='Demo', residents=1, coaches=2")
    html = program._repr_html_()
    assert html.startswith("<table") and "max_caseload=5" in html


def test_html_escapes_names() -> None:
    program = tiny_program().replace(name="<script>x</script>")
    assert "<script>" not in program._repr_html_()


def test_find_problems_on_plain_rows() -> None:
    findings = find_problems({"coaches": [Coach(coach_id="C1", name="A", site_id="x")]}, Policy())
    assert [(f.table, f.row, f.column, f.refers_to) for f in findings] == [
        ("coaches", 0, "site_id", "sites")
    ]


@pytest.mark.parametrize("bad", ["", "   ", "C;1", "C/1", "C\\1", "C\t1"])
def test_bad_ids_rejected(bad: str) -> None:
    with pytest.raises(pydantic.ValidationError, match="coach_id"):
        Coach(coach_id=bad, name="A", site_id="x")


def test_cells_are_stripped() -> None:
    assert Coach(coach_id=" C1 ", name=" Dr. A ", site_id="x").coach_id == "C1"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab.-_:@+;/\\ \t\x00é", max_size=8), st.integers(1, 6))
def test_check_id_fast_path_agrees_with_the_rules(value: str, most: int) -> None:
    """check_id accepts plain ids at a glance; whatever it answers is what the rules say
    (written out here on their own)."""
    ok = (
        value == value.strip()
        and value != ""
        and not any(c in ";/\\" or ord(c) < 32 or ord(c) == 127 for c in value)
        and len(value.encode("utf-8")) <= most
        and value not in (".", "..")
    )
    if ok:
        assert check_id(value, most) == value
    else:
        with pytest.raises(ValueError, match="an id must"):
            check_id(value, most)
