"""R5 requests — hard.

Rule: ``require`` pairs are made; ``forbid`` pairs are never made (``requests.csv``).
Why: programs know things the data do not — a personal conflict, a
longitudinal clinic worth continuing — and must be able to say so.

Forbids pairs (``forbid``) and fixes pairs (``require``: the resident's only
arc, or the pair variable fixed to 1). Requests naming an inactive resident
are ignored; a ``require`` naming an inactive coach cannot be met.
"""

from __future__ import annotations

import numpy as np

from coachmatch.constraints.base import Mask, Pairs, Violation
from coachmatch.models import Program

NAME = "R5 requests"
HARD = True


def forbidden(program: Program) -> Mask:
    """True where a ``forbid`` request names the pair."""
    index = program.index
    mask = np.zeros((len(index.resident_ids), len(index.coach_ids)), dtype=bool)
    for request in program.requests:
        if request.kind == "forbid":
            mask[index.resident[request.resident_id], index.coach[request.coach_id]] = True
    return mask


def required(program: Program) -> list[tuple[str, str]]:
    """(resident_id, coach_id) of every ``require`` request of an active resident."""
    active = {r.resident_id for r in program.residents if r.active}
    return [
        (q.resident_id, q.coach_id)
        for q in program.requests
        if q.kind == "require" and q.resident_id in active
    ]


def why(program: Program, resident_id: str, coach_id: str) -> str | None:
    """The sentence that excludes the pair, or None."""
    for request in program.requests:
        if (request.resident_id, request.coach_id, request.kind) == (
            resident_id,
            coach_id,
            "forbid",
        ):
            reason = f" ({request.reason})" if request.reason else ""
            return f"a forbid request for {resident_id} and {coach_id}{reason}"
    for r, c in required(program):
        if r == resident_id and c != coach_id:
            return f"{resident_id} is required to be coached by {c}"
    return None


def check(program: Program, pairs: Pairs) -> list[Violation]:
    """Forbidden pairs that were made and required pairs that were not.

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("medium")
    >>> request = next(q for q in program.requests if q.kind == "forbid")
    >>> check(program, [(request.resident_id, request.coach_id)])[0].rule
    'R5 requests'
    """
    made = set(pairs)
    found = []
    for request in program.requests:
        pair = (request.resident_id, request.coach_id)
        reason = f" ({request.reason})" if request.reason else ""
        if request.kind == "forbid" and pair in made:
            found.append(
                Violation(
                    NAME,
                    f"{pair[0]} is paired with {pair[1]} despite a forbid request{reason}",
                    *pair,
                )
            )
    for pair in required(program):
        if pair not in made:
            found.append(
                Violation(
                    NAME, f"{pair[0]} is not paired with {pair[1]} despite a require request", *pair
                )
            )
    return found
