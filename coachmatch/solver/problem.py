"""The matching problem both solvers share: eligible arcs, their data, and the level weights.

Only pairs the rules allow become arcs (DESIGN: model size follows allowed pairs).
Arrays here are indexed by *arc*; ``resident`` and ``coach`` give each arc's
position among the active residents and coaches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from coachmatch.affinity import affinity_matrix, respondents
from coachmatch.constraints import Eligibility, eligibility
from coachmatch.constraints.r5_requests import changing, required
from coachmatch.models import Program

__all__ = ["MatchingProblem", "build_problem"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class MatchingProblem:
    """Eligible arcs of one program, ready for a solver.

    Attributes
    ----------
    matrix : numpy.ndarray of uint8, shape (residents, coaches)
        Every pair's affinity (prefer bonus included), in the Program's row order.
    residents, coaches : numpy.ndarray of int64
        Program row numbers of the active residents and coaches; positions in these
        arrays number the solver's residents and coaches.
    resident, coach : numpy.ndarray of int64
        Each arc's resident and coach position, arcs sorted by resident then coach.
    affinity : numpy.ndarray of int64
        Each arc's affinity (prefer bonus included).
    kept : numpy.ndarray of bool
        Arcs to the resident's current coach (O1 counts them when ``keep_current``),
        except for residents who asked for a change (SPEC 1.1).
    respondent : numpy.ndarray of bool
        Per active resident: answered the survey (or has a program affinity); O2
        raises the smallest affinity among these only (SPEC 1.1).
    capacity, min_load : numpy.ndarray of int64
        Per active coach.
    required : dict of int to int
        Resident position -> coach position of a ``require`` request; the
        resident's other arcs are already removed.
    as_of : datetime.date or None
        A re-plan's date, from which R7 judges whether pairs can meet.
    """

    program: Program
    eligibility: Eligibility
    matrix: npt.NDArray[np.integer]
    residents: IntArray
    coaches: IntArray
    resident: IntArray
    coach: IntArray
    affinity: IntArray
    kept: BoolArray
    respondent: BoolArray
    capacity: IntArray
    min_load: IntArray
    required: dict[int, int]
    allow_unmatched: bool
    as_of: date | None = None

    @property
    def n_residents(self) -> int:
        return len(self.residents)

    @property
    def n_coaches(self) -> int:
        return len(self.coaches)

    @property
    def n_arcs(self) -> int:
        return len(self.resident)

    @cached_property
    def kept_arcs(self) -> IntArray:
        """The arcs ``kept`` marks, by number (a few hundred of ~10^6); computed once."""
        arcs: IntArray = np.flatnonzero(self.kept)
        return arcs

    @cached_property
    def respondent_arc(self) -> BoolArray:
        """Per arc: its resident answered the survey (the arcs O2 counts); computed once."""
        counted: BoolArray = self.respondent[self.resident]
        return counted

    def fairness_ceiling(self) -> int:
        """No O2 value can exceed this: the best option of the worst-off respondent who
        must be matched; with unmatched residents allowed, the best affinity among
        respondents' allowed pairs. A matching that leaves every respondent unmatched
        counts as reaching it, so leaving respondents out never beats matching them."""
        counted = self.respondent_arc
        if self.allow_unmatched:
            return int(self.affinity[counted].max()) if counted.any() else 0
        best_option = np.zeros(self.n_residents, dtype=np.int64)
        np.maximum.at(best_option, self.resident, self.affinity)
        return int(best_option[self.respondent].min()) if self.respondent.any() else 0

    @property
    def fair(self) -> bool:
        """Whether O2 applies: ``fairness = "maxmin"`` and someone answered the survey."""
        return self.program.policy.fairness == "maxmin" and bool(self.respondent.any())

    def level_weights(self) -> tuple[int, int]:
        """Exact lexicographic multipliers (W1 for O1, W3 for O3; O4 has weight 1).

        W3 exceeds the widest possible spread of the O4 term (the sum over coaches
        of the unit-arc costs 2k-1 above their minimum load), and W1 exceeds
        W3 times the widest spread of total affinity, so a unit of a higher level
        always outweighs every possible change of the levels below it.
        """
        o4_spread = int(np.sum(self.capacity**2 - self.min_load**2))
        w3 = o4_spread + 1
        w1 = (100 * self.n_residents + 1) * w3
        return w1, w3


def build_problem(
    program: Program, *, allow_unmatched: bool = False, as_of: date | None = None
) -> MatchingProblem:
    """Gather the arcs and data of ``program``'s matching problem.

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> problem = build_problem(synthetic("small"))
    >>> problem.n_residents, problem.n_coaches, problem.n_arcs > 0
    (60, 20, True)
    """
    index = program.index
    elig = eligibility(program, as_of=as_of)
    matrix = affinity_matrix(program, compact=True)  # uint8: a tenth of the memory to touch
    residents = np.flatnonzero(index.active_residents).astype(np.int64)
    coaches = np.flatnonzero(index.active_coaches).astype(np.int64)
    every_resident = len(residents) == len(index.resident_ids)
    every_coach = len(coaches) == len(index.coach_ids)

    def active(table: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """``table``'s rows and columns of active people, gathered only where someone
        is inactive: rows at once, then columns (no index grid); else ``table`` itself."""
        out = table if every_resident else table[residents]
        return out if every_coach else out[:, coaches]

    allowed = active(elig.allowed)
    requires = required(program)
    if requires and allowed is elig.allowed:
        allowed = allowed.copy()  # changed below for required pairs
    resident_pos = {int(row): k for k, row in enumerate(residents)}
    coach_pos = {int(row): k for k, row in enumerate(coaches)}
    fixed: dict[int, int] = {}
    for resident_id, coach_id in requires:
        r = resident_pos[index.resident[resident_id]]
        c = coach_pos.get(index.coach[coach_id], -1)
        if r in fixed:
            continue  # contradicting requires are reported by the diagnosis
        fixed[r] = c
        keep = allowed[r, c] if c >= 0 else False
        allowed[r] = False
        if c >= 0:
            allowed[r, c] = keep
    arcs = np.flatnonzero(allowed)  # row-major, as np.nonzero, without its 2-D walk
    arc_r, arc_c = np.divmod(arcs, max(allowed.shape[1], 1))
    current = np.full(len(residents), -1, dtype=np.int64)
    moving = changing(program)
    for k, row in enumerate(residents):
        resident = program.residents[row]
        if resident.current_coach_id is not None and resident.resident_id not in moving:
            current[k] = coach_pos.get(index.coach[resident.current_coach_id], -1)
    kept = (
        (current[arc_r] == arc_c)
        if program.policy.keep_current
        else np.zeros(len(arc_r), dtype=bool)
    )
    return MatchingProblem(
        program=program,
        eligibility=elig,
        matrix=matrix,
        residents=residents,
        coaches=coaches,
        resident=arc_r,  # int64 already: no copies
        coach=arc_c,
        affinity=np.take(active(matrix), arcs).astype(np.int64),
        kept=kept,
        respondent=respondents(program)[residents],
        capacity=index.capacity[coaches],
        min_load=index.min_load[coaches],
        required=fixed,
        allow_unmatched=allow_unmatched,
        as_of=as_of,
    )
