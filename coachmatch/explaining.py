"""Explanations as data: why each resident has their coach, for notebooks and reports.

:func:`explain_frame` gives one row per coach for a resident — allowed or the rule
that excludes them, affinity and its question-by-question similarities, caseload —
and :func:`low_fit` the residents far below their best allowed coach, with the cause.
:meth:`Matching.explain` is the same data as sentences.

Program-wide structures (the eligibility masks of every rule, the affinity matrix,
each question's coach answers) are built once per Program and kept with its indexes,
so that explaining one resident after another costs milliseconds.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from coachmatch._display import did_you_mean
from coachmatch.affinity import _answers_by_question, _similarity, affinity_matrix
from coachmatch.constraints import PAIR_RULES, Eligibility, eligibility, rule_reason
from coachmatch.models import Answer, Program

if TYPE_CHECKING:
    from coachmatch.results import Matching

__all__ = ["FAR_BELOW", "explain_frame", "low_fit"]

#: affinity points below the best allowed coach at which a fit counts as low (the
#: report lists kept pairs this far below: continuity, O1, outranked fit)
FAR_BELOW = 25


def _eligibility(program: Program, as_of: date | None) -> Eligibility:
    found: Eligibility = program.index.derived(
        f"eligibility:{as_of}", lambda: eligibility(program, as_of=as_of)
    )
    return found


def _affinity(program: Program) -> npt.NDArray[np.int64]:
    def build() -> npt.NDArray[np.int64]:
        matrix = affinity_matrix(program)
        matrix.setflags(write=False)
        return matrix

    found: npt.NDArray[np.int64] = program.index.derived("affinity_matrix", build)
    return found


def _coach_answers(
    program: Program,
) -> dict[str, tuple[dict[str, Answer], npt.NDArray[np.int64], list[Answer]]]:
    """Per question: everyone's answers, and the coaches' rows and answers."""

    def build() -> dict[str, tuple[dict[str, Answer], npt.NDArray[np.int64], list[Answer]]]:
        index = program.index
        out = {}
        for question_id, by_person in _answers_by_question(program).items():
            answers = [a for p, a in by_person.items() if p in index.coach]
            rows = np.array([index.coach[a.person_id] for a in answers], dtype=np.int64)
            out[question_id] = (by_person, rows, answers)
        return out

    found: dict[str, tuple[dict[str, Answer], npt.NDArray[np.int64], list[Answer]]] = (
        program.index.derived("coach_answers", build)
    )
    return found


def _check_resident(program: Program, resident_id: str) -> int:
    index = program.index
    if resident_id not in index.resident:
        raise KeyError(
            f"unknown resident {resident_id!r}" + did_you_mean(resident_id, list(index.resident))
        )
    return index.resident[resident_id]


def explain_frame(matching: Matching, resident_id: str) -> pd.DataFrame:
    """Every coach for one resident: allowed or why not, fit, and load.

    Parameters
    ----------
    matching : Matching
    resident_id : str

    Returns
    -------
    pandas.DataFrame
        One row per coach of the program (inactive ones included), the resident's
        coach first, then by affinity (highest first): coach_id, coach_name,
        site_id, chosen, allowed, excluded_by (the rules' names, ``"; "``-joined),
        reason (their sentences), affinity, versus_chosen (affinity minus the
        chosen coach's), caseload, capacity, full, and one column
        ``similarity:<question_id>`` per question the resident answered (0-1; 0
        when the coach did not answer). ``frame.attrs["weights"]`` holds each
        question's weight times the resident's importance.

    Examples
    --------
    >>> import coachmatch
    >>> from coachmatch.datasets import synthetic
    >>> matching = coachmatch.match(synthetic("small"))
    >>> frame = matching.explain_frame("R0001")
    >>> bool(frame["chosen"].iloc[0]), int(frame["chosen"].sum())
    (True, 1)
    """
    program = matching.program
    index = program.index
    r = _check_resident(program, resident_id)
    chosen = matching.coach_of(resident_id)
    rules = _eligibility(program, matching.as_of)
    scores = _affinity(program)[r]
    loads = dict(zip(matching.caseloads["coach_id"], matching.caseloads["caseload"], strict=True))
    resident = program.residents[r]
    excluded_by: list[str] = []
    reasons: list[str] = []
    for c, coach in enumerate(program.coaches):
        names = []
        sentences = []
        if not resident.active:
            names.append("inactive")
            sentences.append(f"{resident_id} is inactive")
        if not coach.active:
            names.append("inactive")
            sentences.append(f"{coach.coach_id} is inactive")
        for rule in PAIR_RULES:
            if rules.forbidden_by[rule.NAME][r, c]:
                names.append(rule.NAME)
                why = rule_reason(rule, program, resident_id, coach.coach_id, as_of=matching.as_of)
                sentences.append(f"{rule.NAME}: {why}" if why else rule.NAME)
        excluded_by.append("; ".join(dict.fromkeys(names)))
        reasons.append("; ".join(sentences))
    mine = int(scores[index.coach[chosen]]) if chosen is not None else None
    frame = pd.DataFrame(
        {
            "coach_id": list(index.coach_ids),
            "coach_name": [c.name for c in program.coaches],
            "site_id": [c.site_id for c in program.coaches],
            "chosen": [c.coach_id == chosen for c in program.coaches],
            "allowed": rules.allowed[r].copy(),
            "excluded_by": excluded_by,
            "reason": reasons,
            "affinity": scores.astype(np.int64),
            "versus_chosen": (
                scores.astype(np.int64) - mine
                if mine is not None
                else pd.array([pd.NA] * len(scores), dtype="Int64")
            ),
            "caseload": [int(loads.get(c.coach_id, 0)) for c in program.coaches],
            "capacity": index.capacity.copy(),
        }
    )
    frame["full"] = frame["caseload"] >= frame["capacity"]
    weights: dict[str, float] = {}
    questions = {q.question_id: q for q in program.questions}
    for question_id, (by_person, rows, answers) in _coach_answers(program).items():
        answer = by_person.get(resident_id)
        if answer is None:
            continue
        question = questions[question_id]
        sim = _similarity(question, [answer], rows, answers, len(index.coach_ids))[0]
        frame[f"similarity:{question_id}"] = sim
        weights[question_id] = question.weight * answer.importance
    frame.attrs["weights"] = weights
    frame.attrs["resident_id"] = resident_id
    order = np.lexsort((np.arange(len(frame)), -frame["affinity"].to_numpy(), ~frame["chosen"]))
    return frame.iloc[order].reset_index(drop=True)


def low_fit(matching: Matching, *, below: int = FAR_BELOW) -> pd.DataFrame:
    """Residents whose fit is far below what the rules would allow them, and why.

    A resident is listed when their coach's affinity is at least ``below`` points
    under their best allowed coach's, or when they answered no survey question
    (affinity 0 with everyone: the match could not use their interests).

    Parameters
    ----------
    matching : Matching
    below : int, default 25
        Affinity points under the best allowed coach that count as far below.

    Returns
    -------
    pandas.DataFrame
        resident_id, resident_name, coach_id, coach_name, affinity, best_affinity,
        best_coach_id (an allowed coach with that affinity), best_overall (the best
        affinity with any active coach, allowed or not), cause.

    Examples
    --------
    >>> import coachmatch
    >>> from coachmatch.datasets import synthetic
    >>> matching = coachmatch.match(synthetic("small"))
    >>> list(matching.low_fit().columns[:2])
    ['resident_id', 'resident_name']
    """
    program = matching.program
    index = program.index
    rules = _eligibility(program, matching.as_of)
    matrix = _affinity(program)
    answered = program.respondents()
    pairs = matching.pairs
    loads = dict(zip(matching.caseloads["coach_id"], matching.caseloads["caseload"], strict=True))
    rows: list[dict[str, Any]] = []
    residents = {r.resident_id: r for r in program.residents}
    coaches = {c.coach_id: c for c in program.coaches}
    for resident_id, coach_id, affinity, kept in zip(
        pairs["resident_id"], pairs["coach_id"], pairs["affinity"], pairs["kept"], strict=True
    ):
        r = index.resident[resident_id]
        allowed = np.flatnonzero(rules.allowed[r])
        scores = matrix[r, allowed]
        best_at = int(allowed[int(np.argmax(scores))])
        best = int(matrix[r, best_at])
        overall = int(matrix[r, index.active_coaches].max())
        silent = resident_id not in answered
        if not silent and best - int(affinity) < below:
            continue
        cause = _cause(program, matching, resident_id, int(affinity), kept, silent, loads)
        if overall > best and not silent:
            cause += f"; their best fit overall ({overall}) is a coach the rules exclude"
        rows.append(
            {
                "resident_id": resident_id,
                "resident_name": residents[resident_id].name,
                "coach_id": coach_id,
                "coach_name": coaches[coach_id].name,
                "affinity": int(affinity),
                "best_affinity": best,
                "best_coach_id": index.coach_ids[best_at],
                "best_overall": overall,
                "cause": cause,
            }
        )
    columns = [
        "resident_id",
        "resident_name",
        "coach_id",
        "coach_name",
        "affinity",
        "best_affinity",
        "best_coach_id",
        "best_overall",
        "cause",
    ]
    return pd.DataFrame(rows, columns=columns)


def _cause(
    program: Program,
    matching: Matching,
    resident_id: str,
    affinity: int,
    kept: bool,
    silent: bool,
    loads: dict[str, int],
) -> str:
    if silent:
        return "answered no survey question: affinity 0 with every coach"
    if kept:
        return "kept their current coach (continuity, O1, comes before fit)"
    index = program.index
    r = index.resident[resident_id]
    rules = _eligibility(program, matching.as_of)
    matrix = _affinity(program)
    better = [
        int(c)
        for c in np.flatnonzero(rules.allowed[r])
        if int(matrix[r, c]) > affinity and index.active_coaches[c]
    ]
    full = [c for c in better if loads.get(index.coach_ids[c], 0) >= index.capacity[c]]
    if better and len(full) == len(better):
        shown = ", ".join(
            f"{index.coach_ids[c]} ({loads.get(index.coach_ids[c], 0)} of {index.capacity[c]})"
            for c in sorted(full, key=lambda c: -int(matrix[r, c]))[:5]
        )
        more = f" and {len(full) - 5} more" if len(full) > 5 else ""
        return f"every allowed coach with a better fit is full (caps): {shown}{more}"
    mine = matching.coach_of(resident_id)
    if mine is not None:
        c = index.coach[mine]
        if loads.get(mine, 0) <= index.min_load[c]:
            return f"{mine} needs them for a minimum caseload of {index.min_load[c]}"
    if matching.status != "optimal":
        return "the matching is not proven optimal; a better coach has room"
    return (
        "a higher-priority level (continuity of others or fairness, O1-O2) needs a "
        "better-fitting coach's place"
    )
