"""The min-cost-flow path: all of SPEC v1's matching is flow-shaped.

Network (OR-Tools ``SimpleMinCostFlow``)::

    S --1--> resident --1--> coach ==unit arcs==> T
                     \\--1--> U (unmatched) --m--> T

- S supplies one unit per active resident; R1 is flow conservation.
- Resident -> coach arcs exist only for eligible pairs (R2, R3, R5 forbid, R6),
  a ``require`` leaves the resident one arc (R5).
- R4: a coach's minimum load is a demand on its node; the rest of its capacity
  leaves through unit arcs, the k-th costing 2k-1, so that their sum is the
  coach's caseload squared (O4 is convex, so flow fills the cheap units first).
- U exists only when unmatched residents are allowed; its arc to T carries
  exactly the fewest possible unmatched residents (found first). A resident
  with a ``require`` request has no arc to U: allowing unmatched residents
  relaxes R1, not R5.

Levels are solved lexicographically and exactly: the fewest unmatched (a flow
with cost 1 on the unmatched arcs); then O1, O3 and O4 in one solve with multipliers
that make each level outweigh everything below it
(:meth:`MatchingProblem.level_weights`) — when every resident can keep their current
coach at once (a feasibility test), O1 is settled by closing those residents' other
arcs instead; then O2: the largest affinity threshold (arcs of residents who answered
the survey get capacity 0 below it — SPEC 1.1 counts only them) at which O1's optimum
still holds, by bisection over the affinities above the solution's own smallest one
(a count of the kept arcs left open rejects most thresholds without a solve; the rest
are min-cost or, with everyone kept, feasibility solves). Only when that threshold is
above the first solution's smallest affinity does the O1/O3/O4 solve run again, on
the arcs at or above it: otherwise the first solution is already the best there.

On large problems (:data:`PRUNE_MIN_ARCS` open pairs and more) that O1/O3/O4 solve
runs on each resident's and each coach's few best pairs (and the kept ones) and is then
proven optimal on every open pair by reduced costs, growing the pruned set until the
proof holds or the pairs it flags add up to a small duality gap, which one last solve on
the arcs within that gap settles (reduced-cost fixing; :mod:`coachmatch.solver.pruning`);
the result carries the proof. OR-Tools runs those pruned solves with O1's weight eased to
a few hundred affinity points (:class:`Eased`: ~1.6 times as fast); every flow is checked
under the true weight by its potentials, and solved again under it when it falls short.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

from coachmatch.solver.problem import BoolArray, IntArray, MatchingProblem
from coachmatch.solver.pruning import (
    PruningProof,
    lowest_potentials,
    potentials,
    settle_within_gap,
    top_arcs,
)

__all__ = ["FlowResult", "solve_flow"]

log = logging.getLogger("coachmatch")

S, T, U = 0, 1, 2

PRUNE_K = 8
"""Each side's best pairs a pruned solve starts from (``prune="auto"``)."""
PRUNE_MIN_ARCS = 100_000
"""Open pairs from which ``prune="auto"`` prunes (below, one solve on all is quick)."""
NEAR_POINTS = 3
"""Affinity points: when a pruned round's proof fails, the pairs left out whose reduced
cost is below this many points join with the flagged ones (decision 124)."""
EASED_POINTS = 800
"""O1's weight, in affinity points (multiples of W3), that a pruned solve gives OR-Tools
in place of W1 (:class:`Eased`, decision 126); the flow is then checked under W1."""


@dataclass(frozen=True)
class FlowResult:
    """The optimal assignment (coach position per resident, -1 unmatched) and levels;
    ``proof`` says how a solve on pruned arcs was proven optimal (None: all arcs);
    ``kept_everyone``: O1 was settled by keeping every resident who can keep their
    coach (their other arcs closed) rather than by its weight in the costs."""

    assignment: IntArray
    unmatched: int
    threshold: int | None
    solves: int
    proof: PruningProof | None = None
    kept_everyone: bool = False


@dataclass(frozen=True)
class Eased:
    """O1's weight eased for OR-Tools (decision 126): the kept arcs (``arcs``, a mask over
    the problem's arcs) cost ``relief`` more, the artificial arcs ``artificial``.

    The lexicographic weight W1 makes a solve of the O1/O3/O4 costs ~1.6 times as slow
    as one without it; a weight of a few hundred affinity points mostly reaches the same
    flow. Exactness never rests on it: the flow is checked under the true costs (their
    potentials exist only when it is optimal under them) and solved again under them
    when it is not.
    """

    arcs: BoolArray
    relief: int
    artificial: int


class _Network:
    """One SimpleMinCostFlow graph; arc costs are fixed when built, capacities can change."""

    def __init__(
        self,
        problem: MatchingProblem,
        arc_cost: IntArray,
        *,
        unit_costs: bool,
        unmatched_cost: int,
        unmatched_cap: int,
        subset: IntArray | None = None,
        artificial: int = 0,
        eased: Eased | None = None,
    ) -> None:
        """``arc_cost`` is per problem arc; ``subset`` (arc numbers) limits the pair arcs
        in the network to those (a pruned solve); default every arc. ``artificial`` > 0
        adds a node A that every resident may reach at that cost and that may stand in
        for T and for the coaches' minimum loads: a pruned network stays feasible, and a
        flow through A says that arcs are missing. ``eased``: OR-Tools solves with O1's
        weight eased (:class:`Eased`); the network keeps the true costs, under which
        :meth:`potentials` checks the flow and :meth:`exact` solves again."""
        self.problem = problem
        n_r, n_c = problem.n_residents, problem.n_coaches
        first_r, first_c = 3, 3 + n_r
        self.first_r, self.first_c = first_r, first_c
        self.subset = np.arange(problem.n_arcs) if subset is None else subset
        flow = min_cost_flow.SimpleMinCostFlow()
        # every arc's tail, head and cost in the order added (OR-Tools numbers arcs so)
        tails: list[IntArray] = []
        heads: list[IntArray] = []
        costs: list[IntArray] = []
        capacities: list[IntArray] = []

        def add(
            tail: IntArray,
            head: IntArray,
            cap: IntArray,
            cost: IntArray,
            solver_cost: IntArray | None = None,
        ) -> IntArray:
            capacities.append(cap)
            tails.append(tail)
            heads.append(head)
            costs.append(cost)
            solver = cost if solver_cost is None else solver_cost
            arcs: IntArray = flow.add_arcs_with_capacity_and_unit_cost(tail, head, cap, solver)
            return arcs

        res = np.arange(n_r, dtype=np.int64)
        add(np.full(n_r, S), first_r + res, np.ones(n_r, dtype=np.int64), np.zeros(n_r, np.int64))
        pair_cost = arc_cost[self.subset]
        eased_cost = None
        if eased is not None:
            eased_cost = pair_cost + eased.relief * eased.arcs[self.subset]
        self.pair_arcs = add(
            first_r + problem.resident[self.subset],
            first_c + problem.coach[self.subset],
            np.ones(len(self.subset), dtype=np.int64),
            pair_cost,
            eased_cost,
        )
        self.unmatched_arcs: IntArray | None = None
        if problem.allow_unmatched:
            # a resident with a require request must get that coach: no way out for them
            free = np.setdiff1d(res, np.fromiter(problem.required, dtype=np.int64))
            self.unmatched_residents = free
            self.unmatched_arcs = add(
                first_r + free,
                np.full(len(free), U),
                np.ones(len(free), dtype=np.int64),
                np.full(len(free), unmatched_cost, dtype=np.int64),
            )
            add(np.array([U]), np.array([T]), np.array([unmatched_cap]), np.zeros(1, np.int64))
        low, high = problem.min_load.astype(np.int64), problem.capacity.astype(np.int64)
        room = np.maximum(high - low, 0)
        if unit_costs:
            # the k-th unit above the minimum load, k = low+1 .. high, costs 2k - 1
            coach = np.repeat(np.arange(n_c, dtype=np.int64), room)
            k = np.arange(int(room.sum()), dtype=np.int64) - np.repeat(np.cumsum(room) - room, room)
            coach_tails = first_c + coach
            caps = np.ones(len(coach), dtype=np.int64)
            unit = 2 * (low[coach] + 1 + k) - 1
        else:
            some = np.flatnonzero(room)
            coach_tails, caps = first_c + some, room[some]
            unit = np.zeros(len(some), dtype=np.int64)
        if len(coach_tails):
            add(coach_tails, np.full(len(coach_tails), T, dtype=np.int64), caps, unit)
        n_nodes = 3 + n_r + n_c
        self.artificial_arcs: IntArray | None = None
        if artificial:
            a = n_nodes
            n_nodes += 1
            self.artificial_arcs = add(
                first_r + res,
                np.full(n_r, a),
                np.ones(n_r, dtype=np.int64),
                np.full(n_r, artificial, dtype=np.int64),
                None if eased is None else np.full(n_r, eased.artificial, dtype=np.int64),
            )
            loaded = np.flatnonzero(problem.min_load > 0)
            add(
                np.full(len(loaded) + 1, a),
                np.r_[first_c + loaded, T],
                np.r_[problem.min_load[loaded], n_r],
                np.zeros(len(loaded) + 1, dtype=np.int64),
            )
        self.tails = np.concatenate(tails)
        self.heads = np.concatenate(heads)
        self.costs = np.concatenate(costs)
        self.caps = np.concatenate(capacities)
        supplies = np.zeros(n_nodes, dtype=np.int64)
        supplies[S] = n_r
        supplies[first_c : first_c + n_c] = -problem.min_load
        supplies[T] = -(n_r - int(problem.min_load.sum()))
        flow.set_nodes_supplies(np.arange(len(supplies)), supplies)
        self.supplies = supplies
        self.n_nodes = len(supplies)
        self.flow = flow
        self.solves = 0
        self.eased = eased is not None

    def open(self, arcs: BoolArray, *, closed_unmatched: BoolArray | None = None) -> None:
        """Open exactly the pair arcs in ``arcs`` (a mask over the problem's arcs; those
        outside the network's subset stay out); with ``closed_unmatched`` (a mask over
        arcs), the residents of those arcs lose their way to U (they must be matched)."""
        self.caps[self.pair_arcs] = arcs[self.subset]
        self.flow.set_arc_capacities(self.pair_arcs, self.caps[self.pair_arcs])
        if self.unmatched_arcs is not None:
            caps = np.ones(len(self.unmatched_residents), dtype=np.int64)
            if closed_unmatched is not None:
                must = np.zeros(self.problem.n_residents, dtype=bool)
                must[self.problem.resident[closed_unmatched]] = True
                caps[must[self.unmatched_residents]] = 0
            self.caps[self.unmatched_arcs] = caps
            self.flow.set_arc_capacities(self.unmatched_arcs, caps)

    def solve(self) -> int | None:
        """The optimal cost (of the eased costs, when eased), or None when no flow meets
        the supplies."""
        self.solves += 1
        status = self.flow.solve()
        if status == self.flow.OPTIMAL:
            return int(self.flow.optimal_cost())
        if status == self.flow.INFEASIBLE:
            return None
        raise RuntimeError(f"min-cost flow failed with status {status}")

    def exact(self) -> int | None:
        """Solve again under the true costs (a network solved with eased costs whose flow
        :meth:`potentials` found not optimal under them)."""
        flow = min_cost_flow.SimpleMinCostFlow()
        flow.add_arcs_with_capacity_and_unit_cost(self.tails, self.heads, self.caps, self.costs)
        flow.set_nodes_supplies(np.arange(self.n_nodes), self.supplies)
        self.flow, self.eased = flow, False
        return self.solve()

    def used(self) -> BoolArray:
        """The problem's arcs that carry flow (a mask over all arcs)."""
        out = np.zeros(self.problem.n_arcs, dtype=bool)
        out[self.subset] = self.flow.flows(self.pair_arcs) > 0
        return out

    def assignment(self) -> IntArray:
        used = self.used()
        out = np.full(self.problem.n_residents, -1, dtype=np.int64)
        out[self.problem.resident[used]] = self.problem.coach[used]
        return out

    def potentials(self, *, lowest: bool = False) -> IntArray | None:
        """Node potentials proving the solved flow optimal (reduced costs of every
        residual arc non-negative), from its residual graph; see :mod:`.pruning`.
        ``lowest``: the lowest such potentials (every coach at its highest price)."""
        flows = self.flow.flows(np.arange(len(self.tails)))
        forward = flows < self.caps
        backward = flows > 0
        return (lowest_potentials if lowest else potentials)(
            self.n_nodes,
            np.concatenate([self.tails[forward], self.heads[backward]]),
            np.concatenate([self.heads[forward], self.tails[backward]]),
            np.concatenate([self.costs[forward], -self.costs[backward]]),
        )


def solve_flow(
    problem: MatchingProblem,
    progress: Callable[[str], None] | None = None,
    *,
    prune: int | Literal["auto"] | None = "auto",
    inspect: Callable[[_Network, int | None], None] | None = None,
) -> FlowResult | None:
    """Solve every level exactly by min-cost flow; None when R1-R6 cannot all hold.

    ``prune``: the O1/O3/O4 solve runs on each resident's and coach's ``prune`` best
    pairs and is proven optimal on all pairs by reduced costs (:mod:`.pruning`);
    ``"auto"``: 8, when at least :data:`PRUNE_MIN_ARCS` pairs are open; None: never.
    ``inspect`` (with ``prune=None``) sees each O1/O3/O4 network right after it is
    solved, with the fairness threshold it was solved at (None: none applied); the
    pool path (:mod:`.pool`) takes its node potentials there to price every pair.

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> from coachmatch.solver.problem import build_problem
    >>> result = solve_flow(build_problem(synthetic("small")))
    >>> int((result.assignment >= 0).sum())
    60
    """
    note = progress or (lambda message: None)
    zero = np.zeros(problem.n_arcs, dtype=np.int64)
    solves = 0

    # level 0: the fewest unmatched residents (only when allowed)
    unmatched = 0
    if problem.allow_unmatched:
        net = _Network(
            problem, zero, unit_costs=False, unmatched_cost=1, unmatched_cap=problem.n_residents
        )
        cost = net.solve()
        solves += net.solves
        if cost is None:
            return None
        unmatched = cost
        note(f"fewest unmatched residents: {unmatched}")

    # O1: when every resident can keep their current coach at once (a feasibility test,
    # no costs), the O1 optimum is all of them, and the best solutions are exactly
    # those that keep everyone: their other arcs close and O1 leaves the costs.
    keeping = len(problem.kept_arcs) > 0
    everyone: BoolArray | None = np.ones(problem.n_arcs, dtype=bool)
    if keeping and _over_capacity(problem):
        everyone = None  # some coach cannot keep all their current coachees
    elif keeping:
        everyone = _keep_everyone(problem)
        net = _Network(problem, zero, unit_costs=False, unmatched_cost=0, unmatched_cap=unmatched)
        net.open(everyone, closed_unmatched=problem.kept)
        if net.solve() is None:
            everyone = None  # not all at once: O1 needs its own optimization below
        else:
            note(f"continuity: all {int(problem.kept.sum())} can keep their current coach")
        solves += net.solves
    open_arcs = np.ones(problem.n_arcs, dtype=bool) if everyone is None else everyone

    # O1 (unless settled above), O3 and O4 in one exact solve; its O1 value is O1's
    # optimum, and its smallest affinity among respondents a threshold O2 can reach
    w1, w3 = problem.level_weights()
    final_cost = problem.affinity * -w3
    if everyone is None:
        final_cost[problem.kept_arcs] -= w1  # O1's weight, on the kept arcs only
    closed = problem.kept if everyone is not None else None
    # a pruned solve gives OR-Tools O1's weight eased (unless W1 is that small already),
    # and checks the flow under W1
    relief = w1 - EASED_POINTS * w3
    ease = (problem.kept, relief) if everyone is None and keeping and relief > 0 else None
    final = _Final(problem, final_cost, closed, unmatched, prune, inspect, point=w3, ease=ease)
    used = final.solve(open_arcs)
    if used is None:
        return None
    if final.proof is not None:
        proof = final.proof
        note(
            f"solved on {proof.solved_on} of {proof.arcs} allowed pairs, proven optimal "
            f"on all of them by reduced costs ({proof.attempts} pruned solve(s)"
            + (f", the last within a reduced-cost gap of {proof.gap})" if proof.gap else ")")
        )

    # O2: the largest affinity threshold at which O1's optimum still holds; when it is
    # above the solution's own smallest affinity, the final solve runs again on the
    # arcs at or above it (otherwise the solution found is already best there)
    threshold: int | None = None
    if problem.fair and problem.n_arcs:
        high = problem.fairness_ceiling()
        counted = used & problem.respondent_arc
        low = int(problem.affinity[counted].min()) if counted.any() else 0
        if high <= 0:
            threshold = 0  # every solution reaches the ceiling
        else:
            best = int(problem.kept[used].sum())
            threshold, tests = _fairness(problem, everyone, unmatched, best, low, high)
            solves += tests
            if threshold > low:
                used = final.solve(open_arcs & _at_least(problem, threshold), threshold)
                if used is None:  # pragma: no cover - the threshold was feasible
                    raise RuntimeError("the fairness threshold found is not feasible")
        note(f"fairness: smallest affinity {threshold}")
    solves += final.solves
    log.debug("flow path: %d solves", solves)
    assignment = np.full(problem.n_residents, -1, dtype=np.int64)
    assignment[problem.resident[used]] = problem.coach[used]
    return FlowResult(
        assignment, unmatched, threshold, solves, final.proof, kept_everyone=everyone is not None
    )


class _Final:
    """The O1/O3/O4 solve, on every open arc or on a pruned set proven by reduced costs.

    ``prune``: each side's best pairs to keep (``k``), ``"auto"`` (8, on problems
    with at least :data:`PRUNE_MIN_ARCS` open arcs) or None (never prune). ``point``:
    the cost of one affinity point (O3's weight), for :data:`NEAR_POINTS`. ``ease``:
    (the kept arcs, how much less O1's weight may be) for the pruned solves' OR-Tools
    runs (:class:`Eased`).
    """

    def __init__(
        self,
        problem: MatchingProblem,
        cost: IntArray,
        closed: BoolArray | None,
        unmatched: int,
        prune: int | Literal["auto"] | None,
        inspect: Callable[[_Network, int | None], None] | None,
        *,
        point: int,
        ease: tuple[BoolArray, int] | None = None,
    ) -> None:
        self.problem = problem
        self.ease = ease
        self.inspect = inspect
        self.cost = cost
        self.point = point
        self.closed = closed
        self.unmatched = unmatched
        self.prune = prune
        self.full: _Network | None = None
        self.solves = 0
        self.proof: PruningProof | None = None

    def _network(
        self, subset: IntArray | None, artificial: int = 0, eased: Eased | None = None
    ) -> _Network:
        return _Network(
            self.problem,
            self.cost,
            unit_costs=True,
            unmatched_cost=0,
            unmatched_cap=self.unmatched,
            subset=subset,
            artificial=artificial,
            eased=eased,
        )

    def solve(self, open_arcs: BoolArray, threshold: int | None = None) -> BoolArray | None:
        """The arcs used by an optimal flow on ``open_arcs`` (those at ``threshold`` and
        above, for respondents); None when none exists."""
        n_open = int(open_arcs.sum())
        k = PRUNE_K if self.prune == "auto" else self.prune
        if k is not None and (self.prune != "auto" or n_open >= PRUNE_MIN_ARCS):
            # "auto" prunes only while the pruned set stays small; an explicit k always
            most = n_open // 2 if self.prune == "auto" else n_open - 1
            used = self._pruned(open_arcs, max(int(k), 1), most)
            if used is not None:
                return used
        # the whole open arc set: one network, built once, reopened per call
        self.proof = None
        if self.full is None:
            self.full = self._network(None)
        self.full.open(open_arcs, closed_unmatched=self.closed)
        self.solves += 1
        if self.full.solve() is None:
            return None
        if self.inspect is not None:
            self.inspect(self.full, threshold)
        return self.full.used()

    def _pruned(self, open_arcs: BoolArray, k: int, most: int) -> BoolArray | None:
        """Solve on each side's ``k`` best open arcs (and the kept ones), adding the arcs
        whose reduced cost is negative until none is: then the flow is optimal on every
        open arc. None when the set would hold more than ``most`` arcs, or when the
        proven optimum still needs the artificial node (the full solve decides then)."""
        problem = self.problem
        value = problem.affinity.clip(0, None)
        # dearer than any one pair's or unit's cost, so paths through A are a last resort
        dearest = max(-int(self.cost.min(initial=0)), int(self.cost.max(initial=0)))
        big = 4 * (dearest + 2 * int(problem.capacity.max(initial=0)))
        eased = None
        if self.ease is not None:
            kept, relief = self.ease
            # the dearest kept arc is ``relief`` cheaper (W1 outweighs 100 points: it is a
            # kept arc), so A's cost comes down with it
            eased_big = 4 * (max(dearest - relief, 1) + 2 * int(problem.capacity.max(initial=0)))
            eased = Eased(kept, relief, eased_big + 1)
        chosen = open_arcs & problem.kept
        chosen |= top_arcs(problem.resident, value, k, open_arcs)
        chosen |= top_arcs(problem.coach, value, k, open_arcs)
        attempts = 0
        while int(chosen.sum()) <= most:
            subset = np.flatnonzero(chosen)
            net = self._network(subset, artificial=big + 1, eased=eased)
            net.open(open_arcs, closed_unmatched=self.closed)
            attempts += 1
            self.solves += 1
            if net.solve() is None:  # pragma: no cover - A keeps it feasible
                return None
            # the lowest potentials (coaches at their highest prices): fewer of the pairs
            # they flag cannot improve the flow (decision 119); they exist only when the
            # flow is optimal under the true costs
            pi = net.potentials(lowest=True)
            if pi is None and net.eased:
                # the eased weight let fit or balance outweigh continuity here: solve this
                # network again under W1 (and the next ones too)
                log.debug("pruned solve: the eased flow is not optimal under W1")
                eased = None
                self.solves += 1
                net.exact()
                pi = net.potentials(lowest=True)
            if pi is None:  # pragma: no cover - an optimal flow has no negative cycle
                raise RuntimeError("the pruned flow's residual graph has a negative cycle")
            # every arc's reduced cost at once (cheaper than gathering the arcs left out
            # first); those in the pruned set have none below 0 by the potentials
            reduced = self.cost + pi[net.first_r : net.first_c][problem.resident]
            reduced -= pi[net.first_c : net.first_c + problem.n_coaches][problem.coach]
            negative = reduced < 0
            negative &= open_arcs
            negative &= ~chosen
            wrong = np.flatnonzero(negative)
            assert net.artificial_arcs is not None
            through_a = bool(net.flow.flows(net.artificial_arcs).any())
            if len(wrong) == 0:
                if through_a:
                    return None  # optimal with A: only the full network can tell
                used, solved_on, gap = net.used(), len(subset), 0
            else:
                log.debug("pruned solve: %d arcs left out have negative reduced cost", len(wrong))
                # while A carries flow the gap is of A's cost (~10^14 on large): nothing
                # could be settled, and the arcs flagged join at once
                settled = (
                    None if through_a else self._within_gap(net, pi, reduced, open_arcs & ~chosen)
                )
                if settled is None:
                    chosen[wrong] = True
                    if not through_a:
                        # and the pairs about to turn negative as the prices move: with
                        # them the next round's proof mostly holds at once (decision 124)
                        chosen |= (reduced < NEAR_POINTS * self.point) & open_arcs
                    continue
                attempts += 1
                self.solves += 1
                settled_used, solved_on, gap = settled
                if settled_used is None:
                    return None  # optimal with A: only the full network can tell
                used = settled_used
            arcs = int(np.count_nonzero(open_arcs))
            self.proof = PruningProof(
                arcs=arcs,
                solved_on=solved_on,
                k=k,
                attempts=attempts,
                checked=arcs - solved_on,
                gap=gap,
            )
            return used
        return None

    def _within_gap(
        self, net: _Network, pi: IntArray, reduced: IntArray, left_out: BoolArray
    ) -> tuple[BoolArray | None, int, int] | None:
        """The whole problem settled around ``net``'s flow by reduced-cost fixing
        (:func:`.pruning.settle_within_gap`): (the pair arcs an optimum uses, or None
        when it needs the artificial node; pairs the last solve ran on; the gap); None
        when more arcs lie within the gap than ``net`` holds (adding the arcs of
        negative reduced cost and solving again is cheaper then)."""
        problem = self.problem

        def ends(arcs: IntArray) -> tuple[IntArray, IntArray]:
            return net.first_r + problem.resident[arcs], net.first_c + problem.coach[arcs]

        settled = settle_within_gap(
            net.n_nodes,
            net.supplies,
            (net.tails, net.heads, net.caps, net.costs, net.flow.flows(np.arange(len(net.tails)))),
            (ends, left_out, reduced),
            pi,
            most=int(np.count_nonzero(net.caps)),
        )
        if settled is None:
            return None
        solved_on = int(np.count_nonzero(settled.solved[net.pair_arcs])) + len(settled.out_arcs)
        assert net.artificial_arcs is not None
        if settled.flow[net.artificial_arcs].any():
            return None, solved_on, settled.gap
        used = np.zeros(problem.n_arcs, dtype=bool)
        used[net.subset] = settled.flow[net.pair_arcs] > 0
        used[settled.out_arcs] = settled.out_flow > 0
        return used, solved_on, settled.gap


def _over_capacity(problem: MatchingProblem) -> bool:
    """Whether some coach is the current coach of more residents than their cap."""
    counts = np.bincount(problem.coach[problem.kept], minlength=problem.n_coaches)
    return bool((counts > problem.capacity).any())


def _keep_everyone(problem: MatchingProblem) -> BoolArray:
    """The arcs left when every resident with a kept arc takes it: that arc, and every
    arc of the residents without one."""
    keeper = np.zeros(problem.n_residents, dtype=bool)
    keeper[problem.resident[problem.kept]] = True
    mask: BoolArray = problem.kept | ~keeper[problem.resident]
    return mask


def _at_least(problem: MatchingProblem, threshold: int) -> BoolArray:
    """Arcs O2 leaves open at ``threshold``: those of residents who answered nothing,
    and every arc of at least that affinity."""
    mask: BoolArray = (problem.affinity >= threshold) | ~problem.respondent_arc
    return mask


def _fairness(
    problem: MatchingProblem,
    everyone: BoolArray | None,
    unmatched: int,
    best: int,
    low: int,
    high: int,
) -> tuple[int, int]:
    """(the largest affinity threshold at which O1's optimum ``best`` still holds, solves
    run), knowing that ``low`` holds and nothing above ``high`` can.

    With everyone kept (``everyone``, the arcs then open), a threshold holds exactly
    when a flow exists on those arcs at or above it: a feasibility test without costs,
    which fails fast. Otherwise a threshold holds when the min-cost flow counting kept
    arcs reaches ``best``; a threshold that closes so many kept arcs that ``best`` is
    out of reach is rejected without a solve.
    """
    kept = everyone is None
    built: list[_Network] = []  # on first use: often every threshold fails the count
    # the kept arcs' affinities and whether they count for O2 (a few hundred arcs)
    kept_affinity = problem.affinity[problem.kept_arcs]
    kept_ignored = ~problem.respondent_arc[problem.kept_arcs]

    def feasible(t: int) -> bool:
        if kept and np.count_nonzero((kept_affinity >= t) | kept_ignored) < best:
            return False  # too few kept arcs stay open to reach O1's optimum
        at_least = _at_least(problem, t)
        if not built:
            cost = np.zeros(problem.n_arcs, dtype=np.int64)
            if kept:
                cost[problem.kept_arcs] = -1
            built.append(
                _Network(problem, cost, unit_costs=False, unmatched_cost=0, unmatched_cap=unmatched)
            )
        net = built[0]
        if everyone is None:
            net.open(at_least)
            return net.solve() == -best
        net.open(everyone & at_least, closed_unmatched=problem.kept)
        return net.solve() is not None

    threshold = _bisect_threshold(problem, feasible, low, high)
    return threshold, built[0].solves if built else 0


def _bisect_threshold(
    problem: MatchingProblem, feasible: Callable[[int], bool], low: int, high: int
) -> int:
    """The largest affinity threshold that is ``feasible``, knowing ``low`` is."""
    # the distinct affinities (0..100) of respondents' arcs, ascending, by counting
    counts = np.bincount(problem.affinity[problem.respondent_arc], minlength=1)
    values: npt.NDArray[np.int64] = np.flatnonzero(counts)
    candidates = values[(values > low) & (values <= high)]
    # fast path: the ceiling is often reachable
    if len(candidates) and feasible(int(candidates[-1])):
        return int(candidates[-1])
    lo, hi = -1, len(candidates) - 1  # candidates[hi] is known infeasible
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if feasible(int(candidates[mid])):
            lo = mid
        else:
            hi = mid
    return low if lo < 0 else int(candidates[lo])
