"""Shared fixtures: a tiny valid program folder whose line numbers tests can count on."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

from coachmatch import Problem, ProgramError, load_program

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "toronto-psychiatry"

#: A small valid program folder. Line 1 of each CSV is the header, so the row
#: for an id is at the line its position in the file says.
TINY: dict[str, str] = {
    "program.toml": """\
name = "Tiny Psychiatry"
timezone = "America/Toronto"
start = 2026-07-01
end = 2027-06-30

[policy]
max_caseload = 3
not_own_decision = "forbid"
""",
    "sites.csv": """\
site_id,name,address,lat,lon
tgh,Toronto General Hospital,"200 Elizabeth St, Toronto",43.659083,-79.388277
camh,CAMH Queen Street,"1001 Queen St W, Toronto",43.6434,-79.4186
sunnybrook,Sunnybrook,"2075 Bayview Ave, Toronto",43.7227,-79.374697
""",
    "travel.csv": """\
from_site,to_site,minutes
tgh,camh,15
""",
    "coaches.csv": """\
coach_id,name,email,site_id,capacity,min_load,committee_panels,programs,virtual_ok,active
C1,Dr. Ada Osei,ada@example.org,tgh,3,0,P-junior,Psychiatry,true,true
C2,Dr. Ben Roy,ben@example.org,camh,,,,,false,true
C3,Dr. Cy Lam,cy@example.org,sunnybrook,2,1,,Psychiatry;Neurology,true,true
""",
    "residents.csv": """\
resident_id,name,email,program,pgy,decision_panel,current_coach_id,active
R1,Dana Fox,dana@example.org,Psychiatry,1,P-junior,,true
R2,Eli Park,eli@example.org,Psychiatry,3,P-senior,C2,true
R3,Fay Wu,fay@example.org,Psychiatry,2,P-junior,C1,true
R4,Gus Ng,gus@example.org,Psychiatry,5,P-senior,,false
""",
    "panels.csv": """\
panel_id,name,quorum,members
P-junior,Junior panel,2,F1;F2
P-senior,Senior panel,2,F3;C3
""",
    "questions.csv": """\
question_id,kind,weight,min,max,text
career,multi,2,,,Career interests
style,scale,1,1,5,Coaching style
lang,single,1,,,Main language
""",
    "survey.csv": """\
person_id,question_id,answer,importance
R1,career,child;research,2
R1,style,4,
C1,career,child;geriatric,
C1,style,3,
R2,lang,French,1
""",
    "rotations.csv": """\
resident_id,start,end,site_id,service,supervisor_ids
R1,2026-07-01,2026-07-28,tgh,Inpatient,C1
R1,2026-07-29,2026-08-25,camh,Emergency,F9
R2,2026-07-01,2026-07-28,sunnybrook,Consults,C3;F4
R1,2026-08-26,2027-06-30,camh,Outpatient,F9
R2,2026-07-29,2027-06-30,sunnybrook,Outpatient,F4
""",
    "availability.csv": """\
person_id,weekday,start,end
R1,wed,13:00,17:00
C1,mon,09:00,11:30
""",
    "busy.csv": """\
person_id,start,end
C1,2026-09-14T09:00,2026-09-14T12:00
""",
    "requests.csv": """\
resident_id,coach_id,kind,reason
R3,C2,prefer,same language
R2,C1,forbid,
""",
}


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A fresh copy of the tiny valid program folder."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    for name, text in TINY.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def problems_of(folder: Path) -> list[Problem]:
    """Every problem load_program reports for ``folder`` (it must fail)."""
    with pytest.raises(ProgramError) as caught:
        load_program(folder)
    return caught.value.problems


@pytest.fixture
def edit(tiny: Path) -> Callable[..., Path]:
    """``edit("coaches.csv", old, new)`` replaces text in one file of the tiny folder."""

    def apply(name: str, old: str, new: str, *, count: int = 1) -> Path:
        path = tiny / name
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {name}"
        path.write_text(text.replace(old, new, count), encoding="utf-8")
        return tiny

    return apply


settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def every_matching_passes_audit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every Matching any test produces is checked against every rule, solver-free."""
    from coachmatch import audit
    from coachmatch.solver import matching as module

    build = module._result

    def audited(*args: object, **kwargs: object) -> object:
        result = build(*args, **kwargs)  # type: ignore[arg-type]
        allow = bool(len(result.unmatched))
        violations = audit(result.program, result.pairs, allow_unmatched=allow, as_of=result.as_of)
        assert violations == [], [str(v) for v in violations]
        return result

    monkeypatch.setattr(module, "_result", audited)


@pytest.fixture(autouse=True)
def every_schedule_passes_audit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every Schedule any test produces is checked against S1-S4, solver-free: every
    pair of the matching is either planned, and meets as S2 demands (with the re-plan's
    pair start and last dates), or listed in ``unplanned`` with a reason; never both."""
    from coachmatch import audit_schedule
    from coachmatch.solver.scheduling import plan as module

    build = module.schedule_result

    def audited(program, tasks, results, *args, **kwargs):  # type: ignore[no-untyped-def]
        result = build(program, tasks, results, *args, **kwargs)
        every = {(pair.resident_id, pair.coach_id) for task in tasks for pair in task.pairs}
        left = set(zip(result.unplanned["resident_id"], result.unplanned["coach_id"], strict=True))
        assert left <= every and len(left) == len(result.unplanned)
        assert all(isinstance(why, str) and why for why in result.unplanned["reason"])
        assert (result.status == "partial") == bool(left)
        planned = sorted(every - left)
        violations = audit_schedule(
            program, result.meetings, pairs=planned, starts=result.starts, ends=result.ends
        )
        assert violations == [], [str(v) for v in violations[:5]]
        if result.changes is None:  # a first run: an unplanned pair has no meeting at all
            met = set(zip(result.meetings["resident_id"], result.meetings["coach_id"], strict=True))
            assert not (left & met), f"unplanned pairs with meetings: {sorted(left & met)}"
        return result

    monkeypatch.setattr(module, "schedule_result", audited)
