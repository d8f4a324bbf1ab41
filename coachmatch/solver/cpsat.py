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
from typing import Any

import numpy as np
import numpy.typing as npt
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
        matched.append(cp_model.LinearExpr.sum(terms))
    loads = []
    for c in range(n_c):
        load = model.new_int_var(int(problem.min_load[c]), int(problem.capacity[c]), f"load{c}")
        model.add(load == cp_model.LinearExpr.sum([x[k] for k in arcs_of_coach[c]]))
        loads.append(load)
    extra: dict[str, Any] = {}  # auxiliary variables, hinted with the incumbent too

    def set_hints(chosen: npt.NDArray[np.bool_]) -> None:
        model.clear_hints()  # type: ignore[no-untyped-call]
        for var, value in zip(x, chosen.tolist(), strict=True):
            model.add_hint(var, value)
        load = np.bincount(problem.coach[chosen], minlength=n_c)
        for var, value in zip(loads, load.tolist(), strict=True):
            model.add_hint(var, value)
        if "smallest" in extra:
            model.add_hint(extra["smallest"], _levels(problem, chosen)["min_affinity"])
        if "squares" in extra:
            for var, value in zip(extra["squares"], (load**2).tolist(), strict=True):
                model.add_hint(var, value)

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
    incumbent: npt.NDArray[np.bool_] | None = None
    if hint is not None:
        incumbent = hint[problem.resident] == problem.coach
        set_hints(incumbent)

    def optimize(level: str, objective: Any, sense: str) -> bool:
        """Optimize one level, then fix it; False when the model is infeasible."""
        nonlocal incumbent
        (model.maximize if sense == "max" else model.minimize)(objective)
        status = solver.solve(model, _Progress(level, note))
        if status == cp_model.INFEASIBLE:
            return False
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            incumbent = np.array([solver.boolean_value(v) for v in x], dtype=bool)
        elif incumbent is None:
            raise RuntimeError(
                f"CP-SAT stopped on {level} without a solution ({solver.status_name(status)})"
            )
        # a limit may stop a level before it improves on the incumbent: keep that one
        value = _levels(problem, incumbent)[level]
        if status != cp_model.OPTIMAL:
            result.optimal = False
            result.bounds[level] = float(solver.best_objective_bound)
        model.add(objective >= value if sense == "max" else objective <= value)
        set_hints(incumbent)
        log.debug("cp-sat %s = %d (%s)", level, value, solver.status_name(status))
        return True

    if problem.allow_unmatched and not optimize("matched", cp_model.LinearExpr.sum(x), "max"):
        return None
    if policy.keep_current and problem.kept.any():
        kept = cp_model.LinearExpr.sum([x[k] for k in np.flatnonzero(problem.kept)])
        if not optimize("continuity", kept, "max"):
            return None
    affinity = problem.affinity.tolist()
    if policy.fairness == "maxmin" and n_arcs:
        smallest = extra["smallest"] = model.new_int_var(0, 100, "min_affinity")
        for r in range(n_r):
            arcs = arcs_of_resident[r]
            score = cp_model.LinearExpr.weighted_sum(
                [x[k] for k in arcs], [affinity[k] for k in arcs]
            )
            # an unmatched resident does not bound the minimum: 100 is the largest affinity
            model.add(smallest <= score + 100 * (1 - matched[r]))
        if incumbent is not None:
            set_hints(incumbent)
        if not optimize("min_affinity", smallest, "max"):
            return None
    total = cp_model.LinearExpr.weighted_sum(x, affinity)
    if not optimize("total_affinity", total, "max"):
        return None
    squares = []
    for c in range(n_c):
        square = model.new_int_var(0, int(problem.capacity[c]) ** 2, f"sq{c}")
        model.add_multiplication_equality(square, [loads[c], loads[c]])
        squares.append(square)
    extra["squares"] = squares
    if incumbent is not None:
        set_hints(incumbent)
    if not optimize("sum_sq_caseload", cp_model.LinearExpr.sum(squares), "min"):
        return None
    assert incumbent is not None
    result.assignment[problem.resident[incumbent]] = problem.coach[incumbent]
    return result


def _levels(problem: MatchingProblem, chosen: npt.NDArray[np.bool_]) -> dict[str, int]:
    """Every level's value for the arcs ``chosen``."""
    scores = problem.affinity[chosen]
    load = np.bincount(problem.coach[chosen], minlength=problem.n_coaches)
    return {
        "matched": int(chosen.sum()),
        "continuity": int((problem.kept & chosen).sum()),
        "min_affinity": int(scores.min()) if len(scores) else 100,
        "total_affinity": int(scores.sum()),
        "sum_sq_caseload": int((load**2).sum()),
    }
