"""Benchmark: match() against a bare min-cost flow, its CP-SAT path and stable matching.

Protocol
--------
- Instances: ``coachmatch.datasets.synthetic(size, seed=0)`` for each size asked
  (``--seed`` for another seed).
- Each (size, method) runs in a fresh interpreter: the program is built, then the
  method runs once to warm up and ``--repeats`` times timed (``time.perf_counter``);
  the median is reported. Peak memory is the growth of VmHWM (peak resident set,
  ``/proc/self/status``) over the interpreter's size after building the program.
- Methods, all starting from the Program:
  - ``reference``: the speed reference, a bare OR-Tools min-cost flow of the same
    pure assignment: affinity matrix and eligibility mask (numpy), arcs for allowed
    pairs costing -affinity, coach arcs with the caps, one solve. No continuity,
    fairness, balance or minimum loads: the least work that assigns everyone.
  - ``match-flow``: ``coachmatch.match(program, method="flow")``, all four levels.
  - ``match-cpsat``: ``coachmatch.match(program, method="cpsat")`` (flow hint included).
  - ``stable``: the ``matching`` package's hospital-resident game, resident-optimal,
    preferences sorted by affinity on allowed pairs, capacities as caps: what a
    program would otherwise reach for.
  - ``reference-solve`` (first by default): the reference's single solve alone, on
    arcs built beforehand; on request (``--methods flow-solve``), match()'s flow path
    alone on the same arcs.
- Reported per row: median wall time, peak memory growth, total affinity, the
  minimum affinity among residents who answered the survey (O2, SPEC 1.1), residents
  keeping their current coach, unmatched residents, rule violations found by
  ``audit()``, and time and total affinity relative to the reference of the same size.
  On ``match-flow`` rows, also the R7 (can meet) mask alone: everyone's free time
  packed, then every pair the other rules allow judged, on a fresh copy of the Program
  each time (no cached free time), median of the repeats. It is part of every method's
  time (eligibility includes it). Likewise, on fresh copies: the affinity matrix, the
  whole eligibility mask, ``build_problem`` (both together, with the arc arrays), and
  ``match()`` itself ("first match": a program's first match, nothing cached; the
  ``time`` column repeats match() on one Program, whose free time and grid are then
  cached).
- "loaded": the program written once with ``write_program`` to a temporary folder;
  each repeat reads it with ``load_program`` and times ``build_problem`` (then, in a
  second series, ``match()``) on the Program just read: a program's software's first
  match, the figure issue 13 states. It differs from "first match" (a copy sharing the
  synthetic Program's row objects) by what the interpreter does with the objects just
  read: CPython's first full garbage collection after a load walks all of them
  (~0.1–0.15 s on large), wherever in the next step it falls.
- Ratios: ``× reference`` against the reference of the same size; ``× bare solve``
  against ``reference-solve`` (the reference's flow solve alone, arcs given) when it
  runs first, which is the reference issue 13 states its matching target in.
  ``loaded × bare, paired`` (``match-flow`` rows): in the same interpreter, each repeat
  times the bare solve (on arcs built beforehand) and then ``match()`` on a Program
  just read; the median of the per-repeat ratios. The other ratios divide medians
  taken in separate interpreters, which move with this machine's speed between
  processes (±15 % seen); the paired one does not.
- Run: ``pip install -e ".[bench]"`` (the ``matching`` package), then
  ``python benchmarks/matching.py [--sizes small medium large] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from typing import Any

# This script shares its name with the `matching` package it compares against: keep
# its own folder off the import path so that `import matching` finds the package.
sys.path[:] = [
    p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))
]

import numpy as np  # noqa: E402
from ortools.graph.python import min_cost_flow  # noqa: E402

import coachmatch  # noqa: E402
from coachmatch import audit, match  # noqa: E402
from coachmatch.datasets import synthetic  # noqa: E402
from coachmatch.io.folder import load_program, write_program  # noqa: E402
from coachmatch.solver.flow import solve_flow  # noqa: E402
from coachmatch.solver.problem import MatchingProblem, build_problem  # noqa: E402

METHODS = ("reference-solve", "reference", "match-flow", "match-cpsat", "stable")
#: the solver alone, on arcs built beforehand (not in the default run)
SOLVE_ONLY = ("reference-solve", "flow-solve")


def _status(key: str) -> int:
    with open("/proc/self/status", encoding="ascii") as handle:
        text = handle.read()
    found = re.search(key + r":\s+(\d+) kB", text)
    return int(found.group(1)) if found else 0


def reference(program: coachmatch.Program) -> list[tuple[str, str]]:
    """Affinity + eligibility + one min-cost flow maximizing total affinity under caps."""
    return reference_solve(build_problem(program))


def reference_solve(problem: MatchingProblem) -> list[tuple[str, str]]:
    """The reference's flow solve alone, on arcs built beforehand."""
    program = problem.program
    used = reference_flow(problem)
    residents, coaches = problem.resident[used], problem.coach[used]
    return [
        (
            program.residents[int(problem.residents[r])].resident_id,
            program.coaches[int(problem.coaches[c])].coach_id,
        )
        for r, c in zip(residents, coaches, strict=True)
    ]


def reference_flow(problem: MatchingProblem) -> np.ndarray:
    """One bare min-cost flow of the pure assignment (-affinity costs, caps) on every
    arc of ``problem``: the arcs it uses (also ``pool.py``'s reference)."""
    n_r, n_c = problem.n_residents, problem.n_coaches
    flow = min_cost_flow.SimpleMinCostFlow()
    ones = np.ones(n_r, dtype=np.int64)
    flow.add_arcs_with_capacity_and_unit_cost(
        np.zeros(n_r, dtype=np.int64), 2 + np.arange(n_r), ones, np.zeros(n_r, dtype=np.int64)
    )
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        2 + problem.resident,
        2 + n_r + problem.coach,
        np.ones(problem.n_arcs, dtype=np.int64),
        -problem.affinity,
    )
    flow.add_arcs_with_capacity_and_unit_cost(
        2 + n_r + np.arange(n_c),
        np.ones(n_c, dtype=np.int64),
        problem.capacity,
        np.zeros(n_c, dtype=np.int64),
    )
    supplies = np.zeros(2 + n_r + n_c, dtype=np.int64)
    supplies[0], supplies[1] = n_r, -n_r
    flow.set_nodes_supplies(np.arange(len(supplies)), supplies)
    if flow.solve() != flow.OPTIMAL:
        raise RuntimeError("reference flow is infeasible")
    used: np.ndarray = flow.flows(arcs) > 0
    return used


def stable(program: coachmatch.Program) -> list[tuple[str, str]]:
    """Resident-optimal stable matching with preferences by affinity (allowed pairs)."""
    from matching.games import HospitalResident

    problem = build_problem(program)
    r_ids = [program.residents[int(r)].resident_id for r in problem.residents]
    c_ids = [program.coaches[int(c)].coach_id for c in problem.coaches]
    order = np.lexsort((problem.coach, -problem.affinity, problem.resident))
    resident_prefs: dict[str, list[str]] = {r: [] for r in r_ids}
    for k in order:
        resident_prefs[r_ids[problem.resident[k]]].append(c_ids[problem.coach[k]])
    order = np.lexsort((problem.resident, -problem.affinity, problem.coach))
    coach_prefs: dict[str, list[str]] = {c: [] for c in c_ids}
    for k in order:
        coach_prefs[c_ids[problem.coach[k]]].append(r_ids[problem.resident[k]])
    capacities = {c: int(cap) for c, cap in zip(c_ids, problem.capacity, strict=True)}
    out: list[tuple[str, str]] = []

    def solve() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # coaches nobody may have: the package warns
            game = HospitalResident.create_from_dictionaries(
                resident_prefs, coach_prefs, capacities
            )
            solution = game.solve(optimal="resident")
        out.extend((str(r), str(c)) for c, residents in solution.items() for r in residents)

    # the package deep-copies its linked player objects: on large games that recursion
    # needs a deeper stack than Python's default, so it runs in a thread with one
    sys.setrecursionlimit(1_000_000)
    threading.stack_size(1 << 30)
    worker = threading.Thread(target=solve)
    worker.start()
    worker.join()
    return out


def run_one(size: str, method: str, repeats: int, seed: int = 0) -> dict[str, Any]:
    """Time one method on one size in this interpreter (called in a subprocess)."""
    program = synthetic(size, seed=seed)  # type: ignore[arg-type]
    program.index  # noqa: B018 — built once, as any caller's first use would
    baseline = _status("VmRSS")

    problem = build_problem(program) if method in SOLVE_ONLY else None

    def once() -> list[tuple[str, str]]:
        if method == "reference":
            return reference(program)
        if method == "reference-solve":
            assert problem is not None
            return reference_solve(problem)
        if method == "flow-solve":
            assert problem is not None
            flow = solve_flow(problem)
            assert flow is not None
            return [
                (
                    program.residents[int(problem.residents[r])].resident_id,
                    program.coaches[int(problem.coaches[c])].coach_id,
                )
                for r, c in enumerate(flow.assignment.tolist())
                if c >= 0
            ]
        if method == "stable":
            return stable(program)
        result = match(program, method=method.removeprefix("match-"))  # type: ignore[arg-type]
        return list(zip(result.pairs["resident_id"], result.pairs["coach_id"], strict=True))

    pairs = once()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        pairs = once()
        times.append(time.perf_counter() - start)
    peak = (_status("VmHWM") - baseline) / 1024
    r7_seconds = _r7_mask_seconds(program, repeats) if method == "match-flow" else None
    stages = _stage_seconds(program, repeats) if method == "match-flow" else {}
    index = program.index
    from coachmatch.affinity import affinity_matrix

    matrix = affinity_matrix(program)
    scores = [int(matrix[index.resident[r], index.coach[c]]) for r, c in pairs]
    answered = program.respondents()
    counted = [s for (r, _), s in zip(pairs, scores, strict=True) if r in answered]
    current = {r.resident_id: r.current_coach_id for r in program.residents}
    active = sum(r.active for r in program.residents)
    return {
        "size": size,
        "method": method,
        "seconds": statistics.median(times),
        "peak_mib": peak,
        "total_affinity": sum(scores),
        "min_affinity": min(counted) if counted else None,
        "kept": sum(current[r] == c for r, c in pairs),
        "unmatched": active - len(pairs),
        "violations": len(audit(program, pairs, allow_unmatched=True)),
        "r7_seconds": r7_seconds,
        **stages,
    }


def _stage_seconds(program: coachmatch.Program, repeats: int) -> dict[str, float]:
    """Median times of match()'s stages before the solver, each on a fresh copy of the
    Program (no cached free time, masks or grids): the affinity matrix, the
    eligibility mask (every rule, R7 included) and the whole ``build_problem``; and
    ``match()`` itself on a fresh copy (a program's first match, nothing cached)."""
    from coachmatch.affinity import affinity_matrix
    from coachmatch.constraints import eligibility

    steps = {
        "affinity_s": affinity_matrix,
        "eligibility_s": eligibility,
        "build_problem_s": build_problem,
        "fresh_match_s": match,
    }
    out = {}
    for name, step in steps.items():
        times = []
        for _ in range(repeats):
            fields = {f: getattr(program, f) for f in type(program).model_fields}
            fresh = type(program).model_validate(fields, context={"checked": True})
            start = time.perf_counter()
            step(fresh)
            times.append(time.perf_counter() - start)
        out[name] = statistics.median(times)
    # as a program's software meets it: the folder read by load_program, then the step
    # (whatever the interpreter does with the objects just read counts, as it would)
    # and, paired in this interpreter: the bare solve timed right before each loaded
    # match, so that the ratio does not move with the machine's speed between processes
    bare_problem = build_problem(program)
    with tempfile.TemporaryDirectory() as scratch:
        folder = os.path.join(scratch, "program")
        write_program(program, folder)
        for name, step in (("loaded_build_problem_s", build_problem), ("loaded_match_s", match)):
            times, ratios = [], []
            for _ in range(repeats):
                loaded = load_program(folder)
                if step is match:
                    start = time.perf_counter()
                    reference_flow(bare_problem)
                    bare = time.perf_counter() - start
                start = time.perf_counter()
                step(loaded)
                times.append(time.perf_counter() - start)
                if step is match:
                    ratios.append(times[-1] / bare)
                del loaded
            out[name] = statistics.median(times)
        out["loaded_paired_ratio"] = statistics.median(ratios)
    return out


def _r7_mask_seconds(program: coachmatch.Program, repeats: int) -> float:
    """Median time of R7's mask over the pairs the other rules allow, fresh each time."""
    from coachmatch.constraints import eligibility, r7_can_meet

    allowed = eligibility(program)
    candidates = allowed.allowed | allowed.forbidden_by[r7_can_meet.NAME]
    times = []
    for _ in range(repeats):
        fields = {name: getattr(program, name) for name in type(program).model_fields}
        fresh = type(program).model_validate(fields, context={"checked": True})
        start = time.perf_counter()
        r7_can_meet.forbidden(fresh, candidates)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["small", "medium", "large"])
    parser.add_argument("--methods", nargs="+", default=list(METHODS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=1800, help="per (size, method), s")
    parser.add_argument("--json", help="also write the rows as JSON to this file")
    parser.add_argument("--seed", type=int, default=0, help="synthetic(size, seed=...)")
    parser.add_argument("--one", nargs=2, metavar=("SIZE", "METHOD"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one[0], args.one[1], args.repeats, args.seed)))
        return
    print(
        f"coachmatch {coachmatch.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()}; seed {args.seed}, median of {args.repeats} after a warm-up\n"
    )
    print(
        "| size | method | time (s) | × reference | × bare solve | affinity (s) "
        "| eligibility (s) | R7 mask (s) | build_problem (s) | first match (s) "
        "| first × bare solve | loaded: build_problem (s) | loaded: match (s) "
        "| loaded × bare solve | loaded × bare, paired | peak MiB | total affinity "
        "| × reference | min affinity (answered) | kept | unmatched | violations |"
    )
    print("|---" * 22 + "|")
    rows = []
    for size in args.sizes:
        ref: dict[str, Any] | None = None
        bare: dict[str, Any] | None = None
        for method in args.methods:
            command = [
                sys.executable,
                __file__,
                "--one",
                size,
                method,
                "--repeats",
                str(args.repeats),
                "--seed",
                str(args.seed),
            ]
            try:
                done = subprocess.run(
                    command, capture_output=True, text=True, timeout=args.timeout, check=True
                )
            except subprocess.TimeoutExpired:
                print(f"| {size} | {method} | > {args.timeout:.0f} |" + " |" * 19, flush=True)
                continue
            row = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append(row)
            if method == "reference-solve":
                bare = row
            elif method == "reference" or (ref is None and method.startswith("reference")):
                ref = row
            t_ratio = f"{row['seconds'] / ref['seconds']:.2f}" if ref else ""
            b_ratio = f"{row['seconds'] / bare['seconds']:.2f}" if bare else ""
            first = row.get("fresh_match_s")
            f_ratio = f"{first / bare['seconds']:.2f}" if bare and first is not None else ""
            loaded = row.get("loaded_match_s")
            l_ratio = f"{loaded / bare['seconds']:.2f}" if bare and loaded is not None else ""
            a_ratio = f"{row['total_affinity'] / ref['total_affinity']:.3f}" if ref else ""

            def cell(key: str, row: dict[str, Any] = row, digits: int = 3) -> str:
                return f"{row[key]:.{digits}f}" if row.get(key) is not None else ""

            print(
                f"| {size} | {method} | {row['seconds']:.3f} | {t_ratio} | {b_ratio} "
                f"| {cell('affinity_s')} | {cell('eligibility_s')} | {cell('r7_seconds')} "
                f"| {cell('build_problem_s')} | {cell('fresh_match_s')} | {f_ratio} "
                f"| {cell('loaded_build_problem_s')} | {cell('loaded_match_s')} | {l_ratio} "
                f"| {cell('loaded_paired_ratio', digits=2)} | {row['peak_mib']:.0f} "
                f"| {row['total_affinity']} | {a_ratio} | {row['min_affinity']} | {row['kept']} "
                f"| {row['unmatched']} | {row['violations']} |",
                flush=True,
            )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(rows, handle, indent=2)


if __name__ == "__main__":
    main()
