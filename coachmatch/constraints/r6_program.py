"""R6 program — hard.

Rule: a coach with a non-empty ``programs`` list coaches only residents of
those programs.
Why: coaching draws on knowing the specialty's training, milestones and culture;
faculty often coach only within their own department.

Forbids pairs: an eligibility mask.
"""

from __future__ import annotations

import numpy as np

from coachmatch.constraints.base import Mask, Pairs, Violation
from coachmatch.models import Program

NAME = "R6 program"
HARD = True


def forbidden(program: Program) -> Mask:
    """True where the coach's programs list leaves out the resident's program."""
    names = sorted(
        {r.program for r in program.residents} | {p for c in program.coaches for p in c.programs}
    )
    code = {name: k for k, name in enumerate(names)}
    resident_program = np.array([code[r.program] for r in program.residents], dtype=np.int64)
    # coach x program: True where the coach takes residents of that program
    takes = np.ones((len(program.coaches), len(names)), dtype=bool)
    for row, coach in enumerate(program.coaches):
        if coach.programs:
            takes[row] = False
            takes[row, [code[p] for p in coach.programs]] = True
    # row by resident, in memory order (residents x coaches), as every other mask;
    # negated in place (a second fresh mask of every pair costs more than the negation)
    mask: Mask = np.ascontiguousarray(takes.T)[resident_program]
    np.logical_not(mask, out=mask)
    return mask


def why(program: Program, resident_id: str, coach_id: str) -> str | None:
    """The sentence that excludes the pair, or None."""
    index = program.index
    coach = program.coaches[index.coach[coach_id]]
    resident = program.residents[index.resident[resident_id]]
    if coach.programs and resident.program not in coach.programs:
        return (
            f"{coach_id} coaches only {', '.join(coach.programs)}; {resident_id} is in "
            f"{resident.program or 'no program'}"
        )
    return None


def check(program: Program, pairs: Pairs) -> list[Violation]:
    """Pairs whose coach does not coach the resident's program.

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("medium")
    >>> coach = next(c for c in program.coaches if c.programs)
    >>> other = next(r for r in program.residents if r.program not in coach.programs)
    >>> len(check(program, [(other.resident_id, coach.coach_id)]))
    1
    """
    found = []
    index = program.index
    for r, c in pairs:
        if r in index.resident and c in index.coach:
            sentence = why(program, r, c)
            if sentence:
                found.append(Violation(NAME, sentence, r, c))
    return found
