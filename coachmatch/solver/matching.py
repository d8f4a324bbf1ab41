"""``match()``: the best coach for every resident under SPEC §4, with proof and reasons."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from coachmatch.constraints import r7_can_meet
from coachmatch.constraints.r3_not_own_decision import recusals as find_recusals
from coachmatch.constraints.r5_requests import changing
from coachmatch.exceptions import InfeasibleError
from coachmatch.models import Program, column
from coachmatch.results import LEVELS, Matching
from coachmatch.solver.cpsat import solve_cpsat
from coachmatch.solver.diagnosis import diagnose, quick_checks, unmatched_reason
from coachmatch.solver.flow import solve_flow
from coachmatch.solver.pool import POOL_CELLS, Pool, build_pool, solve_pool
from coachmatch.solver.problem import IntArray, MatchingProblem, build_problem
from coachmatch.solver.pruning import PruningProof

__all__ = ["match", "restate"]

log = logging.getLogger("coachmatch")

Method = Literal["auto", "flow", "cpsat"]


def _is_flow_shaped(program: Program) -> bool:
    """Every rule of SPEC v1 is; rules added later that are not will say so here."""
    return True


def match(
    program: Program,
    *,
    method: Method = "auto",
    allow_unmatched: bool = False,
    as_of: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> Matching:
    """Assign every active resident the best allowed coach (SPEC §4).

    The rules R1-R7 hold in every result; the objective levels O1 continuity,
    O2 fairness (among residents who answered the survey), O3 fit and O4 balance
    are optimized in strict priority order (each as the policy enables it), and the
    result says which were proven optimal.

    Parameters
    ----------
    program : Program
    method : {"auto", "flow", "cpsat"}, default "auto"
        ``"flow"``: exact min-cost flow (fast; every SPEC v1 rule is flow-shaped).
        ``"cpsat"``: CP-SAT, hinted with the flow answer when it exists.
        ``"auto"`` picks flow when the program allows it.
    allow_unmatched : bool, default False
        Instead of failing when not everyone can be matched, leave the fewest
        residents unmatched and say why for each.
    as_of : datetime.date, optional
        A re-plan's date: R7 (can meet) judges pairs from then on instead of from
        the horizon start.
    progress : callable, optional
        Receives short progress lines (also logged to the ``coachmatch`` logger).

    Returns
    -------
    Matching

    Raises
    ------
    InfeasibleError
        When R1-R7 cannot all hold; ``reasons`` names residents, coaches and numbers.

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> matching = match(synthetic("small"))
    >>> matching.status, len(matching.pairs)
    ('optimal', 60)
    >>> sorted(matching.levels)
    ['continuity', 'min_affinity', 'sum_sq_caseload', 'total_affinity']
    """
    started = time.perf_counter()

    def note(message: str) -> None:
        log.info(message)
        if progress is not None:
            progress(message)

    chosen = "flow" if method == "auto" and _is_flow_shaped(program) else method
    if chosen == "auto":
        chosen = "cpsat"
    index = program.index
    cells = int(index.active_residents.sum()) * int(index.active_coaches.sum())
    pooled = chosen == "flow" and not allow_unmatched and cells >= POOL_CELLS
    pool: Pool | None = None
    if pooled:
        # a very large pool: candidate pairs only, every decision proven on all pairs
        problem, pool = build_pool(program, as_of=as_of)
    else:
        problem = build_problem(program, allow_unmatched=allow_unmatched, as_of=as_of)
    reasons = quick_checks(problem)
    if reasons:
        raise InfeasibleError(reasons)
    note(
        f"matching {problem.n_residents} residents with {problem.n_coaches} coaches "
        + (
            f"({problem.n_arcs} allowed pairs)"
            if pool is None
            else f"({pool.pairs} pairs the rules leave open, {problem.n_arcs} candidates to start)"
        )
        + f" by {chosen}"
    )
    bound: dict[str, float] = {}
    optimal = True
    proof: PruningProof | None = None
    assignment: IntArray
    if chosen == "flow" and pool is not None:
        problem, pooled_flow = solve_pool(problem, pool, note)
        if pooled_flow is None:
            raise InfeasibleError(_pool_reasons(problem, pool))
        assignment, proof = pooled_flow.assignment, pooled_flow.proof
    elif chosen == "flow":
        flow = solve_flow(problem, note)
        if flow is None:
            raise InfeasibleError(_fallback_reasons(problem))
        assignment, proof = flow.assignment, flow.proof
    elif chosen == "cpsat":
        hint = solve_flow(problem) if _is_flow_shaped(program) else None
        result = solve_cpsat(problem, None if hint is None else hint.assignment, progress=note)
        if result is None:
            raise InfeasibleError(_fallback_reasons(problem))
        assignment, optimal, bound = result.assignment, result.optimal, result.bounds
    else:
        raise ValueError(f"method must be 'auto', 'flow' or 'cpsat', got {method!r}")
    runtime = time.perf_counter() - started
    matching = _result(problem, assignment, chosen, optimal, bound, runtime, proof)
    note(f"matched: {matching.levels}")
    return matching


def restate(matching: Matching, program: Program, *, method: str | None = None) -> Matching:
    """The same pairs as a Matching of ``program``: kept, levels and reasons measured
    against it (for a matching solved on a variant of the program, such as the batch
    run's re-match that keeps every other pair by making it the current one).

    Raises
    ------
    ValueError
        When a pair is not allowed in ``program`` (the matching is not one of its).

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> matching = match(program)
    >>> restate(matching, program).levels == matching.levels
    True
    """
    problem = build_problem(
        program, allow_unmatched=len(matching.unmatched) > 0, as_of=matching.as_of
    )
    resident_pos = {int(row): k for k, row in enumerate(problem.residents)}
    coach_pos = {int(row): k for k, row in enumerate(problem.coaches)}
    index = program.index
    assignment = np.full(problem.n_residents, -1, dtype=np.int64)
    allowed = set(zip(problem.resident.tolist(), problem.coach.tolist(), strict=True))
    for r, c in zip(matching.pairs["resident_id"], matching.pairs["coach_id"], strict=True):
        pair = (resident_pos[index.resident[r]], coach_pos[index.coach[c]])
        if pair not in allowed:
            raise ValueError(f"{r} and {c} are not an allowed pair of program {program.name!r}")
        assignment[pair[0]] = pair[1]
    return _result(
        problem,
        assignment,
        method or matching.method,
        matching.status == "optimal",
        dict(matching.bound),
        matching.runtime,
        matching.proof,
    )


def _fallback_reasons(problem: MatchingProblem) -> list[str]:
    """Reasons for a failed solve: the min-cut analysis, else the loads in numbers."""
    reasons = diagnose(problem)
    if reasons:
        return reasons
    return [
        "the minimum loads, capacities and exclusions cannot all be met at once: "
        f"{int(problem.min_load.sum())} places must be filled by minimum loads, "
        f"{int(problem.capacity.sum())} places exist, for {problem.n_residents} residents; "
        "lower some min_load values or allow more pairs"
    ]


def _pool_reasons(problem: MatchingProblem, pool: Pool) -> list[str]:
    """Reasons for a pool proven infeasible: the loads in numbers (the min-cut analysis
    needs every pair as an arc, which a pool this size does not build)."""
    return [
        f"no assignment of the {problem.n_residents} active residents to the "
        f"{problem.n_coaches} active coaches meets every rule: {pool.pairs} pairs are "
        f"allowed, {int(problem.capacity.sum())} places exist and "
        f"{int(problem.min_load.sum())} must be filled by minimum loads; look for groups "
        "of residents whose only allowed coaches are few (coachmatch.constraints.exclusions "
        "names the rules that exclude a pair)"
    ]


def _result(
    problem: MatchingProblem,
    assignment: IntArray,
    method: str,
    optimal: bool,
    bound: dict[str, float],
    runtime: float,
    proof: PruningProof | None = None,
) -> Matching:
    program = problem.program
    policy = program.policy
    matched = np.flatnonzero(assignment >= 0)
    rows = problem.residents[matched]
    cols = problem.coaches[assignment[matched]]
    # each field once per row of its table (the loader's columns where it kept them),
    # then gathered for the pairs at once
    index = program.index
    resident_ids = np.array(index.resident_ids, dtype=object)[rows]
    coach_ids = np.array(index.coach_ids, dtype=object)
    coach_names = _column(program, "coaches", "name")
    coach_sites = _column(program, "coaches", "site_id")
    affinity = problem.matrix[rows, cols].astype(np.int64)
    kept = _column(program, "residents", "current_coach_id")[rows] == coach_ids[cols]
    moving = changing(program)
    if moving:
        kept &= np.fromiter((r not in moving for r in resident_ids), bool, len(resident_ids))
    answered = problem.respondent[matched]
    best = np.zeros(problem.n_residents, dtype=np.int64)
    np.maximum.at(best, problem.resident, problem.affinity)
    pairs = pd.DataFrame(
        {
            "resident_id": pd.Series(resident_ids, dtype=object),
            "coach_id": pd.Series(coach_ids[cols], dtype=object),
            "resident_name": pd.Series(_column(program, "residents", "name")[rows], dtype=object),
            "coach_name": pd.Series(coach_names[cols], dtype=object),
            "site_id": pd.Series(coach_sites[cols], dtype=object),
            "affinity": affinity,
            "kept": kept.astype(bool),
            "best_affinity": best[matched],
        }
    )
    load = np.bincount(assignment[matched], minlength=problem.n_coaches)
    listed = problem.coaches
    caseloads = pd.DataFrame(
        {
            "coach_id": pd.Series(coach_ids[listed], dtype=object),
            "coach_name": pd.Series(coach_names[listed], dtype=object),
            "site_id": pd.Series(coach_sites[listed], dtype=object),
            "caseload": load.astype(np.int64),
            "capacity": problem.capacity,
            "min_load": problem.min_load,
        }
    )
    made = zip(pairs["resident_id"], pairs["coach_id"], strict=True)  # read only when recusing
    recusals = pd.DataFrame(
        find_recusals(program, made), columns=["resident_id", "coach_id", "panel_id"], dtype=object
    )
    lost = np.flatnonzero(assignment < 0)
    unmatched = pd.DataFrame(
        {
            "resident_id": pd.Series(
                [program.residents[int(problem.residents[r])].resident_id for r in lost],
                dtype=object,
            ),
            "reason": pd.Series(
                [unmatched_reason(problem, int(r), load) for r in lost], dtype=object
            ),
        }
    )
    levels: dict[str, int | None] = {
        "continuity": int(np.count_nonzero(kept)),
        "min_affinity": int(affinity[answered].min()) if answered.any() else None,
        "total_affinity": int(affinity.sum()),
        "sum_sq_caseload": int((load**2).sum()),
    }
    optimized = tuple(
        level
        for level in LEVELS
        if (level != "continuity" or policy.keep_current)
        and (level != "min_affinity" or problem.fair)
    )
    cannot_meet = _cannot_meet(problem, rows, cols)
    return Matching(
        program=program,
        status="optimal" if optimal else "feasible",
        levels=levels,
        optimized=optimized,
        pairs=pairs,
        caseloads=caseloads,
        recusals=recusals,
        unmatched=unmatched,
        method=method,
        runtime=runtime,
        bound=bound,
        cannot_meet=cannot_meet,
        respondents=int(problem.respondent.sum()),
        as_of=problem.as_of,
        proof=proof,
    )


def _column(program: Program, table: str, field: str) -> npt.NDArray[np.object_]:
    """One field of every row of ``program``'s ``table``, as an object array."""
    rows = len(getattr(program, table))
    return np.fromiter(column(program, table, field), dtype=object, count=rows)


def _cannot_meet(problem: MatchingProblem, rows: IntArray, cols: IntArray) -> pd.DataFrame:
    """Pairs made although they cannot meet (only with ``must_meet = false``)."""
    program = problem.program
    found: list[tuple[str, str, str]] = []
    if not program.policy.must_meet and len(rows):
        ok = r7_can_meet.can_meet(program, rows, cols, start=problem.as_of)
        for r, c in zip(rows[~ok].tolist(), cols[~ok].tolist(), strict=True):
            resident_id = program.residents[r].resident_id
            coach_id = program.coaches[c].coach_id
            why = r7_can_meet.reason(program, resident_id, coach_id, start=problem.as_of)
            found.append((resident_id, coach_id, why or "they cannot meet"))
    return pd.DataFrame(found, columns=["resident_id", "coach_id", "reason"], dtype=object)
