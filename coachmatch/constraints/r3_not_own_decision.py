"""R3 not own decision — hard (``policy.not_own_decision``).

Rule: with ``"forbid"``, a coach never coaches a resident whose decision panel
they sit on. With ``"recuse"`` the pair is allowed, the coach recuses from that
resident's decision, and the panel must keep at least its quorum of
non-recused members for every resident it decides. ``"off"`` allows all.
Why: a coach who also judges the resident's progression cannot be the
confidant coaching needs; recusal is the fallback for small programs.

A coach sits on a panel when they list it in ``committee_panels`` or the panel
lists them in ``members`` (``panels.csv``). Each resident has one coach, so at
most one member recuses from each decision: in recuse mode a pair is
forbidden exactly when the panel has no member to spare above its quorum.

Forbids pairs: an eligibility mask, as R2.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from operator import attrgetter

import numpy as np

from coachmatch.constraints.base import Mask, Pairs, Violation
from coachmatch.models import Program

NAME = "R3 not own decision"
HARD = True


def _quorums(program: Program) -> dict[str, int | None]:
    return {p.panel_id: p.quorum for p in program.panels}


def _excluded(program: Program, panel: str, members: tuple[str, ...]) -> bool:
    """Whether a member of ``panel`` may not coach a resident it decides."""
    mode = program.policy.not_own_decision
    if mode == "off":
        return False
    if mode == "forbid":
        return True
    quorum = _quorums(program).get(panel)
    return quorum is not None and len(members) - 1 < quorum


def forbidden(program: Program) -> Mask:
    """True where the coach sits on the resident's decision panel and may not coach them."""
    index = program.index
    mask = np.zeros((len(index.resident_ids), len(index.coach_ids)), dtype=bool)
    members = program.panel_members()
    # each panel's excluded coaches once, then every resident it decides at once
    decided: dict[str, list[int]] = {}
    for row, panel in enumerate(map(attrgetter("decision_panel"), program.residents)):
        if panel is not None:
            decided.setdefault(panel, []).append(row)
    for panel, rows in decided.items():
        if panel in members and _excluded(program, panel, members[panel]):
            cols = [index.coach[m] for m in members[panel] if m in index.coach]
            mask[np.ix_(rows, cols)] = True
    return mask


def _sentence(program: Program, resident_id: str, coach_id: str, panel: str) -> str:
    members = program.panel_members()[panel]
    if program.policy.not_own_decision == "forbid":
        return f"{coach_id} sits on panel {panel}, which decides {resident_id}'s progression"
    quorum = _quorums(program).get(panel)
    return (
        f"{coach_id} sits on panel {panel}, which decides {resident_id}'s progression; "
        f"recusing would leave {len(members) - 1} of the quorum of {quorum}"
    )


def _panel_of(program: Program, resident_id: str) -> str | None:
    for resident in program.residents:
        if resident.resident_id == resident_id:
            return resident.decision_panel
    return None


def why(program: Program, resident_id: str, coach_id: str) -> str | None:
    """The sentence that excludes the pair, or None."""
    panel = _panel_of(program, resident_id)
    members = program.panel_members()
    if panel is None or coach_id not in members.get(panel, ()):
        return None
    if not _excluded(program, panel, members[panel]):
        return None
    return _sentence(program, resident_id, coach_id, panel)


def _on_own_panel(
    program: Program, pairs: Iterable[tuple[str, str]]
) -> Iterator[tuple[str, str, str]]:
    """(resident_id, coach_id, panel_id) for pairs whose coach sits on the resident's
    decision panel."""
    members = program.panel_members()
    panel_of = {r.resident_id: r.decision_panel for r in program.residents}
    for r, c in pairs:
        panel = panel_of.get(r)
        if panel is not None and c in members.get(panel, ()):
            yield r, c, panel


def recusals(program: Program, pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """(resident_id, coach_id, panel_id) for each coach who must recuse (recuse mode).

    ``pairs`` is read only in recuse mode (a matching's pairs need not be listed as
    tuples otherwise: thousands of them set off the cyclic collector).

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small").with_policy(not_own_decision="recuse")
    >>> recusals(program, [])
    []
    """
    if program.policy.not_own_decision != "recuse":
        return []
    return list(_on_own_panel(program, pairs))


def check(program: Program, pairs: Pairs) -> list[Violation]:
    """Pairs whose coach decides the resident's progression (forbid), or whose
    recusal would break the panel's quorum (recuse).

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> coach = next(c for c in program.coaches if c.committee_panels)
    >>> resident = next(r for r in program.residents
    ...                 if r.decision_panel in coach.committee_panels)
    >>> len(check(program, [(resident.resident_id, coach.coach_id)]))
    1
    """
    members = program.panel_members()
    return [
        Violation(NAME, _sentence(program, r, c, panel), r, c)
        for r, c, panel in _on_own_panel(program, pairs)
        if _excluded(program, panel, members[panel])
    ]
