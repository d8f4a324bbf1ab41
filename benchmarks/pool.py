"""Benchmark: single pools up to 30,000 × 7,500, matched exactly with proof (issue 13, item 7).

Protocol
--------
- Instances: one pool of ``n`` residents and ``n / 4`` coaches in a single program,
  ``coachmatch.datasets.synthetic(None, residents=n, coaches=n // 4, sites=29,
  programs=1, seed=0)``, default policy (R7 on: the pool path judges it for the pairs
  its proof needs, the arc path for every pair the other rules allow); up to 221
  million pairs.
- Each (size, method) runs in a fresh interpreter; each step is timed once
  (``time.perf_counter``; results are deterministic). Methods:
  - ``pool``: ``match(program)`` through the pool path (:mod:`coachmatch.solver.pool`;
    ``match()`` takes it from 20 million active pairs, forced here for smaller sizes):
    dense eligibility and uint8 affinity, candidate pairs only, all four levels, every
    decision proven on every pair by reduced costs. Its result is audited.
  - ``arcs``: ``build_problem`` (every allowed pair an arc) then
    ``solve_flow(prune="auto")`` (the O1/O3/O4 solve on each side's 8 best pairs, proven
    on all arcs), then ``solve_flow(prune=None)`` (every level on every arc), then the
    reference (``matching.py``'s): one bare OR-Tools min-cost flow of the pure
    assignment (-affinity costs, caps) on every arc. Only where every arc fits in
    memory (``--arcs-up-to``).
- Checked: the pool path's optimized levels equal the arc path's (and the pruned and
  full arc solves equal each other); ``audit()`` finds no violation in the pool's pairs.
- Memory: VmHWM of the process (the whole interpreter, the Program included), and the
  Program's own share before matching.
- Run: ``python benchmarks/pool.py [--sizes 2500 5000 10000 20000 30000]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import coachmatch
from coachmatch.datasets import synthetic
from coachmatch.solver.flow import FlowResult, solve_flow
from coachmatch.solver.problem import MatchingProblem, build_problem


def _peak_mib() -> int:
    with open("/proc/self/status", encoding="ascii") as handle:
        found = re.search(r"VmHWM:\s+(\d+) kB", handle.read())
    return int(found.group(1)) // 1024 if found else 0


def levels(problem: MatchingProblem, result: FlowResult) -> tuple[int, ...]:
    """The levels of a flow result, measured on the problem's arcs."""
    matched = result.assignment >= 0
    residents = np.flatnonzero(matched)
    coaches = result.assignment[matched]
    affinity = problem.matrix[problem.residents[residents], problem.coaches[coaches]]
    load = np.bincount(coaches, minlength=problem.n_coaches)
    index = problem.program.index
    current = {
        (index.resident[r.resident_id], index.coach[r.current_coach_id])
        for r in problem.program.residents
        if r.current_coach_id is not None and r.current_coach_id in index.coach
    }
    kept = sum(
        (int(problem.residents[r]), int(problem.coaches[c])) in current
        for r, c in zip(residents, coaches, strict=True)
    )
    answered = problem.respondent[residents]
    return (
        result.unmatched,
        kept,
        int(affinity[answered].min()) if answered.any() else -1,
        int(affinity.sum()),
        int((load**2).sum()),
    )


def reference_flow() -> Callable[[MatchingProblem], Any]:
    """``matching.py``'s reference: one bare min-cost flow of the pure assignment on
    every arc, loaded by path (that script keeps its own folder off the import path,
    for the ``matching`` package it compares against)."""
    spec = importlib.util.spec_from_file_location(
        "benchmark_matching", Path(__file__).with_name("matching.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    solve: Callable[[MatchingProblem], Any] = module.reference_flow
    return solve


def run_one(n: int, method: str) -> dict[str, Any]:
    """Time one method on one pool in this interpreter (called in a subprocess)."""
    from unittest import mock

    from coachmatch import audit, match
    from coachmatch.solver import matching

    program = synthetic(None, residents=n, coaches=n // 4, sites=29, programs=1, seed=0)
    program.index  # noqa: B018 — built once, as any caller's first use would
    row: dict[str, Any] = {"program MiB": _peak_mib()}
    if method == "pool":
        start = time.perf_counter()
        with mock.patch.object(matching, "POOL_CELLS", 0):
            result = match(program)
        row["pool match (s)"] = time.perf_counter() - start
        row["pool MiB"] = _peak_mib()
        assert result.proof is not None
        row["pairs"] = result.proof.arcs
        row["candidates"] = result.proof.solved_on
        row["rounds"] = result.proof.attempts
        row["levels"] = [result.levels[k] for k in result.optimized]
        row["violations"] = len(audit(program, result.pairs))
        return row
    start = time.perf_counter()
    problem = build_problem(program)
    row["build_problem (s)"] = time.perf_counter() - start
    start = time.perf_counter()
    pruned = solve_flow(problem, prune="auto")
    row["arcs match (s)"] = time.perf_counter() - start + row["build_problem (s)"]
    assert pruned is not None and pruned.proof is not None
    start = time.perf_counter()
    whole = solve_flow(problem, prune=None)
    row["full solve (s)"] = time.perf_counter() - start
    assert whole is not None
    row["pruned = full"] = levels(problem, pruned) == levels(problem, whole)
    reference = reference_flow()
    start = time.perf_counter()
    reference(problem)
    row["reference (s)"] = time.perf_counter() - start
    row["arcs MiB"] = _peak_mib()
    result = matching._result(problem, pruned.assignment, "flow", True, {}, 0.0)
    row["levels"] = [result.levels[k] for k in result.optimized]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[2500, 5000, 10000, 20000, 30000])
    parser.add_argument("--arcs-up-to", type=int, default=10000)
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(int(args.one[0]), args.one[1])))
        return
    print(
        f"coachmatch {coachmatch.__version__}, {platform.python_implementation()} "
        f"{platform.python_version()}, {platform.machine()}, "
        f"{len(__import__('os').sched_getaffinity(0))} CPUs"
    )
    columns = [
        "residents × coaches",
        "pairs",
        "program MiB",
        "pool match (s)",
        "candidates",
        "rounds",
        "pool MiB",
        "violations",
        "arcs match (s)",
        "full solve (s)",
        "reference (s)",
        "arcs MiB",
        "same levels",
        "pool × reference",
    ]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for n in args.sizes:
        row: dict[str, Any] = {"residents × coaches": f"{n:,} × {n // 4:,}"}
        methods = ["pool"] + (["arcs"] if n <= args.arcs_up_to else [])
        found = {}
        for method in methods:
            command = [sys.executable, __file__, "--one", str(n), method]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(f"{n} {method}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
                continue
            found[method] = json.loads(done.stdout.strip().splitlines()[-1])
            row.update({k: v for k, v in found[method].items() if k != "levels"})
        if len(found) == 2:
            same = found["pool"]["levels"] == found["arcs"]["levels"] and found["arcs"].get(
                "pruned = full"
            )
            row["same levels"] = bool(same)
            row["pool × reference"] = row["pool match (s)"] / row["reference (s)"]
        cells = []
        for column in columns:
            value = row.get(column)
            if isinstance(value, bool):
                cells.append("yes" if value else "NO")
            elif isinstance(value, float):
                cells.append(f"{value:.2f}")
            elif isinstance(value, int):
                cells.append(f"{value:,}")
            elif isinstance(value, str):
                cells.append(value)
            else:
                cells.append("–")
        print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
