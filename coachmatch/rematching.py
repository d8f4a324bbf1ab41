"""Re-matching a few residents while every other pair stays, and what changed.

:func:`rematch` answers "R0012 wants a new coach: who moves?" and "C0007 leaves: where
do their coachees go?" — the pairs of an existing matching become everyone's current
coaches (the mechanism ``coachmatch run --previous`` uses, :func:`carry_pairs`), each
named resident gets a ``change`` request (SPEC 1.1), each leaving coach is made
inactive, every other pair is required to stay, and the program is matched again. When
keeping every other pair is impossible (a coach's place is needed), the rest is left to
continuity (O1: as many pairs kept as possible) and the diff says who else moved.

:func:`diff` lists who moved between two matchings, with names and the reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from coachmatch._display import did_you_mean
from coachmatch.constraints import exclusions
from coachmatch.exceptions import InfeasibleError
from coachmatch.explaining import _eligibility
from coachmatch.models import Program, Request
from coachmatch.results import Matching

__all__ = ["Rematch", "carry_pairs", "diff", "rematch"]

_DIFF_COLUMNS = [
    "resident_id",
    "resident_name",
    "from_coach_id",
    "from_coach_name",
    "to_coach_id",
    "to_coach_name",
    "from_affinity",
    "to_affinity",
    "reason",
]


def carry_pairs(program: Program, pairs: Mapping[str, str] | pd.DataFrame) -> Program:
    """The program where each resident's current coach is their coach in ``pairs``.

    Parameters
    ----------
    program : Program
    pairs : DataFrame with resident_id and coach_id, or a mapping resident -> coach
        A matching's pairs (a previous run's ``pairs.csv``). Pairs naming people no
        longer in the program are ignored; residents not listed keep what they have.

    Examples
    --------
    >>> import coachmatch
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> carried = carry_pairs(program, coachmatch.match(program).pairs)
    >>> coachmatch.match(carried).levels["continuity"] == len(carried.residents)
    True
    """
    if isinstance(pairs, pd.DataFrame):
        coach_of = dict(zip(pairs["resident_id"], pairs["coach_id"], strict=True))
    else:
        coach_of = dict(pairs)
    index = program.index
    coach_of = {r: c for r, c in coach_of.items() if c in index.coach}
    return program.replace(
        residents=tuple(
            r.model_copy(update={"current_coach_id": coach_of[r.resident_id]})
            if r.resident_id in coach_of and r.current_coach_id != coach_of[r.resident_id]
            else r
            for r in program.residents
        )
    )


def _names(program: Program) -> tuple[dict[str, str], dict[str, str]]:
    return (
        {r.resident_id: r.name for r in program.residents},
        {c.coach_id: c.name for c in program.coaches},
    )


def _reason(before: Matching, after: Matching, resident_id: str, old: str | None) -> str:
    """Why a resident's coach changed, in the after-program's terms."""
    program = after.program
    index = program.index
    if resident_id not in before.program.index.resident or old is None:
        if resident_id not in before.program.index.resident:
            return "new resident"
        return "was unmatched before"
    if resident_id not in index.resident:
        return "no longer in the program"
    resident = program.residents[index.resident[resident_id]]
    if not resident.active:
        return "no longer active"
    now = after.coach_of(resident_id)
    if now is None:
        why = after.unmatched.loc[after.unmatched["resident_id"] == resident_id, "reason"]
        return f"unmatched: {why.iloc[0]}" if len(why) else "unmatched"
    for request in program.requests:
        if request.resident_id == resident_id and request.kind == "change":
            text = f" ({request.reason})" if request.reason else ""
            return f"asked for a new coach{text}"
    if old not in index.coach:
        return f"{old} is no longer in the program"
    if not program.coaches[index.coach[old]].active:
        return f"{old} left (inactive)"
    excluded = exclusions(program, resident_id, old, as_of=after.as_of)
    if excluded:
        return "; ".join(excluded)
    load = after.caseloads.loc[after.caseloads["coach_id"] == old]
    if len(load) and int(load["caseload"].iloc[0]) >= int(load["capacity"].iloc[0]):
        return f"moved to make room: {old}'s place went to a resident who had to move"
    return "the objective prefers it: a higher level (continuity, fairness, fit, balance)"


def diff(before: Matching, after: Matching) -> pd.DataFrame:
    """Residents whose coach differs between two matchings, with names and reasons.

    Parameters
    ----------
    before, after : Matching
        Two matchings, usually of a program and an edited copy of it.

    Returns
    -------
    pandas.DataFrame
        resident_id, resident_name, from_coach_id, from_coach_name, to_coach_id,
        to_coach_name, from_affinity, to_affinity, reason — one row per resident
        who moved, arrived or left, in resident id order. An empty coach id means
        unmatched (or not in that program).

    Examples
    --------
    >>> import coachmatch
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> first = coachmatch.match(program)
    >>> second = coachmatch.match(program.with_caps(4))
    >>> list(diff(first, second).columns[:3])
    ['resident_id', 'resident_name', 'from_coach_id']
    """
    old = dict(zip(before.pairs["resident_id"], before.pairs["coach_id"], strict=True))
    new = dict(zip(after.pairs["resident_id"], after.pairs["coach_id"], strict=True))
    old_fit = dict(zip(before.pairs["resident_id"], before.pairs["affinity"], strict=True))
    new_fit = dict(zip(after.pairs["resident_id"], after.pairs["affinity"], strict=True))
    residents_before, coaches_before = _names(before.program)
    residents_after, coaches_after = _names(after.program)
    rows: list[dict[str, Any]] = []
    for resident_id in sorted(set(old) | set(new)):
        was, now = old.get(resident_id), new.get(resident_id)
        if was == now:
            continue
        rows.append(
            {
                "resident_id": resident_id,
                "resident_name": residents_after.get(
                    resident_id, residents_before.get(resident_id, "")
                ),
                "from_coach_id": was or "",
                "from_coach_name": coaches_before.get(was, "") if was else "",
                "to_coach_id": now or "",
                "to_coach_name": coaches_after.get(now, "") if now else "",
                "from_affinity": old_fit.get(resident_id, pd.NA),
                "to_affinity": new_fit.get(resident_id, pd.NA),
                "reason": _reason(before, after, resident_id, was),
            }
        )
    frame = pd.DataFrame(rows, columns=_DIFF_COLUMNS)
    for column in ("from_affinity", "to_affinity"):
        frame[column] = frame[column].astype("Int64")
    return frame


@dataclass(frozen=True)
class Rematch:
    """A re-match: the new matching, its program, who moved, and whether every other
    pair could stay.

    Attributes
    ----------
    matching : Matching
        The new matching. Its ``program`` is the one solved: the pairs carried as
        current coaches, the change requests, the leaving coaches made inactive and,
        when ``kept_others``, a ``require`` request (reason "kept by rematch") for
        every other pair.
    changes : pandas.DataFrame
        :func:`diff` of the old matching and the new one.
    kept_others : bool
        True when every pair not named was kept (required); False when that was
        impossible and continuity (O1) kept as many as it could.
    """

    matching: Matching
    changes: pd.DataFrame
    kept_others: bool

    def _repr_html_(self) -> str:
        head = (
            f"<p>{len(self.changes)} residents moved; "
            + ("every other pair kept" if self.kept_others else "others had to move too")
            + "</p>"
        )
        return head + self.changes.to_html(index=False)


def _known(program: Program, ids: Iterable[str], kind: str) -> list[str]:
    table = program.index.resident if kind == "resident" else program.index.coach
    out = []
    for person in [ids] if isinstance(ids, str) else ids:
        if person not in table:
            raise KeyError(f"unknown {kind} {person!r}" + did_you_mean(person, list(table)))
        out.append(person)
    return out


def rematch(
    program: Program,
    matching: Matching,
    *,
    residents: Iterable[str] = (),
    coaches: Iterable[str] = (),
    reason: str = "re-matched on request",
    **options: Any,
) -> Rematch:
    """Re-match only some residents (and the coachees of leaving coaches); keep the rest.

    Parameters
    ----------
    program : Program
        The program now (it may differ from ``matching.program``: new rotations,
        people added or gone).
    matching : Matching
        The pairs in force.
    residents : iterable of str
        Residents who get a new coach: a ``change`` request each, away from their
        coach in ``matching``.
    coaches : iterable of str
        Coaches who leave: made inactive; their coachees are re-matched.
    reason : str
        The change requests' reason.
    **options
        Passed to :func:`coachmatch.match` (``allow_unmatched``, ``as_of``, ...).

    Returns
    -------
    Rematch

    Raises
    ------
    KeyError
        An unknown resident or coach id (with the closest known one).
    InfeasibleError
        When the named residents cannot be re-matched even if others move.

    Examples
    --------
    >>> import coachmatch
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> first = coachmatch.match(program)
    >>> again = rematch(program, first, residents=["R0001"])
    >>> again.changes["resident_id"].tolist(), again.kept_others
    (['R0001'], True)
    """
    from coachmatch.solver import match

    moving = _known(program, residents, "resident")
    leaving = _known(program, coaches, "coach")
    carried = carry_pairs(program, matching.pairs)
    coach_of = dict(zip(matching.pairs["resident_id"], matching.pairs["coach_id"], strict=True))
    asks = [
        Request(resident_id=r, coach_id=coach_of.get(r), kind="change", reason=reason)
        for r in moving
        if coach_of.get(r) is not None
    ]
    edited = carried.add_requests(asks) if asks else carried
    if leaving:
        edited = edited.deactivate(*leaving)
    index = edited.index
    allowed = _eligibility(edited, options.get("as_of")).allowed
    free = set(moving) | {r for r, c in coach_of.items() if c in set(leaving)}
    required = [
        Request(resident_id=r, coach_id=c, kind="require", reason="kept by rematch")
        for r, c in coach_of.items()
        if r not in free
        and r in index.resident
        and c in index.coach
        and allowed[index.resident[r], index.coach[c]]
    ]
    try:
        strict = edited.add_requests(required) if required else edited
        after = match(strict, **options)
        kept_others = True
    except InfeasibleError:
        after = match(edited.with_policy(keep_current=True), **options)
        kept_others = False
    return Rematch(after, diff(matching, after), kept_others)
