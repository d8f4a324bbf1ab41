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
  set and the solve repeats; it ends at the latest when every arc is in.

A pruned network can also be infeasible where the full one is not (a coach's minimum
load, say): ``k`` then grows the same way.
"""

from __future__ import annotations

import numpy as np

from coachmatch.results import PruningProof
from coachmatch.solver.problem import BoolArray, IntArray

__all__ = ["PruningProof", "potentials", "top_arcs"]


def top_arcs(group: IntArray, value: IntArray, k: int, among: BoolArray) -> BoolArray:
    """Arcs in ``among`` that are among the ``k`` of largest ``value`` in their ``group``.

    Exactly ``k`` per group (or all it has); ties at the k-th value are broken by a
    fixed scramble of the arc numbers, so that many equal values (residents who answered
    nothing have affinity 0 with everyone) spread over coaches instead of piling on
    the first ones. ``value`` must lie in 0..65535 and ``group`` below 2**23.

    Examples
    --------
    >>> import numpy as np
    >>> group = np.array([0, 0, 0, 1, 1])
    >>> value = np.array([5, 9, 7, 1, 3])
    >>> top_arcs(group, value, 1, np.ones(5, dtype=bool)).tolist()
    [False, True, False, False, True]
    """
    arcs = np.flatnonzero(among)
    if len(arcs) == 0:
        return np.zeros(len(among), dtype=bool)
    # first by a histogram per group: only arcs at or above the group's k-th value
    if len(arcs) == len(among):  # every arc (the usual case): no gathering
        grouped, valued = group, value
    else:
        grouped, valued = group[arcs], value[arcs]
    width = int(valued.max()) + 1
    counts = np.bincount(grouped * width + valued, minlength=(int(grouped.max()) + 1) * width)
    at_least = np.cumsum(counts.reshape(-1, width)[:, ::-1], axis=1)[:, ::-1]
    reached = at_least >= k
    kth = np.where(reached.any(axis=1), width - 1 - np.argmax(reached[:, ::-1], axis=1), 0)
    arcs = arcs[valued >= kth[grouped]]
    # then exactly k of those by (value, scramble)
    scramble = (arcs * 2654435761) % (1 << 24)
    key = (group[arcs] << 40) | ((65535 - value[arcs]) << 24) | scramble
    order = arcs[np.argsort(key)]
    grouped = group[order]
    sizes = np.bincount(grouped)
    rank = np.arange(len(order)) - (np.cumsum(sizes) - sizes)[grouped]
    out = np.zeros(len(among), dtype=bool)
    out[order[rank < k]] = True
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
    order = np.argsort(tail, kind="stable")
    tail, head, cost = tail[order], head[order], cost[order]
    start = np.searchsorted(tail, np.arange(n_nodes + 1))
    dist = np.zeros(n_nodes, dtype=np.int64)
    active = np.arange(n_nodes)
    for _ in range(n_nodes + 1):
        first, counts = start[active], start[active + 1] - start[active]
        total = int(counts.sum())
        if total == 0:
            return dist
        offsets = np.repeat(first - (np.cumsum(counts) - counts), counts)
        arcs = offsets + np.arange(total)
        candidate = dist[tail[arcs]] + cost[arcs]
        better = candidate < dist[head[arcs]]
        if not better.any():
            return dist
        heads = head[arcs][better]
        np.minimum.at(dist, heads, candidate[better])
        fell = np.zeros(n_nodes, dtype=bool)
        fell[heads] = True
        active = np.flatnonzero(fell)
    return None  # still falling after n rounds: a negative cycle
