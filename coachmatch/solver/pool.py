"""Very large pools: solve on candidate pairs, prove the answer on every pair (issue 13, item 7).

A single pool of 30,000 residents and 7,500 coaches has 225 million pairs: their arc
arrays alone would not fit in memory, let alone a flow network over them. This path
never builds them:

- the pool is kept as two dense matrices over active residents × active coaches, the
  eligibility mask (bool) and the affinity (uint8, computed a block of residents at a
  time) — about 450 MB for that pool;
- the matching problem holds only *candidate* pairs: each resident's and each coach's
  ``k`` best allowed pairs (ties broken by a fixed scramble), the current pairs and the
  required ones; :func:`~coachmatch.solver.flow.solve_flow` solves all four levels
  exactly on them;
- then every decision that the answer rests on is *proven* for the whole pool by
  linear-programming duality — each proof re-solves that decision's flow on the
  candidates, takes node potentials from its residual graph, and prices every pair of
  the pool, block by block, under them (:func:`_priced`):

  - O1 (and O3/O4 under it): the weighted solve without the fairness threshold is
    optimal on all pairs;
  - O2: no larger threshold keeps O1's optimum — the solve at the next threshold is
    optimal on all pairs and falls short (or, with everyone keeping their coach,
    needs the artificial node, which proves no flow exists);
  - O3/O4: the weighted solve at the threshold found is optimal on all pairs;
  - infeasible candidates: a feasibility flow whose optimum needs the artificial node.

  A pair with a negative reduced cost disproves that decision: the pairs found join
  the candidates and everything is solved again. The loop ends (the candidates only
  grow) with every decision proven; the result reports how.

R7 (can meet) is judged lazily (:meth:`Pool.judge`): for the candidates, and for the
pairs pricing finds below zero, before they join — about 1 % of a large pool, where
judging every pair would take minutes. A pair never judged has a non-negative reduced
cost under the final potentials, so whether R7 allows it cannot change the optimum:
the proof holds over the pairs R2-R6 allow, a superset of the allowed ones.

Scope: ``match()`` takes this path for pools of :data:`POOL_CELLS` active pairs and more
when every resident must be matched (``allow_unmatched=False``).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

from coachmatch._arrays import distinct
from coachmatch.affinity import affinity_matrix, respondents
from coachmatch.constraints import PAIR_RULES, Eligibility, r7_can_meet
from coachmatch.constraints.r5_requests import changing, required
from coachmatch.models import Program
from coachmatch.results import PruningProof
from coachmatch.solver.flow import FlowResult, _at_least, _keep_everyone, _Network, solve_flow
from coachmatch.solver.problem import BoolArray, IntArray, MatchingProblem

__all__ = ["POOL_CELLS", "Pool", "build_pool", "solve_pool"]

log = logging.getLogger("coachmatch")

POOL_CELLS = 20_000_000
"""Active residents × active coaches from which ``match()`` takes this path."""

POOL_K = 24
"""Each resident's and each coach's best pairs among the first candidates."""

_BLOCK_CELLS = 1 << 22  # pairs priced at a time (int64 temporaries of 32 MB)

#: how progress lines count a pool whose R7 is judged lazily
_R7_NOTE = " (R7 judged only where the proof needs it)"


class _LazyMasks(Mapping[str, Any]):
    """Each pair rule's own mask, computed when asked (the diagnosis of an infeasible
    pool asks; a solved one never does) instead of held for every rule at once."""

    def __init__(self, program: Program, as_of: date | None) -> None:
        self._program, self._as_of = program, as_of
        self._names = [rule.NAME for rule in PAIR_RULES]
        self._done: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._done:
            rule = next(r for r in PAIR_RULES if name == r.NAME)
            if rule is r7_can_meet:
                self._done[name] = _CannotMeet(self._program, self._as_of)
            else:
                self._done[name] = _Packed(rule.forbidden(self._program))
        return self._done[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


class _Packed:
    """A pool-sized mask kept as bits (an eighth of the memory), read a row at a time
    as ``mask[row, cols]``."""

    def __init__(self, mask: BoolArray) -> None:
        self._bits = np.packbits(mask, axis=1)
        self._width = mask.shape[1]

    def __getitem__(self, key: tuple[int, Any]) -> Any:
        row, cols = key  # one resident's row, as the diagnosis reads it
        return np.unpackbits(self._bits[int(row)], count=self._width).astype(bool)[cols]


class _CannotMeet:
    """R7's mask, judged for the cells asked for only (``mask[row, cols]``, program rows):
    a pool judges R7 for the pairs its proof needs, not for every pair."""

    def __init__(self, program: Program, as_of: date | None) -> None:
        self._program, self._as_of = program, as_of

    def __getitem__(self, key: tuple[Any, Any]) -> Any:
        rows, cols = np.broadcast_arrays(*(np.asarray(k, dtype=np.int64) for k in key))
        index = self._program.index
        active = index.active_residents[rows] & index.active_coaches[cols]
        out = np.zeros(rows.shape, dtype=bool)
        if self._program.policy.must_meet and active.any():
            out[active] = ~r7_can_meet.can_meet(
                self._program, rows[active], cols[active], start=self._as_of
            )
        return out if out.ndim else bool(out)


@dataclass(frozen=True)
class Pool:
    """Every pair of a pool, densely: over active residents × active coaches.

    Attributes
    ----------
    allowed : numpy.ndarray of bool
        The pairs the rules allow (a ``require`` leaves its resident one).
    affinity : numpy.ndarray of uint8
        Each pair's affinity (prefer bonus included).
    current : numpy.ndarray of int64
        Per resident, the coach position O1 counts (-1: none, or ``keep_current`` off).
    program, residents, coaches, as_of
        The program, the program rows of the positions, the R7 start.
    unjudged : numpy.ndarray of bool or None
        Pairs whose R7 verdict is not known yet (None: R7 is off or fully applied).
    """

    allowed: BoolArray
    affinity: npt.NDArray[np.uint8]
    current: IntArray
    program: Program
    residents: IntArray
    coaches: IntArray
    as_of: date | None = None
    unjudged: BoolArray | None = None

    @property
    def pairs(self) -> int:
        """Allowed pairs in all (with R7 judged lazily: those it has not ruled out)."""
        return int(self.allowed.sum())

    def judge(self, rows: IntArray, cols: IntArray) -> BoolArray:
        """Judge R7 (can meet) for the pairs (positions) not judged yet, rule out those
        that cannot meet, and say which of the pairs are allowed.

        With ``must_meet`` a pool judges R7 lazily — only for the pairs that become
        candidates or that pricing finds below zero (about 1 % of a large pool): a pair
        never judged has a non-negative reduced cost, so whether it may be made cannot
        change the optimum, and the proof holds over the pairs R2-R6 allow, a superset.
        """
        if self.unjudged is not None and len(rows):
            new = self.unjudged[rows, cols]
            if new.any():
                r, c = rows[new], cols[new]
                ok = r7_can_meet.can_meet(
                    self.program, self.residents[r], self.coaches[c], start=self.as_of
                )
                self.unjudged[r, c] = False
                self.allowed[r[~ok], c[~ok]] = False
        out: BoolArray = self.allowed[rows, cols]
        return out

    def kept(self, lo: int, hi: int) -> BoolArray:
        """Kept pairs (allowed current pairs) of resident positions lo..hi."""
        n_c = self.allowed.shape[1]
        out: BoolArray = self.current[lo:hi, None] == np.arange(n_c)[None, :]
        out &= self.allowed[lo:hi]
        return out


def _scramble(lo: int, hi: int, n_c: int) -> npt.NDArray[np.int32]:
    """A fixed pseudo-random 20-bit number per pair of rows lo..hi (tie-break)."""
    rows = (np.arange(lo, hi, dtype=np.int64) * 2654435761) % (1 << 20)
    cols = (np.arange(n_c, dtype=np.int64) * 40503 + 12345) % (1 << 20)
    out: npt.NDArray[np.int32] = np.bitwise_xor.outer(rows.astype(np.int32), cols.astype(np.int32))
    return out


def _candidates(pool: Pool, k: int, k_coach: int) -> tuple[IntArray, IntArray]:
    """(resident, coach) of each resident's ``k`` and each coach's ``k_coach`` best
    allowed pairs, and the kept ones."""
    n_r, n_c = pool.allowed.shape
    if n_r == 0 or n_c == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    step = max(1, _BLOCK_CELLS // max(n_c, 1))
    rows, cols = [], []
    best_keys, best_rows = [], []
    for lo in range(0, n_r, step):
        hi = min(lo + step, n_r)
        key = _scramble(lo, hi, n_c)
        key |= pool.affinity[lo:hi].astype(np.int32) << 20
        key[~pool.allowed[lo:hi]] = -1
        # each resident's k best
        if n_c > k:
            top = np.argpartition(key, n_c - k, axis=1)[:, n_c - k :]
        else:
            top = np.broadcast_to(np.arange(n_c), (hi - lo, n_c))
        r = np.broadcast_to(np.arange(lo, hi)[:, None], top.shape)
        ok = np.take_along_axis(key, top, axis=1) >= 0
        rows.append(r[ok])
        cols.append(top[ok])
        # each coach's k best within these residents (merged over blocks below)
        if hi - lo > k_coach:
            part = np.argpartition(key, hi - lo - k_coach, axis=0)[hi - lo - k_coach :]
        else:
            part = np.broadcast_to(np.arange(hi - lo)[:, None], (hi - lo, n_c))
        best_keys.append(np.take_along_axis(key, part, axis=0))
        best_rows.append(part + lo)
        # kept pairs
        kept_r, kept_c = np.nonzero(pool.kept(lo, hi))
        rows.append(kept_r + lo)
        cols.append(kept_c)
    keys, owners = np.concatenate(best_keys), np.concatenate(best_rows)
    if len(keys) > k_coach:
        pick = np.argpartition(keys, len(keys) - k_coach, axis=0)[len(keys) - k_coach :]
        keys = np.take_along_axis(keys, pick, axis=0)
        owners = np.take_along_axis(owners, pick, axis=0)
    ok = keys >= 0
    rows.append(owners[ok])
    cols.append(np.broadcast_to(np.arange(n_c), owners.shape)[ok])
    pairs = distinct(np.concatenate(rows) * n_c + np.concatenate(cols))
    return pairs // n_c, pairs % n_c


def _judged_candidates(
    pool: Pool, k: int, k_coach: int, min_load: IntArray
) -> tuple[IntArray, IntArray]:
    """:func:`_candidates`, R7 judged for them; a resident left without a candidate, or a
    coach with a minimum load left with fewer than ``k_coach``, has every pair judged
    (the checks that need no solve read the candidates: they must not miss a pair)."""
    rows, cols = _candidates(pool, k, k_coach)
    if pool.unjudged is None:
        return rows, cols
    ok = pool.judge(rows, cols)
    rows, cols = rows[ok], cols[ok]
    n_r, n_c = pool.allowed.shape
    has = np.zeros(n_r, dtype=bool)
    has[rows] = True
    extra_r, extra_c = [rows], [cols]
    for resident in np.flatnonzero(~has & pool.allowed.any(axis=1)).tolist():
        theirs = np.flatnonzero(pool.allowed[resident])
        theirs = theirs[pool.judge(np.full(len(theirs), resident), theirs)]
        extra_r.append(np.full(len(theirs), resident))
        extra_c.append(theirs)
    count = np.bincount(cols, minlength=n_c)
    for coach in np.flatnonzero((min_load > 0) & (count < k_coach)).tolist():
        theirs = np.flatnonzero(pool.allowed[:, coach])
        theirs = theirs[pool.judge(theirs, np.full(len(theirs), coach))]
        extra_r.append(theirs)
        extra_c.append(np.full(len(theirs), coach))
    pairs = distinct(np.concatenate(extra_r) * n_c + np.concatenate(extra_c))
    return pairs // n_c, pairs % n_c


def build_pool(
    program: Program, *, as_of: date | None = None, k: int | None = None
) -> tuple[MatchingProblem, Pool]:
    """The candidate problem and the dense pool of ``program`` (see the module).

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> problem, pool = build_pool(synthetic("small"), k=2)
    >>> problem.n_arcs < pool.pairs
    True
    """
    k = POOL_K if k is None else k
    index = program.index
    allowed_all = np.outer(index.active_residents, index.active_coaches)
    # a & ~b as a > b: no temporary the size of the pool; R7 is judged lazily (Pool.judge)
    for rule in PAIR_RULES:
        if rule is not r7_can_meet:
            np.greater(allowed_all, rule.forbidden(program), out=allowed_all)
    matrix = affinity_matrix(program, compact=True).view(np.uint8)
    residents = np.flatnonzero(index.active_residents).astype(np.int64)
    coaches = np.flatnonzero(index.active_coaches).astype(np.int64)
    everyone_active = len(residents) == len(index.resident_ids) and len(coaches) == len(
        index.coach_ids
    )
    fixes = required(program)
    if everyone_active:
        # a require narrows its resident's row: then (only) the mask is copied
        allowed = allowed_all.copy() if fixes else allowed_all
        affinity = matrix
    else:
        allowed = allowed_all[np.ix_(residents, coaches)]
        affinity = matrix[np.ix_(residents, coaches)]
    resident_pos = {int(row): p for p, row in enumerate(residents)}
    coach_pos = {int(row): p for p, row in enumerate(coaches)}
    fixed: dict[int, int] = {}
    for resident_id, coach_id in fixes:
        r = resident_pos[index.resident[resident_id]]
        c = coach_pos.get(index.coach[coach_id], -1)
        if r in fixed:
            continue  # contradicting requires are reported by the diagnosis
        fixed[r] = c
        keep = bool(allowed[r, c]) if c >= 0 else False
        allowed[r] = False
        if c >= 0:
            allowed[r, c] = keep
    current = np.full(len(residents), -1, dtype=np.int64)
    if program.policy.keep_current:
        moving = changing(program)
        for p, row in enumerate(residents):
            resident = program.residents[row]
            if resident.current_coach_id is not None and resident.resident_id not in moving:
                current[p] = coach_pos.get(index.coach[resident.current_coach_id], -1)
    unjudged = allowed.copy() if program.policy.must_meet else None
    pool = Pool(allowed, affinity, current, program, residents, coaches, as_of, unjudged)
    capacity = index.capacity[coaches]
    min_load = index.min_load[coaches]
    k_coach = k + int(min_load.max(initial=0))
    arc_r, arc_c = _judged_candidates(pool, k, k_coach, min_load)
    problem = MatchingProblem(
        program=program,
        eligibility=Eligibility(allowed_all, _LazyMasks(program, as_of)),  # type: ignore[arg-type]
        matrix=matrix,  # uint8, as build_problem's
        residents=residents,
        coaches=coaches,
        resident=arc_r,
        coach=arc_c,
        affinity=affinity[arc_r, arc_c].astype(np.int64),
        kept=current[arc_r] == arc_c,
        respondent=respondents(program)[residents],
        capacity=capacity,
        min_load=min_load,
        required=fixed,
        allow_unmatched=False,
        as_of=as_of,
    )
    return problem, pool


def _extend(
    problem: MatchingProblem, pool: Pool, rows: IntArray, cols: IntArray
) -> MatchingProblem:
    """The candidate problem with pairs (rows, cols) added, arcs kept sorted."""
    n_c = problem.n_coaches
    pairs = distinct(np.r_[problem.resident * n_c + problem.coach, rows * n_c + cols])
    arc_r, arc_c = pairs // n_c, pairs % n_c
    return dataclasses.replace(
        problem,
        resident=arc_r,
        coach=arc_c,
        affinity=pool.affinity[arc_r, arc_c].astype(np.int64),
        kept=pool.current[arc_r] == arc_c,
    )


@dataclass(frozen=True)
class _Spec:
    """One flow decision: pair costs ``-(a * affinity + b * kept)``, open where allowed,
    at or above ``threshold`` for respondents, and — with ``everyone`` — only the kept
    pair of a resident who has one; coach units cost 2k-1 with ``units``; with
    ``artificial`` > 0, a node any resident may reach at that cost."""

    a: int
    b: int
    threshold: int | None
    everyone: bool
    units: bool
    artificial: int = 0


def _open_arcs(problem: MatchingProblem, spec: _Spec) -> BoolArray:
    arcs = np.ones(problem.n_arcs, dtype=bool)
    if spec.everyone:
        arcs &= _keep_everyone(problem)
    if spec.threshold is not None:
        arcs &= _at_least(problem, spec.threshold)
    return arcs


def _priced(
    problem: MatchingProblem, pool: Pool, spec: _Spec
) -> tuple[int | None, bool, IntArray, IntArray]:
    """Solve ``spec`` on the candidates and price every pair of the pool under its
    potentials: (optimal cost, whether the artificial node carries flow, rows and
    columns of pool pairs with a negative reduced cost — none: the candidates' optimum
    is the pool's)."""
    cost = -(spec.a * problem.affinity + spec.b * problem.kept.astype(np.int64))
    net = _Network(
        problem,
        cost,
        unit_costs=spec.units,
        unmatched_cost=0,
        unmatched_cap=0,
        artificial=spec.artificial,
    )
    net.open(_open_arcs(problem, spec), closed_unmatched=problem.kept if spec.everyone else None)
    value = net.solve()
    if value is None:
        empty = np.zeros(0, dtype=np.int64)
        return None, False, empty, empty
    through_a = net.artificial_arcs is not None and bool(net.flow.flows(net.artificial_arcs).any())
    rows, cols = _scan(problem, pool, spec, *_node_potentials(problem, net))
    return value, through_a, rows, cols


def _node_potentials(problem: MatchingProblem, net: _Network) -> tuple[IntArray, IntArray]:
    """The potentials of a solved network's resident and coach nodes."""
    pi = net.potentials()
    if pi is None:  # pragma: no cover - an optimal flow has no negative cycle
        raise RuntimeError("the candidates' flow has a negative cycle")
    return (
        pi[net.first_r : net.first_r + problem.n_residents],
        pi[net.first_c : net.first_c + problem.n_coaches],
    )


def _scan(
    problem: MatchingProblem, pool: Pool, spec: _Spec, pi_r: IntArray, pi_c: IntArray
) -> tuple[IntArray, IntArray]:
    """:func:`_scan_once`, R7 judged for the pairs found: those that cannot meet are
    ruled out, and when all found were, the pool is priced again (a pair ruled out can
    have hidden others of its resident behind the per-resident limit)."""
    while True:
        rows, cols = _scan_once(problem, pool, spec, pi_r, pi_c)
        if pool.unjudged is None or not len(rows):
            return rows, cols
        ok = pool.judge(rows, cols)
        if ok.any():
            return rows[ok], cols[ok]


def _scan_once(
    problem: MatchingProblem, pool: Pool, spec: _Spec, pi_r: IntArray, pi_c: IntArray
) -> tuple[IntArray, IntArray]:
    """Pool pairs outside the candidates, open under ``spec``, whose reduced cost under
    (pi_r, pi_c) is negative — per resident at most :data:`_PER_RESIDENT`, the most
    negative (partial pricing: the candidates stay small; the next round finds the
    rest if they are still needed)."""
    n_r, n_c = pool.allowed.shape
    keeper = np.zeros(n_r, dtype=bool)
    keeper[problem.resident[problem.kept]] = True
    bounds = np.searchsorted(problem.resident, np.arange(n_r + 1))
    step = max(1, _BLOCK_CELLS // max(n_c, 1))
    found_r, found_c = [], []
    for lo in range(0, n_r, step):
        hi = min(lo + step, n_r)
        aff = pool.affinity[lo:hi]
        # reduced cost -a*aff - b*kept + pi_r - pi_c < 0; kept pairs are candidates
        # (never priced here), so: pi_r - pi_c < a*aff
        gap = np.subtract.outer(pi_r[lo:hi], pi_c)
        bad = gap < np.multiply(aff, spec.a, dtype=np.int64)
        bad &= pool.allowed[lo:hi]
        if spec.everyone:
            bad[keeper[lo:hi]] = False  # a keeper's one open pair is a candidate
        if spec.threshold is not None:
            bad &= (aff >= spec.threshold) | ~problem.respondent[lo:hi, None]
        known = slice(bounds[lo], bounds[hi])
        bad[problem.resident[known] - lo, problem.coach[known]] = False
        bad_r, bad_c = np.nonzero(bad)
        if _PER_RESIDENT is not None and len(bad_r) > _PER_RESIDENT * (hi - lo):
            value = np.subtract(pi_r[lo + bad_r], pi_c[bad_c])
            value -= spec.a * aff[bad_r, bad_c].astype(np.int64)
            order = np.lexsort((value, bad_r))
            bad_r, bad_c = bad_r[order], bad_c[order]
            first = np.searchsorted(bad_r, bad_r)
            keep = np.arange(len(bad_r)) - first < _PER_RESIDENT
            bad_r, bad_c = bad_r[keep], bad_c[keep]
        found_r.append(bad_r + lo)
        found_c.append(bad_c)
    empty = np.zeros(0, dtype=np.int64)
    rows = np.concatenate(found_r) if found_r else empty
    cols = np.concatenate(found_c) if found_c else empty
    return rows.astype(np.int64), cols.astype(np.int64)


_PER_RESIDENT: int | None = 64


def solve_pool(
    problem: MatchingProblem, pool: Pool, progress: Callable[[str], None] | None = None
) -> tuple[MatchingProblem, FlowResult | None]:
    """Every level exactly on the candidates, every decision proven on the whole pool;
    the (grown) candidate problem and the result (None: no matching exists).

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> problem, pool = build_pool(synthetic("small"), k=2)
    >>> problem, result = solve_pool(problem, pool)
    >>> int((result.assignment >= 0).sum()), result.proof.arcs == pool.pairs
    (60, True)
    """
    note = progress or (lambda message: None)
    rounds = 0
    while True:
        rounds += 1
        solved: list[tuple[IntArray, IntArray, int | None]] = []

        def inspect(net: _Network, threshold: int | None, into: list[Any] = solved) -> None:
            into.append((*_node_potentials(net.problem, net), threshold))

        result = solve_flow(problem, prune=None, inspect=inspect)
        if result is None:
            # infeasible on the candidates: on the pool too only if a feasibility flow
            # needs the artificial node with every pair priced
            spec = _Spec(0, 0, None, everyone=False, units=False, artificial=1)
            _, _, rows, cols = _priced(problem, pool, spec)
            if not len(rows):
                return problem, None
            missing = [(rows, cols)]
        else:
            missing = _disproofs(problem, pool, result, solved)
        added = sum(len(rows) for rows, _ in missing)
        if not added:
            assert result is not None
            pairs = pool.pairs  # a pass over the pool: once
            proof = PruningProof(
                arcs=pairs,
                solved_on=problem.n_arcs,
                k=POOL_K,
                attempts=rounds,
                checked=pairs - problem.n_arcs,
            )
            note(
                f"pool: solved on {problem.n_arcs} of {pairs} pairs the rules leave "
                f"open{_R7_NOTE if pool.unjudged is not None else ''}, every "
                f"decision proven on all of them ({rounds} round(s))"
            )
            return problem, dataclasses.replace(result, proof=proof)
        log.debug("pool round %d: %d pairs priced below zero join the candidates", rounds, added)
        problem = _extend(
            problem,
            pool,
            np.concatenate([rows for rows, _ in missing]),
            np.concatenate([cols for _, cols in missing]),
        )


def _disproofs(
    problem: MatchingProblem,
    pool: Pool,
    result: FlowResult,
    solved: list[tuple[IntArray, IntArray, int | None]],
) -> list[tuple[IntArray, IntArray]]:
    """Pairs of the pool that disprove one of ``result``'s decisions (empty: all hold).

    ``solved``: the potentials of solve_flow's O1/O3/O4 networks — the first without a
    threshold (O1's optimum, and O3/O4 beneath it), then, when O2 raised it, the one at
    the threshold found (O3/O4 there). When O2 did not raise it, the first solution
    already meets the threshold and is optimal on the fewer pairs open at it: pricing
    those is implied by pricing all.
    """
    w1, w3 = problem.level_weights()
    everyone = result.kept_everyone
    b = 0 if everyone else w1
    found = [
        _scan(problem, pool, _Spec(w3, b, threshold, everyone, units=True), pi_r, pi_c)
        for pi_r, pi_c, threshold in solved
    ]
    threshold = result.threshold
    if problem.fair and threshold is not None and threshold < problem.fairness_ceiling():
        # O2: the next threshold must lose O1's optimum on the whole pool too
        best = int(problem.kept[_used(problem, result)].sum())
        if everyone:
            spec = _Spec(0, 0, threshold + 1, True, units=False, artificial=1)
        else:
            spec = _Spec(
                0, 1, threshold + 1, False, units=False, artificial=problem.n_residents + 1
            )
        value, through_a, rows, cols = _priced(problem, pool, spec)
        found.append((rows, cols))
        holds = value is not None and not through_a and (everyone or -value >= best)
        if holds and not len(rows):  # pragma: no cover - solve_flow found it does not
            raise RuntimeError("the next fairness threshold holds on the candidates")
    return found


def _used(problem: MatchingProblem, result: FlowResult) -> BoolArray:
    matched = result.assignment[problem.resident] == problem.coach
    out: BoolArray = matched
    return out
