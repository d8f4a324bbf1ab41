"""Solve on a few arcs, prove the answer on all of them (issue 13, item 7).

In a large pool most allowed pairs are far from any optimum: a resident ends with one
of their best coaches, or their current one. So the flow path may solve on a pruned arc
set — each resident's and each coach's ``k`` best pairs, the current and required pairs
— and then *prove* that answer optimal for every allowed pair by linear-programming
duality, never assume it:

- the solved flow is optimal on the pruned network, so its residual graph has no
  negative cycle and node potentials ``pi`` exist with reduced costs
  ``cost(u, v) + pi[u] - pi[v] >= 0`` on every residual arc (:func:`potentials`:
  shortest distances from a virtual root, Bellman-Ford by rounds);
- an arc left out carries no flow, so its only residual arc is itself; if its reduced
  cost under the same ``pi`` is non-negative too, ``pi`` proves the flow optimal on the
  full network (no negative cycle anywhere), and the pruned answer *is* an optimum of
  the whole problem;
- otherwise the arcs with negative reduced cost (and a larger ``k``) join the pruned
  set and the solve repeats; it ends at the latest when every arc is in;
- or, when those arcs' reduced costs add up to little, the rest is settled at once by
  *reduced-cost fixing*: with ``gap`` the sum of their magnitudes (the duality gap
  ``pi`` leaves), no optimum of the whole network can use an arc of reduced cost above
  ``gap`` it does not use, nor leave one below ``-gap`` it fills (either would cost
  more than the gap can win back); only the arcs within the gap are solved again,
  on their reduced costs (:func:`settle_within_gap`).

Which potentials prove the most matters: among all valid ones, :func:`lowest_potentials`
gives every coach its highest price (its lowest potential), so that a pair left out
shows a negative reduced cost mostly where it truly could improve the flow.

A pruned network can also be infeasible where the full one is not (a coach's minimum
load, say): ``k`` then grows the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

from coachmatch.results import PruningProof
from coachmatch.solver.problem import BoolArray, IntArray

__all__ = [
    "PruningProof",
    "Settled",
    "lowest_potentials",
    "potentials",
    "settle_within_gap",
    "top_arcs",
]


def top_arcs(group: IntArray, value: IntArray, k: int, among: BoolArray) -> BoolArray:
    """Arcs in ``among`` that are among the ``k`` of largest ``value`` in their ``group``.

    Exactly ``k`` per group (or all it has). Ties at the k-th value are broken without
    a sort: a group's tied arcs, in arc order, are taken from a starting point fixed by
    the group's number, wrapping around, so that many equal values (residents who
    answered nothing have affinity 0 with everyone) spread over coaches instead of
    piling on the first ones. ``value`` must be non-negative and small (affinities).

    Examples
    --------
    >>> import numpy as np
    >>> group = np.array([0, 0, 0, 1, 1])
    >>> value = np.array([5, 9, 7, 1, 3])
    >>> top_arcs(group, value, 1, np.ones(5, dtype=bool)).tolist()
    [False, True, False, False, True]
    """
    every = bool(among.all())
    if every:  # the usual case: no gathering
        arcs, grouped, valued = None, group, value
    else:
        arcs = np.flatnonzero(among)
        grouped, valued = group[arcs], value[arcs]
    if len(grouped) == 0:
        return np.zeros(len(among), dtype=bool)
    # a histogram per group gives its k-th value, and how many arcs lie above and at it
    width = int(valued.max()) + 1
    n_groups = int(grouped.max()) + 1
    counts = np.bincount(grouped * width + valued, minlength=n_groups * width)
    counts = counts.reshape(n_groups, width)
    at_least = np.cumsum(counts[:, ::-1], axis=1)[:, ::-1]
    reached = at_least >= k
    kth = np.where(reached.any(axis=1), width - 1 - np.argmax(reached[:, ::-1], axis=1), 0)
    every_group = np.arange(n_groups)
    tied = counts[every_group, kth]
    need = np.minimum(k - (at_least[every_group, kth] - tied), tied)  # of the tied arcs
    kth_of = kth[grouped]
    chosen = valued > kth_of
    # the tied arcs, grouped (a stable sort by group: radix on 16 bits where it fits)
    at = np.flatnonzero(valued == kth_of)
    of = grouped[at]
    order = np.argsort(of.astype(np.uint16) if n_groups <= 1 << 16 else of, kind="stable")
    at, of = at[order], of[order]
    rank = np.arange(len(at)) - (np.cumsum(tied) - tied)[of]
    start = (every_group * 2654435761) % np.maximum(tied, 1)
    rank += start[of]
    rank %= np.maximum(tied, 1)[of]
    chosen[at[rank < need[of]]] = True
    if arcs is None:
        return chosen
    out = np.zeros(len(among), dtype=bool)
    out[arcs[chosen]] = True
    return out


def potentials(n_nodes: int, tail: IntArray, head: IntArray, cost: IntArray) -> IntArray | None:
    """Shortest distances from a virtual root joined to every node by 0-cost arcs.

    They are node potentials under which every arc's reduced cost
    ``cost + pi[tail] - pi[head]`` is non-negative; None when the graph has a negative
    cycle (then none exist). Bellman-Ford by rounds: each round relaxes only the arcs
    out of nodes whose distance fell in the round before, so a round costs what changed.

    Examples
    --------
    >>> import numpy as np
    >>> pi = potentials(3, np.array([0, 1, 2]), np.array([1, 2, 0]), np.array([-2, 1, 3]))
    >>> pi.tolist()
    [0, -2, -1]
    >>> potentials(2, np.array([0, 1]), np.array([1, 0]), np.array([-2, 1])) is None
    True
    """
    # node numbers below 2**16 sort as uint16: NumPy sorts those stably by radix, ~6x
    # faster than int64 (the same order)
    order = np.argsort(tail.astype(np.uint16) if n_nodes <= 1 << 16 else tail, kind="stable")
    head, cost = head[order], cost[order]
    start = np.searchsorted(tail[order], np.arange(n_nodes + 1))
    dist = np.zeros(n_nodes, dtype=np.int64)
    active = np.arange(n_nodes)
    fell = np.zeros(n_nodes, dtype=bool)
    for _ in range(n_nodes + 1):
        first = start[active]
        counts = start[active + 1] - first
        total = int(counts.sum())
        if total == 0:
            return dist
        offsets = np.repeat(first - (np.cumsum(counts) - counts), counts)
        arcs = offsets + np.arange(total)
        # the arcs are grouped by tail: each active node's distance, repeated
        candidate = np.repeat(dist[active], counts)
        candidate += cost[arcs]
        heads = head[arcs]
        better = candidate < dist[heads]
        if not better.any():
            return dist
        heads = heads[better]
        np.minimum.at(dist, heads, candidate[better])
        fell[:] = False
        fell[heads] = True
        active = np.flatnonzero(fell)
    return None  # still falling after n rounds: a negative cycle


def lowest_potentials(
    n_nodes: int, tail: IntArray, head: IntArray, cost: IntArray
) -> IntArray | None:
    """The pointwise lowest non-negative potentials under which every arc's reduced cost
    ``cost + pi[tail] - pi[head]`` is non-negative: minus the shortest distances *to* a
    virtual root every node reaches at cost 0 (:func:`potentials` on the reversed
    arcs); None when the graph has a negative cycle.

    Examples
    --------
    >>> import numpy as np
    >>> tail, head, cost = np.array([0, 1, 2]), np.array([1, 2, 0]), np.array([-2, 1, 3])
    >>> pi = lowest_potentials(3, tail, head, cost)
    >>> pi.tolist(), bool((cost + pi[tail] - pi[head] >= 0).all())
    ([2, 0, 0], True)
    """
    to_root = potentials(n_nodes, head, tail, cost)
    return None if to_root is None else -to_root


class Settled(NamedTuple):
    """An optimal flow found by :func:`settle_within_gap`."""

    flow: IntArray  # on the solved network's arcs
    solved: BoolArray  # the network's arcs the last solve ran on
    out_arcs: IntArray  # the left-out arcs it ran on (their positions)
    out_flow: IntArray  # their flow (every other left-out arc stays empty)
    gap: int


def settle_within_gap(
    n_nodes: int,
    supplies: IntArray,
    network: tuple[IntArray, IntArray, IntArray, IntArray, IntArray],
    left_out: tuple[Callable[[IntArray], tuple[IntArray, IntArray]], npt.ArrayLike, IntArray],
    pi: IntArray,
    most: int,
) -> Settled | None:
    """An optimal flow of a network and the arcs left out of it, by one solve on the
    arcs within the duality gap (reduced-cost fixing).

    ``network`` is (tail, head, capacity, cost, flow) of a solved network, its flow
    meeting ``supplies``. ``left_out`` describes arcs left out of it (no flow): a
    function giving the (tail, head) of those at some positions, and per position the
    capacity (0: no arc) and the reduced cost under ``pi``. For any flow f' meeting
    the supplies, cost(f') - cost(f) is the sum over arcs of reduced cost × (f' - f);
    the only terms that can be negative are those of residual arcs of negative reduced
    cost, and together they win at most ``gap``, the sum of those costs' magnitudes
    times the arcs' room. So no optimum puts flow on an empty arc of reduced cost above
    ``gap`` nor takes any off a full one below ``-gap``: those keep their flow, the
    supplies move by the full ones, and one min-cost solve on the other arcs, costed
    by their reduced costs (a range of 2·gap, not the original costs'), finishes. None
    (and nothing solved) when more than ``most`` arcs lie within the gap.

    Examples
    --------
    >>> import numpy as np
    >>> # two units from node 0 to node 1 on an arc costing 5; a left-out one costs 2
    >>> supplies = np.array([2, -2])
    >>> network = tuple(np.array([v]) for v in (0, 1, 2, 5, 2))
    >>> pi = lowest_potentials(2, np.array([1]), np.array([0]), np.array([-5]))
    >>> ends = lambda at: (np.zeros(len(at), int), np.ones(len(at), int))
    >>> left = (ends, np.array([1]), 2 + pi[[0]] - pi[[1]])
    >>> settled = settle_within_gap(2, supplies, network, left, pi, most=10)
    >>> settled.flow.tolist(), settled.out_flow.tolist(), settled.gap
    ([1], [1], 3)
    """
    tail, head, cap, cost, flow = network
    ends, out_cap, out_reduced = left_out
    out_cap = np.asarray(out_cap)
    reduced = cost + pi[tail] - pi[head]
    live = cap > 0
    # residual arcs of negative reduced cost: room left on the network's arcs below 0,
    # flow on those above 0, and every left-out arc below 0
    gap = int(np.sum(np.where(reduced < 0, cap - flow, flow) * np.abs(reduced), where=live))
    gap -= int(np.sum(out_reduced * out_cap, where=out_reduced < 0))
    full = live & (flow == cap) & (reduced < -gap)
    free = live & ~full & ~((flow == 0) & (reduced > gap))
    near = np.flatnonzero((out_reduced <= gap) & (out_cap > 0))
    if int(np.count_nonzero(free)) + len(near) > most:
        return None
    moved = supplies.copy()
    np.subtract.at(moved, tail[full], cap[full])
    np.add.at(moved, head[full], cap[full])
    within = min_cost_flow.SimpleMinCostFlow()
    arcs = np.flatnonzero(free)
    near_tail, near_head = ends(near)
    within.add_arcs_with_capacity_and_unit_cost(
        np.r_[tail[arcs], near_tail],
        np.r_[head[arcs], near_head],
        np.r_[cap[arcs], out_cap[near]].astype(np.int64),
        np.r_[reduced[arcs], out_reduced[near]],
    )
    within.set_nodes_supplies(np.arange(n_nodes), moved)
    if within.solve() != within.OPTIMAL:  # pragma: no cover - the given flow is feasible
        raise RuntimeError("the flow within the reduced-cost gap is not optimal")
    carried = within.flows(np.arange(len(arcs) + len(near)))
    new_flow = np.where(full, cap, 0)
    new_flow[arcs] = carried[: len(arcs)]
    return Settled(new_flow, free, near, carried[len(arcs) :], gap)
