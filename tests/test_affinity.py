"""Affinity (SPEC §3): the vectorized matrix equals an exact reference, pair by pair."""

from __future__ import annotations

from datetime import date

import numpy as np
from hypothesis import HealthCheck, given, settings

from coachmatch import Answer, Coach, Program, Question, Request, Resident, Site
from coachmatch.affinity import affinity_matrix, explain_affinity
from coachmatch.datasets import synthetic
from tests import reference
from tests.strategies import programs


def survey_program(
    questions: list[Question], answers: list[Answer], requests: tuple[Request, ...] = ()
) -> Program:
    return Program(
        name="Survey",
        timezone="America/Toronto",
        start=date(2026, 7, 1),
        end=date(2027, 6, 30),
        sites=[Site(site_id="s", name="S")],
        coaches=[Coach(coach_id=f"C{k}", name="c", site_id="s") for k in range(3)],
        residents=[Resident(resident_id=f"R{k}", name="r") for k in range(2)],
        questions=questions,
        survey=answers,
        requests=requests,
    )


def test_each_question_kind() -> None:
    program = survey_program(
        [
            Question(question_id="m", kind="multi", weight=2),
            Question(question_id="s", kind="single"),
            Question(question_id="x", kind="scale", min=1, max=5),
        ],
        [
            Answer(person_id="R0", question_id="m", answer="a;b;c;d"),
            Answer(person_id="R0", question_id="s", answer="fr"),
            Answer(person_id="R0", question_id="x", answer="2"),
            Answer(person_id="C0", question_id="m", answer="a;z"),
            Answer(person_id="C0", question_id="s", answer="fr"),
            Answer(person_id="C0", question_id="x", answer="5"),
            Answer(person_id="C1", question_id="s", answer="en"),
        ],
    )
    matrix = affinity_matrix(program)
    # C0: (2 * 1/4 + 1 * 1 + 1 * (1 - 3/4)) / 4 = 1.75 / 4 = 43.75% -> 44
    assert matrix[0, 0] == 44
    assert matrix[0, 1] == 0  # answered only s, differently
    assert matrix[1].tolist() == [0, 0, 0]  # R1 answered nothing


def test_rounding_is_half_away_from_zero() -> None:
    program = survey_program(
        [Question(question_id="m", kind="multi"), Question(question_id="s", kind="single")],
        [
            Answer(person_id="R0", question_id="m", answer="a;b;c;d"),
            Answer(person_id="R0", question_id="s", answer="x"),
            Answer(person_id="C0", question_id="m", answer="a"),
            Answer(person_id="C0", question_id="s", answer="x"),
        ],
    )
    assert affinity_matrix(program)[0, 0] == 63  # (1/4 + 1) / 2 = 62.5%


def test_importance_weighs_questions() -> None:
    program = survey_program(
        [Question(question_id="a", kind="single"), Question(question_id="b", kind="single")],
        [
            Answer(person_id="R0", question_id="a", answer="x", importance=3),
            Answer(person_id="R0", question_id="b", answer="y", importance=1),
            Answer(person_id="C0", question_id="a", answer="x"),
            Answer(person_id="C0", question_id="b", answer="n", importance=9),
        ],
    )
    assert affinity_matrix(program)[0, 0] == 75  # coach importance is ignored


def test_prefer_bonus_is_capped_and_applies_without_answers() -> None:
    program = survey_program(
        [Question(question_id="a", kind="single")],
        [
            Answer(person_id="R0", question_id="a", answer="x"),
            Answer(person_id="C0", question_id="a", answer="x"),
        ],
        (
            Request(resident_id="R0", coach_id="C0", kind="prefer"),
            Request(resident_id="R1", coach_id="C2", kind="prefer"),
        ),
    )
    matrix = affinity_matrix(program)
    assert matrix[0, 0] == 100 and matrix[1, 2] == 20
    assert affinity_matrix(program, prefer=False)[1, 2] == 0
    pair = explain_affinity(program, "R1", "C2")
    assert (pair.affinity, pair.base, pair.prefer_bonus) == (20, 0, 20)


def test_zero_weights_give_zero() -> None:
    program = survey_program(
        [Question(question_id="a", kind="single", weight=0)],
        [
            Answer(person_id="R0", question_id="a", answer="x"),
            Answer(person_id="C0", question_id="a", answer="x"),
        ],
    )
    assert affinity_matrix(program)[0, 0] == 0


def test_breakdown_reads_as_sentences() -> None:
    program = survey_program(
        [Question(question_id="career", kind="multi"), Question(question_id="lang", kind="single")],
        [
            Answer(person_id="R0", question_id="career", answer="child;research;geriatric"),
            Answer(person_id="R0", question_id="lang", answer="French"),
            Answer(person_id="C0", question_id="career", answer="research;child"),
            Answer(person_id="C0", question_id="lang", answer="French"),
        ],
    )
    text = str(explain_affinity(program, "R0", "C0"))
    assert "shares 2 of 3 career: child, research" in text
    assert "same lang: French" in text


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_matrix_equals_exact_reference(program: Program) -> None:
    matrix = affinity_matrix(program)
    for i, r in enumerate(program.residents):
        for j, c in enumerate(program.coaches):
            assert matrix[i, j] == reference.affinity(program, r.resident_id, c.coach_id)
            assert explain_affinity(program, r.resident_id, c.coach_id).affinity == matrix[i, j]


def test_synthetic_matrix_matches_reference_on_a_sample() -> None:
    program = synthetic("medium", seed=4)
    matrix = affinity_matrix(program)
    rng = np.random.default_rng(0)
    for i, j in zip(rng.integers(250, size=300), rng.integers(70, size=300), strict=True):
        r, c = program.residents[i].resident_id, program.coaches[j].coach_id
        assert matrix[i, j] == reference.affinity(program, r, c)


def test_a_choice_given_twice_counts_once() -> None:
    """A multi answer naming a choice twice (in one row, or in two rows) scores as the
    answer naming it once, for the matrix, the explanation and the exact reference."""
    questions = [Question(question_id="m", kind="multi")]
    once = survey_program(
        questions,
        [
            Answer(person_id="R0", question_id="m", answer="a;b"),
            Answer(person_id="C0", question_id="m", answer="a;c"),
        ],
    )
    for repeated in (
        [Answer(person_id="R0", question_id="m", answer="a;b;a")],
        [
            Answer(person_id="R0", question_id="m", answer="a;b"),
            Answer(person_id="R0", question_id="m", answer="a"),
        ],
    ):
        twice = survey_program(
            questions, [*repeated, Answer(person_id="C0", question_id="m", answer="a;c;c")]
        )
        matrix = affinity_matrix(twice)
        assert matrix.tolist() == affinity_matrix(once).tolist()
        # |A_r ∩ A_c| / |A_r| = |{a}| / |{a, b}|: the repeated a counts once on both sides
        assert matrix[0, 0] == reference.affinity(twice, "R0", "C0") == 50
        assert explain_affinity(twice, "R0", "C0").affinity == matrix[0, 0]
