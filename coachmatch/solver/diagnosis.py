"""Why no matching exists, in words a program administrator can act on.

The checks go from the most specific cause to the most general: contradictory
requests, residents with no allowed coach (and the rule that excludes each
coach), coaches whose minimum load cannot be met, total and per-program
capacity, and finally, from a maximum flow's minimum cut, the group of
residents who can only be coached by a group of coaches too small for them
(Hall's condition). The last one always finds the cause of a capacity
problem, however the rules combine.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
from ortools.graph.python import max_flow

from coachmatch._display import counted, listed
from coachmatch.constraints import PAIR_RULES, r7_can_meet, rule_reason
from coachmatch.constraints.r5_requests import required
from coachmatch.solver.problem import MatchingProblem

__all__ = ["diagnose", "quick_checks", "unmatched_reason"]

_LIST = 6  # ids listed before "and N more"


def _ids(ids: list[str]) -> str:
    return listed(ids, _LIST)


def _request_problems(problem: MatchingProblem) -> list[str]:
    program = problem.program
    index = program.index
    reasons = []
    by_resident: dict[str, list[str]] = defaultdict(list)
    for r, c in required(program):
        by_resident[r].append(c)
    for r, coaches in by_resident.items():
        if len(coaches) > 1:
            reasons.append(
                f"{r} has require requests for several coaches ({_ids(coaches)}); keep one"
            )
    per_coach = Counter(c for cs in by_resident.values() for c in cs[:1])
    for r, coaches in by_resident.items():
        c = coaches[0]
        coach = program.coaches[index.coach[c]]
        if not coach.active:
            reasons.append(f"{r} is required to be coached by {c}, who is inactive")
            continue
        row, col = index.resident[r], index.coach[c]
        allowed = bool(problem.eligibility.allowed[row, col])
        for rule in PAIR_RULES:
            if allowed and rule is not r7_can_meet:
                continue  # allowed: no rule forbids it (a pool's mask leaves R7 to ask)
            if problem.eligibility.forbidden_by[rule.NAME][row, col]:
                reasons.append(
                    f"{r} is required to be coached by {c}, but {rule.NAME} forbids "
                    f"it: {rule_reason(rule, program, r, c, as_of=problem.as_of)}"
                )
    for c, n in sorted(per_coach.items()):
        coach = program.coaches[index.coach[c]]
        if coach.active and n > program.capacity(coach):
            reasons.append(
                f"{n} residents are required to be coached by {c}, whose capacity "
                f"is {program.capacity(coach)}"
            )
    return reasons


def _excluding(problem: MatchingProblem, row: int) -> list[tuple[str, list[str]]]:
    """For the resident at program row ``row``: each pair rule and the active coaches it
    excludes (rules that exclude nobody are left out)."""
    program = problem.program
    found = []
    for rule in PAIR_RULES:
        blocked = problem.eligibility.forbidden_by[rule.NAME][row, problem.coaches]
        if blocked.any():
            found.append(
                (rule.NAME, [program.coaches[int(c)].coach_id for c in problem.coaches[blocked]])
            )
    return found


def _no_allowed_coach(problem: MatchingProblem) -> list[str]:
    program = problem.program
    reasons = []
    has_arc = np.zeros(problem.n_residents, dtype=bool)
    has_arc[problem.resident] = True
    active_coaches = problem.coaches
    for r in np.flatnonzero(~has_arc):
        if int(r) in problem.required:
            continue  # explained by the request checks
        row = int(problem.residents[r])
        resident_id = program.residents[row].resident_id
        parts = [
            f"{name} excludes {len(ids)} ({_ids(ids)})" for name, ids in _excluding(problem, row)
        ]
        detail = "; ".join(parts) if parts else "there are no active coaches"
        reasons.append(
            f"{resident_id} has no allowed coach among {len(active_coaches)} active "
            f"coaches: {detail}"
        )
    return reasons


def _min_load_problems(problem: MatchingProblem) -> list[str]:
    program = problem.program
    reasons = []
    candidates = np.bincount(problem.coach, minlength=problem.n_coaches)
    for c in np.flatnonzero(candidates < problem.min_load):
        coach_id = program.coaches[int(problem.coaches[c])].coach_id
        reasons.append(
            f"{coach_id} needs at least {int(problem.min_load[c])} coachees but only "
            f"{counted(int(candidates[c]), 'resident')} may be coached by them"
        )
    total = int(problem.min_load.sum())
    if total > problem.n_residents:
        reasons.append(
            f"minimum loads add up to {total}, more than the {problem.n_residents} active residents"
        )
    return reasons


def _hall_violation(problem: MatchingProblem) -> list[str]:
    """Residents whose allowed coaches cannot take them all, from a minimum cut."""
    n_r, n_c = problem.n_residents, problem.n_coaches
    first_r, first_c, sink = 1, 1 + n_r, 1 + n_r + n_c
    flow = max_flow.SimpleMaxFlow()
    flow.add_arcs_with_capacity(
        np.zeros(n_r, dtype=np.int64), first_r + np.arange(n_r), np.ones(n_r, dtype=np.int64)
    )
    flow.add_arcs_with_capacity(
        first_r + problem.resident, first_c + problem.coach, np.ones(problem.n_arcs, dtype=np.int64)
    )
    flow.add_arcs_with_capacity(first_c + np.arange(n_c), np.full(n_c, sink), problem.capacity)
    if flow.solve(0, sink) != flow.OPTIMAL or flow.optimal_flow() >= n_r:
        return []
    side = np.array(flow.get_source_side_min_cut(), dtype=np.int64)
    stuck = side[(side >= first_r) & (side < first_c)] - first_r
    helpers = side[(side >= first_c) & (side < sink)] - first_c
    residents = [problem.program.residents[int(problem.residents[r])] for r in stuck]
    coach_ids = [problem.program.coaches[int(problem.coaches[c])].coach_id for c in helpers]
    capacity = int(problem.capacity[helpers].sum())
    groups = Counter(r.program or "no program" for r in residents)
    where = ", ".join(f"{n} in {name}" for name, n in groups.most_common(3))
    ids = _ids([r.resident_id for r in residents])
    who = (
        f"by {counted(len(coach_ids), 'coach')} ({_ids(coach_ids)}) with total capacity {capacity}"
        if coach_ids
        else "by no coach"
    )
    return [
        f"{counted(len(residents), 'resident')} ({where}: {ids}) can only be coached {who}; "
        f"{len(residents) - capacity} more places are needed among them, or fewer "
        "exclusions"
    ]


def diagnose(problem: MatchingProblem) -> list[str]:
    """Reasons no matching satisfies R1-R6 (empty if none is found).

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> from coachmatch.solver.problem import build_problem
    >>> program = synthetic("small")
    >>> two_each = tuple(c.model_copy(update={"capacity": 2}) for c in program.coaches)
    >>> diagnose(build_problem(program.replace(coaches=two_each)))
    ['total capacity of the 20 active coaches is 40, 20 short of the 60 active residents']
    """
    reasons = quick_checks(problem)
    if not reasons and not problem.allow_unmatched:
        reasons += _hall_violation(problem)
    return reasons


def quick_checks(problem: MatchingProblem) -> list[str]:
    """The checks that cost no flow solve: requests, residents with no allowed coach,
    minimum loads and total capacity. :func:`diagnose` adds the min-cut analysis."""
    reasons = _request_problems(problem)
    if not problem.allow_unmatched:
        reasons += _no_allowed_coach(problem)
    reasons += _min_load_problems(problem)
    capacity = int(problem.capacity.sum())
    if not reasons and not problem.allow_unmatched and capacity < problem.n_residents:
        reasons.append(
            f"total capacity of the {problem.n_coaches} active coaches is {capacity}, "
            f"{problem.n_residents - capacity} short of the {problem.n_residents} active "
            "residents"
        )
    return reasons


def unmatched_reason(problem: MatchingProblem, r: int, load: np.ndarray) -> str:
    """Why resident position ``r`` was left unmatched, given the final coach loads."""
    program = problem.program
    arcs = problem.coach[problem.resident == r]
    if not len(arcs):
        row = int(problem.residents[r])
        parts = [f"{name} excludes {len(ids)}" for name, ids in _excluding(problem, row)]
        return "no allowed coach" + (f" ({'; '.join(parts)})" if parts else "")
    full = [
        program.coaches[int(problem.coaches[c])].coach_id
        for c in arcs
        if load[c] >= problem.capacity[c]
    ]
    return (
        f"every allowed coach is at capacity ({_ids(full)})"
        if len(full) == len(arcs)
        else "matching them would break a rule with higher priority (a minimum load or a "
        "require request)"
    )
