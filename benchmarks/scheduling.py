"""Benchmark: a full academic year of meetings, with 1 and 2 worker processes.

Protocol
--------
- Instances: ``coachmatch.datasets.synthetic(size, seed)`` for each of ``--seeds``
  (default 0; issue 13 asks for large "on any seed"), matched with
  ``coachmatch.match`` (not timed), then scheduled over the whole horizon
  (1 July to 30 June).
- Each (size, workers) runs in a fresh interpreter; ``schedule()`` runs once with a
  ``ProcessPoolExecutor(max_workers=workers)`` and is timed with ``time.perf_counter``
  (a scheduling run is long enough that one run is representative; the model is
  deterministic, so every run gives the same plan). Peak memory is the growth of
  VmHWM of the main process over its size after matching (workers not included).
- Reported: wall time, peak memory, meetings, total travel; the reference, the
  relaxation floor (each planned pair's own least travel with the coach's other
  pairs ignored, :func:`coachmatch.solver.scheduling.pair_lower_bound`, computed here
  after the timing) and travel's ratio to it; the schedule's own lower bound (the
  coaches' proven optima where proven, else their pairs' floors); the status; and the
  violations ``audit_schedule()`` finds (must be 0). A seed whose program cannot be
  matched (some synthetic draws leave residents without any allowed coach) is
  reported as such, not scheduled.
- Run: ``python benchmarks/scheduling.py [--sizes medium large] [--workers 1 2]
  [--seeds 0 1 2]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import coachmatch
from coachmatch import audit_schedule, match, schedule
from coachmatch.datasets import synthetic
from coachmatch.exceptions import InfeasibleError
from coachmatch.solver.scheduling import build_tasks, pair_lower_bound


def _status(key: str) -> int:
    with open("/proc/self/status", encoding="ascii") as handle:
        found = re.search(key + r":\s+(\d+) kB", handle.read())
    return int(found.group(1)) if found else 0


def run_one(size: str, workers: int, seed: int = 0) -> dict[str, Any]:
    program = synthetic(size, seed=seed)  # type: ignore[arg-type]
    try:
        matching = match(program)
    except InfeasibleError:
        return {"size": size, "workers": workers, "seed": seed, "infeasible": True}
    baseline = _status("VmRSS")
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        plan = schedule(program, matching, executor=pool, allow_partial=True)
    seconds = time.perf_counter() - start
    peak = (_status("VmHWM") - baseline) / 1024
    bound = plan.travel_lower_bound
    unplanned = set(zip(plan.unplanned["resident_id"], plan.unplanned["coach_id"], strict=True))
    floor = sum(
        pair_lower_bound(pair, task)
        for task in build_tasks(program, matching)
        for pair in task.pairs
        if (pair.resident_id, pair.coach_id) not in unplanned
    )
    return {
        "size": size,
        "workers": workers,
        "seed": seed,
        "pairs": len(matching.pairs),
        "seconds": seconds,
        "peak_mib": peak,
        "floor": round(floor),
        "meetings": len(plan.meetings),
        "travel": plan.travel_total,
        "bound": bound,
        "ratio": plan.travel_total / floor if floor else None,
        "status": plan.status,
        "not_planned": len(plan.problems),
        "violations": len(audit_schedule(program, plan.meetings)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["medium", "large"])
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one[0], int(args.one[1]), int(args.one[2]))))
        return
    print(
        f"coachmatch {coachmatch.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()}\n"
    )
    print(
        "| size | seed | pairs | workers | time (s) | peak MiB | meetings | travel "
        "| relaxation floor | × floor | proven bound | status | not planned | violations |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for size, seed, workers in (
        (size, seed, workers)
        for size in args.sizes
        for seed in args.seeds
        for workers in args.workers
    ):
        done = subprocess.run(
            [sys.executable, __file__, "--one", size, str(workers), str(seed)],
            capture_output=True,
            text=True,
            check=True,
        )
        row = json.loads(done.stdout.strip().splitlines()[-1])
        if row.get("infeasible"):
            print(f"| {size} | {seed} | – | {workers} | cannot be matched (InfeasibleError) |")
            continue
        ratio = f"{row['ratio']:.4f}" if row["ratio"] else "-"
        print(
            f"| {size} | {seed} | {row['pairs']} | {workers} | {row['seconds']:.1f} "
            f"| {row['peak_mib']:.0f} | {row['meetings']} | {row['travel']} "
            f"| {row['floor']} | {ratio} | {row['bound']} | {row['status']} "
            f"| {row['not_planned']} "
            f"| {row['violations']} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
