"""The CP-SAT path: one Boolean per eligible pair, levels solved lexicographically.

This is the general core for rules that are not flow-shaped. Each level is
optimized with the levels above it fixed at their optimum (never big weights),
and every solve is hinted with the flow answer when there is one. Limits are
deterministic (``max_deterministic_time``) with the policy's wall-clock limit as a
safety net; a level stopped by a limit makes the result ``"feasible"`` with the
solver's bound.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from coachmatch.solver.problem import IntArray, MatchingProblem

__all__ = ["CpSatResult", "solve_cpsat"]

log = logging.getLogger("coachmatch")


@dataclass
class CpSatResult:
    """The assignment (coach position per resident, -1 unmatched), status and bounds."""

    assignment: IntArray
    optimal: bool
    bounds: dict[str, float] = field(default_factory=dict)


class _Progress(cp_model.CpSolverSolutionCallback):
    def __init__(self, level: str, note: Callable[[str], None]) -> None:
        super().__init__()
        self.level, self.note = level, note

    def on_solution_callback(self) -> None:
        self.note(
            f"{self.level}: solution {self.objective_value:g} (bound {self.best_objective_bound:g})"
        )


def solve_cpsat(
    problem: MatchingProblem,
    hint: IntArray | None = None,
    *,
    num_workers: int = 1,
    deterministic_time: float = 60.0,
    progress: Callable[[str], None] | None = None,
) -> CpSatResult | None:
    """Solve every level with CP-SAT; None when R1-R6 cannot all hold.

    Parameters
    ----------
    problem : MatchingProblem
    hint : numpy.ndarray, optional
        A feasible assignment (coach position per resident) to start from.
    num_workers : int, default 1
        CP-SAT workers. One worker is deterministic; more are deterministic too
        (``interleave_search``) but slower on the small models this path sees.
    deterministic_time : float, default 60
        CP-SAT's deterministic time limit per level.
    progress : callable, optional
        Receives a line per improving solution.

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> from coachmatch.solver.problem import build_problem
    >>> result = solve_cpsat(build_problem(synthetic("small")))
    >>> result.optimal, int((result.assignment >= 0).sum())
    (True, 60)
    """
    policy = problem.program.policy
    note = progress or (lambda message: None)
    model = cp_model.CpModel()
    n_arcs, n_r, n_c = problem.n_arcs, problem.n_residents, problem.n_coaches
    x = [model.new_bool_var(f"x{k}") for k in range(n_arcs)]
    arcs_of_resident = np.split(
        np.arange(n_arcs), np.searchsorted(problem.resident, np.arange(1, n_r))
    )
    order = np.argsort(problem.coach, kind="stable")
    arcs_of_coach = np.split(order, np.searchsorted(problem.coach[order], np.arange(1, n_c)))
    matched = []
    for r in range(n_r):
        terms = [x[k] for k in arcs_of_resident[r]]
        if problem.allow_unmatched:
            model.add_at_most_one(terms)
        else:
            model.add_exactly_one(terms)
        matched.append(sum(terms))
    loads = []
    for c in range(n_c):
        load = model.new_int_var(int(problem.min_load[c]), int(problem.capacity[c]), f"load{c}")
        model.add(load == sum(x[k] for k in arcs_of_coach[c]))
        loads.append(load)
    if hint is not None:
        chosen = hint[problem.resident] == problem.coach
        for k in range(n_arcs):
            model.add_hint(x[k], bool(chosen[k]))

    solver = cp_model.CpSolver()
    solver.parameters.num_workers = num_workers
    solver.parameters.random_seed = policy.seed
    solver.parameters.max_time_in_seconds = policy.time_limit_s
    solver.parameters.max_deterministic_time = deterministic_time
    # assignment LPs are tight: the full linear relaxation proves optimality fast
    solver.parameters.linearization_level = 2
    if num_workers > 1:
        solver.parameters.interleave_search = True
    result = CpSatResult(np.full(n_r, -1, dtype=np.int64), True)

    def optimize(level: str, objective: cp_model.LinearExprT, sense: str) -> int | None:
        (model.maximize if sense == "max" else model.minimize)(objective)
        status = solver.solve(model, _Progress(level, note))
        if status == cp_model.INFEASIBLE:
            return None
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            raise RuntimeError(
                f"CP-SAT stopped on {level} without a solution ({solver.status_name(status)})"
            )
        value = round(solver.objective_value)
        if status != cp_model.OPTIMAL:
            result.optimal = False
            result.bounds[level] = solver.best_objective_bound
        # fix the level (at what was found) and hint the next solve with this solution
        model.clear_hints()  # type: ignore[no-untyped-call]
        for k in range(n_arcs):
            model.add_hint(x[k], solver.boolean_value(x[k]))
        if sense == "max":
            model.add(objective >= value)
        else:
            model.add(objective <= value)
        log.debug("cp-sat %s = %d (%s)", level, value, solver.status_name(status))
        return value

    if problem.allow_unmatched and optimize("matched", sum(matched), "max") is None:
        return None
    if policy.keep_current and problem.kept.any():
        kept = sum(x[k] for k in np.flatnonzero(problem.kept))
        if optimize("continuity", kept, "max") is None:
            return None
    if policy.fairness == "maxmin" and n_arcs:
        smallest = model.new_int_var(0, 100, "min_affinity")
        for r in range(n_r):
            arcs = arcs_of_resident[r]
            score = sum(int(problem.affinity[k]) * x[k] for k in arcs)
            # an unmatched resident does not bound the minimum: 100 is the largest affinity
            model.add(smallest <= score + 100 * (1 - matched[r]))
        if optimize("min_affinity", smallest, "max") is None:
            return None
    total = sum(int(a) * x[k] for k, a in enumerate(problem.affinity))
    if optimize("total_affinity", total, "max") is None:
        return None
    squares = []
    for c in range(n_c):
        square = model.new_int_var(0, int(problem.capacity[c]) ** 2, f"sq{c}")
        model.add_multiplication_equality(square, [loads[c], loads[c]])
        squares.append(square)
    if optimize("sum_sq_caseload", sum(squares), "min") is None:
        return None
    chosen = np.array([solver.boolean_value(v) for v in x], dtype=bool)
    result.assignment[problem.resident[chosen]] = problem.coach[chosen]
    return result
