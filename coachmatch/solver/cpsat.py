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
import math
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


_MIN, _MAX = -(2**63) + 1, 2**63 - 1


def _ints(values: Any) -> str:
    return ", ".join(map(str, np.asarray(values).tolist()))


class _ProtoModel:
    """A CP-SAT model written straight into its proto, in batches of text format.

    Creating one Python object per pair (``new_bool_var``) and summing them is the
    slow part of building a large model; here variables and constraints are
    described as index arrays and handed to the C++ proto in one call per batch.
    """

    def __init__(self) -> None:
        self.model = cp_model.CpModel()
        self.proto = self.model.proto
        self.size = 0
        self._pending: list[str] = []

    def new_vars(self, lows: Any, highs: Any) -> IntArray:
        lows, highs = np.atleast_1d(lows), np.atleast_1d(highs)
        n = max(len(lows), len(highs))
        if n == 0 or len(lows) == 0 or len(highs) == 0:
            return np.zeros(0, dtype=np.int64)
        lows, highs = np.broadcast_to(lows, n), np.broadcast_to(highs, n)
        if np.all(lows == lows[0]) and np.all(highs == highs[0]):
            text = f"variables {{ domain: [{int(lows[0])}, {int(highs[0])}] }}\n" * n
        else:
            text = "".join(
                f"variables {{ domain: [{lo}, {hi}] }}\n"
                for lo, hi in zip(lows.tolist(), highs.tolist(), strict=True)
            )
        self.flush()
        self.proto.merge_text_format(text)
        first = self.size
        self.size += n
        return np.arange(first, self.size, dtype=np.int64)

    def linear(self, variables: Any, coeffs: Any, low: int, high: int) -> None:
        self._pending.append(
            f"constraints {{ linear {{ vars: [{_ints(variables)}] "
            f"coeffs: [{_ints(coeffs)}] domain: [{low}, {high}] }} }}\n"
        )

    def one(self, literals: Any, *, exactly: bool) -> None:
        kind = "exactly_one" if exactly else "at_most_one"
        self._pending.append(f"constraints {{ {kind} {{ literals: [{_ints(literals)}] }} }}\n")

    def square(self, target: int, of: int) -> None:
        expr = f"{{ vars: [{of}] coeffs: [1] }}"
        self._pending.append(
            f"constraints {{ int_prod {{ target {{ vars: [{target}] "
            f"coeffs: [1] }} exprs {expr} exprs {expr} }} }}\n"
        )

    def flush(self) -> None:
        if self._pending:
            self.proto.merge_text_format("".join(self._pending))
            self._pending.clear()

    def objective(self, variables: IntArray, coeffs: IntArray, sense: str) -> None:
        """Set the objective (CP-SAT minimizes; a maximum is a scaled minimum)."""
        self.flush()
        self.proto.clear_objective()
        sign = -1 if sense == "max" else 1
        self.proto.objective.vars.extend(variables.tolist())
        self.proto.objective.coeffs.extend((sign * coeffs).tolist())
        self.proto.objective.scaling_factor = float(sign)

    def hint(self, values: IntArray) -> None:
        self.flush()
        self.proto.clear_solution_hint()
        self.proto.solution_hint.vars.extend(range(len(values)))
        self.proto.solution_hint.values.extend(values.tolist())


def solve_cpsat(
    problem: MatchingProblem,
    hint: IntArray | None = None,
    *,
    num_workers: int = 1,
    deterministic_time: float = 10.0,
    progress: Callable[[str], None] | None = None,
) -> CpSatResult | None:
    """Solve every level with CP-SAT; None when R1-R6 cannot all hold.

    Variables: one Boolean per allowed pair (indices ``0 .. n_arcs - 1``), then each
    coach's caseload, then the auxiliary variables of the levels that need them.

    Parameters
    ----------
    problem : MatchingProblem
    hint : numpy.ndarray, optional
        A feasible assignment (coach position per resident) to start from.
    num_workers : int, default 1
        CP-SAT workers. One worker is deterministic; more are deterministic too
        (``interleave_search``) but slower on the models this path sees.
    deterministic_time : float, default 10
        CP-SAT's deterministic time limit per level; it binds before the policy's
        wall-clock ``time_limit_s`` on this machine's sizes, so that results do not
        depend on the machine's speed.
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
    n_arcs, n_r, n_c = problem.n_arcs, problem.n_residents, problem.n_coaches
    build = _ProtoModel()
    x = build.new_vars(np.zeros(n_arcs, dtype=np.int64), np.ones(n_arcs, dtype=np.int64))
    # np.split gives one (empty) piece even for zero residents or coaches: slice it off
    arcs_of_resident = np.split(x, np.searchsorted(problem.resident, np.arange(1, n_r)))[:n_r]
    for r, arcs in enumerate(arcs_of_resident):
        # allowing unmatched residents relaxes R1, not a require request (R5)
        build.one(arcs, exactly=not problem.allow_unmatched or r in problem.required)
    loads = build.new_vars(problem.min_load, problem.capacity)
    order = np.argsort(problem.coach, kind="stable")
    arcs_of_coach = np.split(order, np.searchsorted(problem.coach[order], np.arange(1, n_c)))
    for c, arcs in enumerate(arcs_of_coach[:n_c]):
        build.linear([loads[c], *arcs.tolist()], [1, *([-1] * len(arcs))], 0, 0)
    aux: dict[str, IntArray] = {}

    def values_of(chosen: npt.NDArray[np.bool_]) -> IntArray:
        """Every variable's value for the arcs ``chosen`` (a complete hint)."""
        load = np.bincount(problem.coach[chosen], minlength=n_c)
        values = np.zeros(build.size, dtype=np.int64)
        values[x] = chosen
        values[loads] = load
        if "smallest" in aux:
            values[aux["smallest"]] = _levels(problem, chosen)["min_affinity"]
        if "squares" in aux:
            values[aux["squares"]] = load**2
        return values

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

    def optimize(level: str, variables: IntArray, coeffs: IntArray, sense: str) -> bool:
        """Optimize one level, then fix it; False when the model is infeasible."""
        nonlocal incumbent
        build.objective(variables, coeffs, sense)
        if incumbent is not None:
            build.hint(values_of(incumbent))
        status = solver.solve(build.model, _Progress(level, note))
        if status == cp_model.INFEASIBLE:
            return False
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            solution = np.fromiter(solver.response_proto.solution, dtype=np.int64)
            incumbent = solution[:n_arcs] > 0
        elif incumbent is None:
            raise RuntimeError(
                f"CP-SAT stopped on {level} without a solution ({solver.status_name(status)})"
            )
        # a limit may stop a level before it improves on the incumbent: keep that one
        value = _levels(problem, incumbent)[level]
        if status != cp_model.OPTIMAL:
            result.optimal = False
            # a bound is known only once a solution of this level's model was found
            result.bounds[level] = (
                float(solver.best_objective_bound) if status == cp_model.FEASIBLE else math.nan
            )
        if sense == "max":
            build.linear(variables, coeffs, value, _MAX)
        else:
            build.linear(variables, coeffs, _MIN, value)
        log.debug("cp-sat %s = %d (%s)", level, value, solver.status_name(status))
        return True

    ones = np.ones(n_arcs, dtype=np.int64)
    if problem.allow_unmatched and not optimize("matched", x, ones, "max"):
        return None
    if (
        policy.keep_current
        and problem.kept.any()
        and not optimize("continuity", x[problem.kept], ones[problem.kept], "max")
    ):
        return None
    if problem.fair and n_arcs:
        # with no respondent matched, `smallest` takes the ceiling, not 100 (see
        # MatchingProblem.fairness_ceiling): leaving respondents out never wins O2
        smallest = aux["smallest"] = build.new_vars(0, problem.fairness_ceiling())
        for r, arcs in enumerate(arcs_of_resident):
            if not problem.respondent[r]:
                continue  # SPEC 1.1: O2 counts residents who answered the survey
            # smallest <= affinity of the chosen arc, or 100 (no bound) when unmatched
            build.linear(
                [int(smallest[0]), *arcs.tolist()],
                [1, *(100 - problem.affinity[arcs]).tolist()],
                _MIN,
                100,
            )
        if not optimize("min_affinity", smallest, np.ones(1, dtype=np.int64), "max"):
            return None
    if not optimize("total_affinity", x, problem.affinity, "max"):
        return None
    squares = aux["squares"] = build.new_vars(np.zeros(n_c, dtype=np.int64), problem.capacity**2)
    for c in range(n_c):
        build.square(int(squares[c]), int(loads[c]))
    if not optimize("sum_sq_caseload", squares, np.ones(n_c, dtype=np.int64), "min"):
        return None
    assert incumbent is not None
    result.assignment[problem.resident[incumbent]] = problem.coach[incumbent]
    return result


def _levels(problem: MatchingProblem, chosen: npt.NDArray[np.bool_]) -> dict[str, int]:
    """Every level's value for the arcs ``chosen``."""
    scores = problem.affinity[chosen]
    counted = problem.affinity[chosen & problem.respondent[problem.resident]]
    load = np.bincount(problem.coach[chosen], minlength=problem.n_coaches)
    return {
        "matched": int(chosen.sum()),
        "continuity": int((problem.kept & chosen).sum()),
        "min_affinity": int(counted.min()) if len(counted) else problem.fairness_ceiling(),
        "total_affinity": int(scores.sum()),
        "sum_sq_caseload": int((load**2).sum()),
    }
