"""The rules of SPEC §4, one module a rule, and the checks that need no solver.

Pair-level rules (R2, R3, R5 forbid and change, R6, R7) each give a boolean mask of
the pairs they forbid; :func:`eligibility` combines them, with the active people,
into the one mask the solvers build variables from. R7 (can meet) is judged last,
only on the pairs the other rules allow, since it is the costly one. R1 (one coach
each), R4 (caseloads) and R5 ``require`` shape the model itself. Every rule has a ``check()`` that
verifies any matching without the solver; :func:`audit` runs them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from types import ModuleType
from typing import Any

import numpy as np

from coachmatch.constraints import (
    r1_one_coach,
    r2_no_supervisor,
    r3_not_own_decision,
    r4_caseload,
    r5_requests,
    r6_program,
    r7_can_meet,
    s1_length,
    s2_cadence,
    s3_availability,
    s4_place,
)
from coachmatch.constraints.base import Mask, Pairs, Violation, as_pairs
from coachmatch.constraints.meetings import as_meetings
from coachmatch.models import Program

__all__ = [
    "PAIR_RULES",
    "Eligibility",
    "Violation",
    "as_pairs",
    "audit",
    "audit_schedule",
    "eligibility",
    "exclusions",
    "exclusions_of",
    "rule_reason",
]

#: the rules that forbid pairs, in the order reasons are given
PAIR_RULES: tuple[ModuleType, ...] = (
    r2_no_supervisor,
    r3_not_own_decision,
    r5_requests,
    r6_program,
    r7_can_meet,
)


@dataclass(frozen=True)
class Eligibility:
    """Which (resident, coach) pairs the rules allow, and which rule forbids the rest.

    Attributes
    ----------
    allowed : numpy.ndarray of bool, shape (residents, coaches)
        True where an active resident may be coached by an active coach.
    forbidden_by : dict of str to numpy.ndarray of bool
        Each pair rule's own mask (True = that rule forbids the pair).
    """

    allowed: Mask
    forbidden_by: dict[str, Mask]


def eligibility(program: Program, *, as_of: date | None = None) -> Eligibility:
    """The eligibility mask of SPEC §4 (R2, R3, R5, R6, R7 and active people).

    Parameters
    ----------
    program : Program
    as_of : datetime.date, optional
        A re-plan's date: R7 judges whether pairs can meet from then on.

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> mask = eligibility(program).allowed
    >>> mask.shape, bool(mask.any(axis=1)[program.index.active_residents].all())
    ((60, 20), True)
    """
    index = program.index
    forbidden_by = {
        rule.NAME: rule.forbidden(program) for rule in PAIR_RULES if rule is not r7_can_meet
    }
    allowed = np.outer(index.active_residents, index.active_coaches)
    # a & ~b as a > b (booleans): no temporary mask of every pair per rule
    for mask in forbidden_by.values():
        np.greater(allowed, mask, out=allowed)
    cannot_meet = r7_can_meet.forbidden(program, allowed, start=as_of)
    forbidden_by[r7_can_meet.NAME] = cannot_meet
    np.greater(allowed, cannot_meet, out=allowed)
    return Eligibility(allowed, forbidden_by)


def rule_reason(
    rule: ModuleType,
    program: Program,
    resident_id: str,
    coach_id: str,
    *,
    as_of: date | None = None,
) -> str | None:
    """The sentence in which ``rule`` excludes the pair, or None."""
    if rule is r7_can_meet:
        return r7_can_meet.why(program, resident_id, coach_id, start=as_of)
    sentence: str | None = rule.why(program, resident_id, coach_id)
    return sentence


def exclusions(
    program: Program, resident_id: str, coach_id: str, *, as_of: date | None = None
) -> list[str]:
    """Every sentence saying why a pair is not allowed (empty when it is).

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> exclusions(program, "R0001", "C0001")  # doctest: +ELLIPSIS
    [...]
    """
    index = program.index
    reasons = []
    if not program.residents[index.resident[resident_id]].active:
        reasons.append(f"{resident_id} is inactive")
    if not program.coaches[index.coach[coach_id]].active:
        reasons.append(f"{coach_id} is inactive")
    for rule in PAIR_RULES:
        sentence = rule_reason(rule, program, resident_id, coach_id, as_of=as_of)
        if sentence:
            reasons.append(f"{rule.NAME}: {sentence}")
    return reasons


def exclusions_of(
    program: Program,
    resident_id: str,
    coach_ids: list[str],
    *,
    as_of: date | None = None,
) -> dict[str, list[str]]:
    """:func:`exclusions` of one resident with many coaches, R7 judged for all at once.

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> sorted(exclusions_of(program, "R0001", ["C0001", "C0002"]))
    ['C0001', 'C0002']
    """
    index = program.index
    rows = np.full(len(coach_ids), index.resident[resident_id], dtype=np.int64)
    cols = np.array([index.coach[c] for c in coach_ids], dtype=np.int64)
    meets = (
        r7_can_meet.can_meet(program, rows, cols, start=as_of)
        if program.policy.must_meet
        else np.ones(len(coach_ids), dtype=bool)
    )
    out: dict[str, list[str]] = {}
    resident = program.residents[index.resident[resident_id]]
    for coach_id, fine in zip(coach_ids, meets.tolist(), strict=True):
        reasons = [] if resident.active else [f"{resident_id} is inactive"]
        if not program.coaches[index.coach[coach_id]].active:
            reasons.append(f"{coach_id} is inactive")
        for rule in PAIR_RULES:
            if rule is r7_can_meet and fine:
                continue
            sentence = rule_reason(rule, program, resident_id, coach_id, as_of=as_of)
            if sentence:
                reasons.append(f"{rule.NAME}: {sentence}")
        out[coach_id] = reasons
    return out


def audit(
    program: Program, pairs: Any, *, allow_unmatched: bool = False, as_of: date | None = None
) -> list[Violation]:
    """Check any matching against every rule of SPEC §4, without a solver.

    Parameters
    ----------
    program : Program
    pairs : DataFrame or iterable of (resident_id, coach_id)
        A matching from :func:`coachmatch.match`, or one a person edited by
        hand. Rows whose coach is missing (None/NaN) count as unmatched.
    allow_unmatched : bool, default False
        Accept active residents without a coach (R1 relaxed as in SPEC).
    as_of : datetime.date, optional
        A re-plan's date: R7 judges whether pairs can meet from then on.

    Returns
    -------
    list of Violation
        Empty when the matching is valid.

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> [str(v) for v in audit(program, [("R0001", "C0001")])][:1]
    ['R1 one coach: R0002 has no coach']
    """
    made: Pairs = as_pairs(pairs)
    found = r1_one_coach.check(program, made, allow_unmatched=allow_unmatched)
    index = program.index
    known = [(r, c) for r, c in made if r in index.resident and c in index.coach]
    for rule in PAIR_RULES:
        if rule is r7_can_meet:
            found.extend(r7_can_meet.check(program, known, start=as_of))
        else:
            found.extend(rule.check(program, known))
    found.extend(r4_caseload.check(program, known))
    return found


def _known_meetings(
    program: Program, items: list[Any], ends: Any
) -> tuple[list[Any], list[Violation]]:
    """The meetings of people in the program, and a violation for each other one —
    except the history of an ended pair whose people left the program (a re-plan keeps
    it as it was, and it is not re-checked)."""
    index = program.index
    known, found = [], []
    for m in items:
        missing = [
            f"{noun} {value!r}"
            for noun, value, ids in (
                ("resident", m.resident_id, index.resident),
                ("coach", m.coach_id, index.coach),
            )
            if value not in ids
        ]
        if not missing:
            known.append(m)  # an unknown site is S4's to report
        elif (m.resident_id, m.coach_id) not in ends:
            found.append(
                Violation(
                    "meetings",
                    f"{m.meeting_id} names a {' and a '.join(missing)} not in the program",
                    m.resident_id,
                    m.coach_id,
                )
            )
    return known, found


def audit_schedule(
    program: Program,
    meetings: Any,
    pairs: Any = None,
    starts: Any = None,
    ends: Any = None,
) -> list[Violation]:
    """Check any schedule against the rules S1-S4 of SPEC §5, without a solver.

    Parameters
    ----------
    program : Program
    meetings : DataFrame or iterable of mappings
        ``meetings.csv`` columns: meeting_id, resident_id, coach_id, start, end
        (aware, or ISO 8601 with offset), site_id or ``"virtual"``, travel_minutes,
        status. Cancelled meetings are ignored. A schedule a person edited by hand
        is checked the same way.
    pairs : DataFrame or iterable of (resident_id, coach_id), optional
        The pairs that must meet (a matching); a pair without meetings is then a
        violation of S2.
    starts : mapping of (resident_id, coach_id) to date, optional
        Start dates of pairs made during the horizon (S2's first-meeting rule).
    ends : mapping of (resident_id, coach_id) to date, optional
        Last dates of pairs that ended during the horizon (S2 measures their last
        gap to it; no meeting may follow it). A re-planned
        :class:`~coachmatch.results.Schedule` carries ``starts`` and ``ends``. Meetings
        naming a person or site not in the program are violations, except the history
        of an ended pair whose people have left.

    Returns
    -------
    list of Violation
        Empty when the schedule is valid.

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> audit_schedule(synthetic("small"), [], pairs=[("R0001", "C0001")])[0].message
    'R0001 and C0001 have no meeting'
    """
    from coachmatch.timegrid import TimeGrid

    items, found = _known_meetings(program, as_meetings(meetings), ends or {})
    grid = TimeGrid.of(program)
    needed = as_pairs(pairs) if pairs is not None else None
    found += s1_length.check(program, items)
    found += s2_cadence.check(program, items, needed, starts, ends)
    found += s3_availability.check(program, items, grid)
    found += s4_place.check(program, items, grid)
    return found
