"""Slow, obviously-correct reference implementations used to check the fast ones.

Written straight from SPEC §3-4 with exact fractions and brute force; they share
no code with the package beyond the data model.
"""

from __future__ import annotations

import itertools
from collections import Counter
from fractions import Fraction

from coachmatch import Program


def affinity(program: Program, resident_id: str, coach_id: str) -> int:
    """SPEC §3 with exact rational arithmetic."""
    questions = {q.question_id: q for q in program.questions}
    answers = {(a.person_id, a.question_id): a for a in program.survey}
    num, den = Fraction(0), Fraction(0)
    for (person, qid), mine in answers.items():
        if person != resident_id:
            continue
        q = questions[qid]
        w = Fraction(q.weight) * Fraction(mine.importance)
        theirs = answers.get((coach_id, qid))
        sim = Fraction(0)
        if theirs is not None:
            if q.kind == "multi":
                a_r, a_c = set(mine.answer), set(theirs.answer)
                sim = Fraction(len(a_r & a_c), len(a_r))
            elif q.kind == "single":
                sim = Fraction(int(mine.answer[0] == theirs.answer[0]))
            else:
                span = Fraction(q.max) - Fraction(q.min)  # type: ignore[arg-type]
                diff = abs(Fraction(mine.answer[0]) - Fraction(theirs.answer[0]))
                sim = 1 - diff / span
        num += w * sim
        den += w
    base = 0
    if den > 0:
        x = 100 * num / den
        base = int(x) + (1 if x - int(x) >= Fraction(1, 2) else 0)  # half away from zero
    if any(
        q.kind == "prefer" and (q.resident_id, q.coach_id) == (resident_id, coach_id)
        for q in program.requests
    ):
        base = min(100, base + program.policy.prefer_bonus)
    return base


def best_levels(program: Program, valid: list[dict[str, str]]) -> tuple[int, ...] | None:
    """The lexicographically best level vector over ``valid`` assignments."""
    policy = program.policy
    best = None
    for assignment in valid:
        scores = [affinity(program, r, c) for r, c in assignment.items()]
        load = Counter(assignment.values())
        current = {r.resident_id: r.current_coach_id for r in program.residents}
        key = (
            sum(current[r] == c for r, c in assignment.items()) if policy.keep_current else 0,
            (min(scores) if scores else 0) if policy.fairness == "maxmin" else 0,
            sum(scores),
            -sum(n * n for n in load.values()),
        )
        best = key if best is None or key > best else best
    return best


def all_assignments(
    program: Program, allowed: dict[str, list[str]], allow_unmatched: bool = False
) -> list[dict[str, str]]:
    """Every assignment of active residents to allowed coaches (None = unmatched)."""
    residents = [r.resident_id for r in program.residents if r.active]
    options = [allowed[r] + ([None] if allow_unmatched else []) for r in residents]  # type: ignore[list-item]
    out = []
    for combo in itertools.product(*options):
        out.append({r: c for r, c in zip(residents, combo, strict=True) if c is not None})
    return out
