"""SPEC 1.1's input changes: change requests (R5), survey answers in long form,
affinity.csv, and fairness (O2) counted among residents who answered the survey."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from coachmatch import Program, Request, audit, load_program, match, write_program
from coachmatch.affinity import affinity_matrix, explain_affinity
from coachmatch.constraints import r5_requests
from coachmatch.datasets import synthetic
from tests.conftest import problems_of

# -- change requests ----------------------------------------------------------------


def test_change_respected_the_current_coach_is_not_kept() -> None:
    """A resident who keeps their current coach asks for a change (coach left empty):
    the matching gives them another coach, and the pair no longer counts for O1."""
    program = synthetic("small")
    before = match(program)
    resident = str(before.pairs[before.pairs["kept"]]["resident_id"].iloc[0])
    current = before.coach_of(resident)
    asked = program.replace(
        requests=(
            *program.requests,
            Request(resident_id=resident, kind="change", reason="a fresh start"),
        )
    )
    (request,) = [q for q in asked.requests if q.kind == "change"]
    assert r5_requests.changed_from(asked, request) == current
    after = match(asked)
    assert after.coach_of(resident) not in (None, current)
    assert not after.pairs.set_index("resident_id").loc[resident, "kept"]
    assert after.levels["continuity"] <= before.levels["continuity"] - 1
    assert audit(asked, after.pairs) == []
    explained = after.explain(resident)
    assert (
        f"current coach {current} is not kept: R5 requests: {resident} asked to change "
        f"coach from {current} (a fresh start)"
    ) in explained


def test_change_broken_pairing_with_the_coach_left_is_a_violation(tiny: Path) -> None:
    with open(tiny / "requests.csv", "a", encoding="utf-8") as handle:
        handle.write("R2,C2,change,\n")
    program = load_program(tiny)
    found = [str(v) for v in audit(program, [("R1", "C3"), ("R2", "C2"), ("R3", "C2")])]
    assert "R5 requests: R2 is paired with C2 despite a change request" in found


def test_change_naming_another_coach_forbids_that_one_and_voids_continuity(tiny: Path) -> None:
    with open(tiny / "requests.csv", "a", encoding="utf-8") as handle:
        handle.write("R2,C3,change,\n")
    program = load_program(tiny)
    assert r5_requests.forbidden(program)[program.index.resident["R2"], program.index.coach["C3"]]
    result = match(program)
    assert result.coach_of("R2") != "C3"
    # C2 is still allowed, but no longer counts for O1: whoever R2 gets, "kept" is False
    assert not result.pairs.set_index("resident_id").loc["R2", "kept"]


def test_other_requests_need_a_coach(edit: Callable[..., Path]) -> None:
    folder = edit("requests.csv", "R2,C1,forbid,", "R2,,forbid,")
    (problem,) = problems_of(folder)
    assert (problem.file, problem.line, problem.column) == ("requests.csv", 3, "coach_id")
    assert problem.message == "a forbid request needs a coach"


def test_a_change_without_a_current_coach_forbids_nobody() -> None:
    program = synthetic("small")
    resident = next(r for r in program.residents if r.current_coach_id is None and r.active)
    asked = program.replace(
        requests=(*program.requests, Request(resident_id=resident.resident_id, kind="change"))
    )
    assert not r5_requests.forbidden(asked)[asked.index.resident[resident.resident_id]].any()
    assert audit(asked, match(asked).pairs) == []


# -- survey in long form --------------------------------------------------------------


def test_long_form_multi_answers_are_merged(edit: Callable[..., Path]) -> None:
    wide = load_program(
        edit("survey.csv", "R1,career,child;research,2", "R1,career,child;research,2")
    )
    folder = edit(
        "survey.csv", "R1,career,child;research,2", "R1,career,child,2\nR1,career,research,2"
    )
    long = load_program(folder)
    assert len(long.survey) == len(wide.survey) + 1
    assert (affinity_matrix(long) == affinity_matrix(wide)).all()
    merged = {(a.person_id, a.question_id): a.answer for a in long.answers()}
    assert merged["R1", "career"] == ("child", "research")
    assert str(explain_affinity(long, "R1", "C1")) == str(explain_affinity(wide, "R1", "C1"))


def test_long_form_round_trips_through_a_folder(tmp_path: Path, tiny: Path) -> None:
    with open(tiny / "survey.csv", "a", encoding="utf-8") as handle:
        handle.write("C1,career,research,\n")
    program = load_program(tiny)
    assert load_program(write_program(program, tmp_path / "copy")) == program


# -- affinity.csv ---------------------------------------------------------------------


def test_program_affinities_replace_the_survey_and_keep_the_prefer_bonus(tiny: Path) -> None:
    (tiny / "affinity.csv").write_text(
        "resident_id,coach_id,affinity\nR1,C2,73\nR3,C2,10\nR2,C3,0\n", encoding="utf-8"
    )
    program = load_program(tiny)
    index = program.index
    matrix = affinity_matrix(program)
    assert matrix[index.resident["R1"], index.coach["C2"]] == 73
    # R3 prefers C2 (requests.csv): 10 + the bonus of 20
    assert matrix[index.resident["R3"], index.coach["C2"]] == 30
    assert matrix[index.resident["R2"], index.coach["C3"]] == 0
    pair = explain_affinity(program, "R3", "C2")
    assert (pair.affinity, pair.base, pair.source) == (30, 10, "affinity.csv")
    assert "set by the program in affinity.csv" in str(pair)
    # R3 answered nothing but has a program affinity: a respondent for O2
    assert program.respondents() == {"R1", "R2", "R3"}


@pytest.mark.parametrize(
    ("row", "line", "column", "fragment"),
    [
        ("R1,C2,101", 2, "affinity", "<= 100"),
        ("R1,C9,50", 2, "coach_id", "unknown coach 'C9'"),
        ("R9,C2,50", 2, "resident_id", "unknown resident 'R9'"),
        ("R1,C2,high", 2, "affinity", "whole number"),
    ],
)
def test_bad_program_affinities_are_located(
    tiny: Path, row: str, line: int, column: str, fragment: str
) -> None:
    (tiny / "affinity.csv").write_text(f"resident_id,coach_id,affinity\n{row}\n", encoding="utf-8")
    problems = problems_of(tiny)
    located = [p for p in problems if (p.file, p.line, p.column) == ("affinity.csv", line, column)]
    assert located and any(fragment in p.message for p in located), [str(p) for p in problems]


def test_a_second_program_affinity_for_a_pair_is_an_error(tiny: Path) -> None:
    (tiny / "affinity.csv").write_text(
        "resident_id,coach_id,affinity\nR1,C2,50\nR1,C2,60\n", encoding="utf-8"
    )
    (problem,) = problems_of(tiny)
    assert (problem.file, problem.line, problem.column) == ("affinity.csv", 3, "coach_id")


# -- fairness among respondents -------------------------------------------------------


def test_fairness_counts_only_residents_who_answered() -> None:
    program = synthetic("small", seed=3).with_policy(keep_current=False)
    silent = {r.resident_id for r in program.residents if r.active} - program.respondents()
    assert silent, "the synthetic program has residents who answered no survey"
    for method in ("flow", "cpsat"):
        result = match(program, method=method)  # type: ignore[arg-type]
        pairs = result.pairs
        answered = pairs[~pairs["resident_id"].isin(silent)]
        assert result.levels["min_affinity"] == int(answered["affinity"].min()) > 0
        assert pairs[pairs["resident_id"].isin(silent)]["affinity"].eq(0).all()
    assert "answered none" in result.summary()


def test_fairness_is_skipped_when_nobody_answered() -> None:
    program = synthetic("small").replace(survey=(), affinity=())
    result = match(program)
    assert result.levels["min_affinity"] is None
    assert "min_affinity" not in result.optimized
    assert "nobody answered the survey" in result.summary()


def test_program_copy_keeps_long_form_and_affinities(tmp_path: Path) -> None:
    program = synthetic("small")
    first = program.survey[0]
    extra = first.model_copy(update={"answer": ("extra-choice",)})
    scores = program.affinity
    assert scores == ()
    if first.question_id != "career":  # the copy must be a multi question's second row
        first = next(a for a in program.survey if a.question_id == "career")
        extra = first.model_copy(update={"answer": ("extra-choice",)})
    changed = program.replace(survey=(*program.survey, extra))
    assert isinstance(changed, Program)
    assert load_program(write_program(changed, tmp_path / "p")) == changed
