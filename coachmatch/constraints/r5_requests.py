"""R5 requests — hard.

Rule: ``require`` pairs are made; ``forbid`` pairs are never made; a ``change`` request
(SPEC 1.1: the resident asks for a new coach) forbids the pair of the resident and the
named coach — the resident's current coach when the request names none — and that
current coach no longer counts for continuity (O1) (``requests.csv``).
Why: programs know things the data do not — a personal conflict, a relationship that
is not working, a longitudinal clinic worth continuing — and must be able to say so.

Forbids pairs (``forbid``, ``change``) and fixes pairs (``require``: the resident's
only arc, or the pair variable fixed to 1). Requests naming an inactive resident are
ignored; a ``require`` naming an inactive coach cannot be met; a ``change`` with no
coach for a resident with no current coach has nothing to forbid.
"""

from __future__ import annotations

import numpy as np

from coachmatch.constraints.base import Mask, Pairs, Violation
from coachmatch.models import Program, Request

NAME = "R5 requests"
HARD = True


def changed_from(program: Program, request: Request) -> str | None:
    """The coach a ``change`` request moves the resident away from (None: no one).

    Examples
    --------
    >>> from coachmatch import Request
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> resident = next(r for r in program.residents if r.current_coach_id)
    >>> ask = Request(resident_id=resident.resident_id, kind="change")
    >>> changed_from(program, ask) == resident.current_coach_id
    True
    """
    if request.coach_id is not None:
        return request.coach_id
    resident = program.residents[program.index.resident[request.resident_id]]
    return resident.current_coach_id


def forbidden_pairs(program: Program) -> dict[tuple[str, str], Request]:
    """(resident_id, coach_id) -> the ``forbid`` or ``change`` request that forbids it."""
    found: dict[tuple[str, str], Request] = {}
    for request in program.requests:
        if request.kind == "forbid" and request.coach_id is not None:
            found.setdefault((request.resident_id, request.coach_id), request)
        elif request.kind == "change":
            coach_id = changed_from(program, request)
            if coach_id is not None:
                found.setdefault((request.resident_id, coach_id), request)
    return found


def changing(program: Program) -> set[str]:
    """Residents with a ``change`` request: their current coach does not count for O1."""
    return {q.resident_id for q in program.requests if q.kind == "change"}


def forbidden(program: Program) -> Mask:
    """True where a ``forbid`` or ``change`` request names the pair."""
    index = program.index
    mask = np.zeros((len(index.resident_ids), len(index.coach_ids)), dtype=bool)
    for resident_id, coach_id in forbidden_pairs(program):
        mask[index.resident[resident_id], index.coach[coach_id]] = True
    return mask


def required(program: Program) -> list[tuple[str, str]]:
    """(resident_id, coach_id) of every ``require`` request of an active resident."""
    active = {r.resident_id for r in program.residents if r.active}
    return [
        (q.resident_id, q.coach_id)
        for q in program.requests
        if q.kind == "require" and q.resident_id in active and q.coach_id is not None
    ]


def _sentence(request: Request, coach_id: str) -> str:
    reason = f" ({request.reason})" if request.reason else ""
    if request.kind == "change":
        return f"{request.resident_id} asked to change coach from {coach_id}{reason}"
    return f"a forbid request for {request.resident_id} and {coach_id}{reason}"


def why(program: Program, resident_id: str, coach_id: str) -> str | None:
    """The sentence that excludes the pair, or None."""
    request = forbidden_pairs(program).get((resident_id, coach_id))
    if request is not None:
        return _sentence(request, coach_id)
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
    for pair, request in forbidden_pairs(program).items():
        if pair in made:
            despite = "a change request" if request.kind == "change" else "a forbid request"
            reason = f" ({request.reason})" if request.reason else ""
            found.append(
                Violation(
                    NAME, f"{pair[0]} is paired with {pair[1]} despite {despite}{reason}", *pair
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
