"""R1 one coach — hard.

Rule: each active resident gets exactly one coach (or, when the caller allows
unmatched residents, at most one), and only active people are paired.
Why: the longitudinal relationship is the point of coaching; a resident with no
coach, or two, falls through the cracks.

Adds to a model: one unit of supply per active resident (flow) or an
exactly-one (at-most-one) constraint per resident (CP-SAT).
"""

from __future__ import annotations

from collections import Counter

from coachmatch.constraints.base import Pairs, Violation
from coachmatch.models import Program

NAME = "R1 one coach"
HARD = True


def check(program: Program, pairs: Pairs, *, allow_unmatched: bool = False) -> list[Violation]:
    """Residents with no coach or several, unknown ids, and inactive people paired.

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> [str(v) for v in check(program, [])][:1]
    ['R1 one coach: R0001 has no coach']
    """
    found: list[Violation] = []
    residents = {r.resident_id: r for r in program.residents}
    coaches = {c.coach_id: c for c in program.coaches}
    count = Counter(r for r, _ in pairs)
    for r, c in pairs:
        if r not in residents:
            found.append(Violation(NAME, f"unknown resident {r} is paired with {c}", r, c))
        elif not residents[r].active:
            found.append(Violation(NAME, f"{r} is inactive but paired with {c}", r, c))
        if c not in coaches:
            found.append(Violation(NAME, f"{r} is paired with unknown coach {c}", r, c))
        elif not coaches[c].active:
            found.append(Violation(NAME, f"{r} is paired with inactive coach {c}", r, c))
    for resident in program.residents:
        n = count.get(resident.resident_id, 0)
        if resident.active and n == 0 and not allow_unmatched:
            found.append(
                Violation(NAME, f"{resident.resident_id} has no coach", resident.resident_id)
            )
        if n > 1:
            names = ", ".join(sorted(c for r, c in pairs if r == resident.resident_id))
            found.append(
                Violation(
                    NAME, f"{resident.resident_id} has {n} coaches ({names})", resident.resident_id
                )
            )
    return found
