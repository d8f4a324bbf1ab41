"""R2 no supervisor — hard (when ``policy.no_supervisor``).

Rule: a coach never coaches a resident they supervise on any rotation that
overlaps the horizon.
Why: coaching needs a safe space to talk about struggles; the person who
assesses the resident's clinical work cannot offer it.

Forbids pairs: removes every (resident, supervisor) pair from the eligibility mask.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from coachmatch.constraints.base import Mask, Pairs, RotationColumns, Violation
from coachmatch.models import Program, Rotation

NAME = "R2 no supervisor"
HARD = True


def supervisions(program: Program) -> dict[tuple[str, str], list[Rotation]]:
    """(resident_id, coach_id) -> the horizon rotations where the coach supervises.

    Built once per Program (explaining resident after resident asks again and again);
    treat it as read-only.
    """

    def build() -> dict[tuple[str, str], list[Rotation]]:
        found: dict[tuple[str, str], list[Rotation]] = defaultdict(list)
        coaches = program.index.coach
        for rotation in program.rotations:
            if rotation.end < program.start or rotation.start > program.end:
                continue
            for supervisor in rotation.supervisor_ids:
                if supervisor in coaches:
                    found[rotation.resident_id, supervisor].append(rotation)
        return dict(found)

    table: dict[tuple[str, str], list[Rotation]] = program.index.derived("r2_supervisions", build)
    return table


def forbidden(program: Program) -> Mask:
    """True where the coach supervises the resident (all False when the rule is off)."""
    index = program.index
    mask = np.zeros((len(index.resident_ids), len(index.coach_ids)), dtype=bool)
    if program.policy.no_supervisor:
        # from the rotations' columns (the table of :func:`supervisions` is for reasons):
        # each supervisor of a rotation overlapping the horizon, if a coach
        rotations = RotationColumns.of(program)
        horizon = (program.end - program.start).days
        inside = (rotations.last >= 0) & (rotations.first <= horizon)
        counted = inside[rotations.supervised] & (rotations.supervisor >= 0)
        rows = rotations.resident[rotations.supervised[counted]]
        mask[rows, rotations.supervisor[counted]] = True
    return mask


def _sentence(program: Program, coach_id: str, rotation: Rotation) -> str:
    sites = {s.site_id: s.name for s in program.sites}
    service = f" on {rotation.service}" if rotation.service else ""
    return (
        f"{coach_id} supervises {rotation.resident_id}{service} at "
        f"{sites.get(rotation.site_id, rotation.site_id)}, {rotation.start} to {rotation.end}"
    )


def why(program: Program, resident_id: str, coach_id: str) -> str | None:
    """The sentence that excludes the pair, or None."""
    if not program.policy.no_supervisor:
        return None
    rotations = supervisions(program).get((resident_id, coach_id))
    return _sentence(program, coach_id, rotations[0]) if rotations else None


def check(program: Program, pairs: Pairs) -> list[Violation]:
    """Pairs in which the coach supervises the resident during the horizon.

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> rotation = next(r for r in program.rotations if r.supervisor_ids)
    >>> pair = (rotation.resident_id, rotation.supervisor_ids[0])
    >>> check(program, [pair])[0].message.startswith(pair[1] + " supervises " + pair[0])
    True
    """
    if not program.policy.no_supervisor:
        return []
    table = supervisions(program)
    return [
        Violation(NAME, _sentence(program, c, table[r, c][0]), r, c)
        for r, c in pairs
        if (r, c) in table
    ]
