"""Benchmark: a national-scale run — many faculties matched and scheduled on a dask cluster.

Protocol
--------
- Instances: ``--faculties`` (default 32) faculties, each
  ``coachmatch.datasets.synthetic("large", seed=k)`` for k = 0, 1, ... (5,000 residents
  and 1,300 coaches in 30 programs each: 32 of them are 160,000 residents and 41,600
  coaches). Faculties are matched and scheduled each on its own, as faculties run
  their programs; nothing is shared between them.
- Each faculty is one task on a ``dask.distributed`` ``LocalCluster`` of N single-threaded
  worker processes on 127.0.0.1 (N from ``--workers``, default 1 and 2): the worker
  builds the program, runs ``match()`` and ``schedule()`` (its coaches solved in that
  worker, one after another; residents no matching can place are left unmatched with
  their reasons, as a program would ask for a faculty-wide run), checks both with
  ``audit()`` and ``audit_schedule()``, and returns its figures. The cluster starts
  before the clock (its start-up is reported on its own); the clock covers submitting
  every faculty to having every result.
- Reported per cluster size: wall time, the summed task time (the work itself), the
  speed-up over one worker, the peak memory of each worker process (VmHWM, read by the
  worker after each task; the largest over its tasks), how many faculties came out
  ``optimal`` for matching and for scheduling, and the violations the audits found
  (must be 0). Per faculty (the first cluster size): build, match and schedule times.
- From these, the script prints the estimate of the cluster a national run needs: the
  mean work per faculty, the efficiency measured from 1 to 2 workers, and the workers
  that finish a given number of faculties within a given time.
- Run: ``pip install -e ".[dask]"``, then
  ``python benchmarks/national.py [--faculties 32] [--workers 1 2]``.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import re
import time
from typing import Any

import coachmatch
from coachmatch import audit, audit_schedule, match, schedule
from coachmatch.datasets import synthetic
from coachmatch.scenarios import InlineExecutor


def _peak_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as handle:
        found = re.search(r"VmHWM:\s+(\d+) kB", handle.read())
    return int(found.group(1)) / 1024 if found else 0.0


def faculty(seed: int, size: str = "large") -> dict[str, Any]:
    """One faculty's whole run in this (worker) process: build, match, schedule, audit."""
    started = time.perf_counter()
    program = synthetic(size, seed=seed)  # type: ignore[arg-type]
    built = time.perf_counter()
    matching = match(program, allow_unmatched=True)
    matched = time.perf_counter()
    plan = schedule(program, matching, executor=InlineExecutor(), allow_partial=True)
    scheduled = time.perf_counter()
    violations = len(audit(program, matching.pairs, allow_unmatched=True))
    violations += len(audit_schedule(program, plan.meetings))
    return {
        "seed": seed,
        "pid": os.getpid(),
        "residents": sum(r.active for r in program.residents),
        "coaches": sum(c.active for c in program.coaches),
        "build_s": built - started,
        "match_s": matched - built,
        "schedule_s": scheduled - matched,
        "task_s": time.perf_counter() - started,
        "match_status": matching.status,
        "unmatched": len(matching.unmatched),
        "schedule_status": plan.status,
        "meetings": len(plan.meetings),
        "travel": plan.travel_total,
        "bound": plan.travel_lower_bound,
        "violations": violations,
        "peak_mib": _peak_mib(),
    }


def run(faculties: int, workers: int, size: str) -> tuple[float, float, list[dict[str, Any]]]:
    """(cluster start-up s, wall s, results) of every faculty on ``workers`` workers."""
    from distributed import Client, LocalCluster

    begun = time.perf_counter()
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        memory_limit=0,  # measured here, not managed
    )
    client = Client(cluster)
    startup = time.perf_counter() - begun
    try:
        start = time.perf_counter()
        futures = client.map(faculty, range(faculties), size=size, pure=False)
        results: list[dict[str, Any]] = client.gather(futures)
        wall = time.perf_counter() - start
    finally:
        client.close()
        cluster.close()
    return startup, wall, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faculties", type=int, default=32)
    parser.add_argument("--size", default="large", help="each faculty's synthetic size")
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--target-minutes", type=float, default=10.0)
    parser.add_argument("--national", type=int, default=40, help="faculties in the estimate")
    args = parser.parse_args()
    print(
        f"coachmatch {coachmatch.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} cores; {args.faculties} faculties of "
        f'synthetic("{args.size}")\n'
    )
    print(
        "| workers | residents × coaches | start-up (s) | wall (s) | work (s) | speed-up "
        "| peak MiB per worker | matching optimal | unmatched | schedule optimal | violations |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    rows: dict[int, tuple[float, list[dict[str, Any]]]] = {}
    for workers in args.workers:
        startup, wall, results = run(args.faculties, workers, args.size)
        rows[workers] = (wall, results)
        work = sum(r["task_s"] for r in results)
        peaks: dict[int, float] = {}
        for r in results:
            peaks[r["pid"]] = max(peaks.get(r["pid"], 0.0), r["peak_mib"])
        speedup = rows[min(rows)][0] / wall
        print(
            f"| {workers} | {sum(r['residents'] for r in results):,} × "
            f"{sum(r['coaches'] for r in results):,} | {startup:.1f} | {wall:.0f} | {work:.0f} "
            f"| {speedup:.2f} | {', '.join(f'{p:.0f}' for p in sorted(peaks.values()))} "
            f"| {sum(r['match_status'] == 'optimal' for r in results)} of {len(results)} "
            f"| {sum(r['unmatched'] for r in results)} "
            f"| {sum(r['schedule_status'] == 'optimal' for r in results)} of {len(results)} "
            f"| {sum(r['violations'] for r in results)} |",
            flush=True,
        )
    first = rows[min(rows)][1]
    print("\nPer faculty (first cluster size):\n")
    print("| seed | build (s) | match (s) | schedule (s) | unmatched | meetings | travel | bound |")
    print("|---|---|---|---|---|---|---|---|")
    for r in sorted(first, key=lambda r: r["seed"]):
        print(
            f"| {r['seed']} | {r['build_s']:.1f} | {r['match_s']:.1f} | {r['schedule_s']:.1f} "
            f"| {r['unmatched']} | {r['meetings']} | {r['travel']} | {r['bound']} |"
        )
    per_faculty = sum(r["task_s"] for r in first) / len(first)
    efficiency = 1.0
    if 1 in rows and 2 in rows:
        efficiency = rows[1][0] / rows[2][0] / 2
    peak = max(r["peak_mib"] for wall_results in rows.values() for r in wall_results[1])
    needed = math.ceil(args.national * per_faculty / (args.target_minutes * 60 * efficiency))
    print(
        f"\nEstimate: {per_faculty:.1f} s of work per faculty; efficiency from 1 to 2 "
        f"workers {efficiency:.2f}; {args.national} faculties within "
        f"{args.target_minutes:.0f} min need about {needed} single-threaded workers of "
        f"this machine's kind, each with {peak / 1024:.1f} GiB of memory at most "
        f"({needed * peak / 1024:.0f} GiB in all)."
    )


if __name__ == "__main__":
    main()
