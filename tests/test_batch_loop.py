"""SPEC 1.1 §6: the batch run re-matches the residents of pairs it could not plan, keeps
every other pair, records each round, and reports what is left — never drops it."""

from __future__ import annotations

import json
import re
from datetime import date, time
from pathlib import Path

import pytest

from coachmatch import (
    AvailabilityWindow,
    Coach,
    Policy,
    Program,
    Resident,
    Site,
    audit,
    load_program,
    match,
    run,
    write_program,
)
from coachmatch.datasets import synthetic
from coachmatch.report import warnings
from tests.conftest import EXAMPLE

START, END = date(2026, 7, 1), date(2027, 6, 30)


def crowded(rounds: int = 3) -> Program:
    """C1 offers one half-hour a week and all six residents are C1's current coachees,
    so O1 keeps them all with C1; in the first 28 days C1 has five slots. C2 has room."""
    residents = [
        Resident(resident_id=f"R{k}", name=f"Resident {k}", current_coach_id="C1") for k in range(6)
    ]
    return Program(
        name="Crowded",
        timezone="America/Toronto",
        start=START,
        end=END,
        policy=Policy(max_caseload=6, rematch_rounds=rounds),
        sites=[Site(site_id="tgh", name="Toronto General", lat=43.659, lon=-79.388)],
        coaches=[
            Coach(coach_id="C1", name="Dr. Busy", site_id="tgh"),
            Coach(coach_id="C2", name="Dr. Free", site_id="tgh", capacity=2),
        ],
        residents=residents,
        availability=[
            AvailabilityWindow(person_id="C1", weekday="wed", start=time(14), end=time(14, 30)),
            AvailabilityWindow(person_id="C2", weekday="wed", start=time(9), end=time(17)),
            *(
                AvailabilityWindow(
                    person_id=r.resident_id, weekday="wed", start=time(13), end=time(17)
                )
                for r in residents
            ),
        ],
    )


def test_an_unplanned_pair_is_rematched_and_everyone_else_stays(tmp_path: Path) -> None:
    folder = write_program(crowded(), tmp_path / "program")
    first = match(load_program(folder))
    assert set(first.pairs["coach_id"]) == {"C1"}  # O1 keeps everyone with C1
    result = run(folder, tmp_path / "out")
    (round_one,) = result.rounds
    ((resident, coach, reason),) = round_one.unplanned
    assert coach == "C1" and "can meet on their own, but not besides C1's other" in reason
    assert round_one.moved == [(resident, "C1", "C2")]
    assert round_one.still_unplanned == 0
    # every other pair stayed; the moved resident's new pair is planned
    made = result.matching.pairs
    pairs = dict(zip(made["resident_id"], made["coach_id"], strict=True))
    assert pairs == {**{f"R{k}": "C1" for k in range(6)}, resident: "C2"}
    assert result.schedule.status == "optimal" and len(result.schedule.unplanned) == 0
    assert set(result.schedule.scheduled["resident_id"]) == set(pairs)
    # continuity is measured against the input's current coaches
    assert int(result.matching.pairs["kept"].sum()) == 5
    assert result.matching.method == "flow, re-matched"
    # the final matching satisfies the input plus the run's forbid request
    (forbid,) = [q for q in result.program.requests if q.kind == "forbid"]
    assert (forbid.resident_id, forbid.coach_id) == (resident, "C1")
    assert forbid.reason.startswith("round 1: could not be scheduled (")
    assert audit(result.program, result.matching.pairs) == []
    manifest = json.loads((tmp_path / "out" / "run.json").read_text())
    assert manifest["rematch"] == [
        {
            "round": 1,
            "unplanned": [{"resident_id": resident, "coach_id": "C1", "reason": reason}],
            "moved": [{"resident_id": resident, "from": "C1", "to": "C2"}],
            "still_unplanned": 0,
            "note": "",
        }
    ]
    assert manifest["schedule"]["status"] == "optimal"
    page = (tmp_path / "out" / "report.html").read_text()
    assert "<h2>Re-matching</h2>" in page
    assert f"re-matched {resident} from C1 to C2" in page


def test_with_no_rounds_the_unplanned_pair_is_reported_not_dropped(tmp_path: Path) -> None:
    folder = write_program(crowded(rounds=0), tmp_path / "program")
    result = run(folder, tmp_path / "out")
    assert result.rounds == ()
    assert result.schedule.status == "partial"
    ((resident, coach, reason),) = result.schedule.unplanned.itertuples(index=False, name=None)
    manifest = json.loads((tmp_path / "out" / "run.json").read_text())
    assert manifest["schedule"]["status"] == "partial"
    assert manifest["schedule"]["not_planned"] == [reason]
    page = (tmp_path / "out" / "report.html").read_text()
    assert "None: every active resident" not in page
    assert "1 pairs have no meetings: they could not be planned." in page
    assert f"Not planned: {reason}".replace("'", "&#x27;") in page
    assert resident in set(result.matching.pairs["resident_id"]) and coach == "C1"


def test_the_example_with_virtual_only_meetings_plans_everyone_or_says_why(
    tmp_path: Path,
) -> None:
    """Virtual-only on a copy of the example where some coaches do not meet virtually:
    R7 keeps those coaches from every resident, and the run plans every resident or
    lists the one left with a reason."""
    program = load_program(EXAMPLE)
    refusing = {c.coach_id for c in program.coaches[::7]}
    coaches = tuple(
        c.model_copy(update={"virtual_ok": c.coach_id not in refusing}) for c in program.coaches
    )
    changed = program.with_policy(virtual="only").replace(coaches=coaches)
    folder = write_program(changed, tmp_path / "program")
    result = run(folder, tmp_path / "out")
    assert not set(result.matching.pairs["coach_id"]) & refusing
    assert (result.schedule.scheduled["site_id"] == "virtual").all()
    _every_resident_planned_or_listed(result.program, result, tmp_path / "out")


def test_a_narrow_synthetic_program_plans_everyone_or_says_why(tmp_path: Path) -> None:
    program = synthetic("small", seed=2, free_time="narrow")
    folder = write_program(program, tmp_path / "program")
    result = run(folder, tmp_path / "out", allow_unmatched=True)
    assert len(result.matching.unmatched) > 0  # some residents can meet no allowed coach
    for why in result.matching.unmatched["reason"]:
        assert "R7 can meet excludes" in why
    _every_resident_planned_or_listed(result.program, result, tmp_path / "out")


def _every_resident_planned_or_listed(program: Program, result: object, out: Path) -> None:
    matching, plan = result.matching, result.schedule  # type: ignore[attr-defined]
    active = {r.resident_id for r in program.residents if r.active}
    planned = set(plan.scheduled["resident_id"])
    unplanned = dict(zip(plan.unplanned["resident_id"], plan.unplanned["reason"], strict=True))
    unmatched = dict(
        zip(matching.unmatched["resident_id"], matching.unmatched["reason"], strict=True)
    )
    assert active == planned | set(unplanned) | set(unmatched)
    page = (out / "report.html").read_text()
    notes = warnings(program, matching, plan)
    for resident in set(unplanned) | set(unmatched):
        assert any(resident in note for note in notes)
        assert re.search(re.escape(resident), page)
    if unplanned or unmatched:
        assert "None: every active resident" not in page


def test_the_command_line_prints_the_rounds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from coachmatch.cli import main

    folder = write_program(crowded(), tmp_path / "program")
    assert main(["run", str(folder), "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "re-matched: Round 1: 1 pairs could not be planned and were forbidden" in printed
    assert "pairs: 7 of 7 planned" not in printed  # six residents: six pairs
    assert "pairs: 6 of 6 planned" in printed
