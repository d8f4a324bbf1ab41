"""R4 caseload — hard.

Rule: each active coach's number of coachees lies between their min_load and
capacity (``coaches.csv``, else the policy's ``min_caseload`` and
``max_caseload``).
Why: coaches burn out above about four coachees; a minimum spreads the work
and keeps every coach in practice.

Adds to a model: bounds on each coach's flow to the sink (flow) or on the sum
of their pair variables (CP-SAT).
"""

from __future__ import annotations

from collections import Counter

from coachmatch.constraints.base import Pairs, Violation
from coachmatch.models import Program

NAME = "R4 caseload"
HARD = True


def check(program: Program, pairs: Pairs) -> list[Violation]:
    """Coaches above capacity or below their minimum caseload.

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> coach = program.coaches[0]
    >>> too_many = [(r.resident_id, coach.coach_id) for r in program.residents[:9]]
    >>> check(program, too_many)[0].message.startswith(f"{coach.coach_id} has 9 coachees")
    True
    """
    load = Counter(c for _, c in pairs)
    found = []
    for coach in program.coaches:
        if not coach.active:
            continue
        n, cap, low = load.get(coach.coach_id, 0), program.capacity(coach), program.min_load(coach)
        if n > cap:
            found.append(
                Violation(
                    NAME,
                    f"{coach.coach_id} has {n} coachees, above the capacity of {cap}",
                    coach_id=coach.coach_id,
                )
            )
        if n < low:
            found.append(
                Violation(
                    NAME,
                    f"{coach.coach_id} has {n} coachees, below the minimum of {low}",
                    coach_id=coach.coach_id,
                )
            )
    return found
