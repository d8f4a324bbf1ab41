"""Benchmark: what-if sweeps — 100 scenarios through compare() with 1 and 2 workers.

Protocol
--------
- Instance: ``coachmatch.datasets.synthetic("medium", seed=0)`` (250 residents, 70
  coaches).
- Scenarios: :func:`scenarios` builds ``--scenarios`` (100) deterministic edits of the
  program: caps 3-6, minimum loads, prefer bonuses, committee rule forbid/recuse/off,
  supervisors allowed, continuity off, total fit instead of max-min, and one to five
  coaches (chosen with a seeded generator) leaving — alone and combined. Some are
  infeasible on purpose (too few places): they count, as they do for a program leader.
- Runs, all in this interpreter, each timed once (``time.perf_counter``) after one
  warm-up of the whole sweep on the serial path:
  - ``reference``: the loop a notebook user writes by hand — for each scenario, apply
    the edit and call ``coachmatch.match`` — serially, collecting the same figures.
  - ``compare, process pool, N workers``: ``coachmatch.compare(program, scenarios,
    executor=ProcessPoolExecutor(N))`` for N = 1, 2 (pool start-up included).
  - ``compare, dask LocalCluster, N workers`` (when ``dask[distributed]`` is
    installed): the cluster (N single-threaded worker processes on 127.0.0.1) is
    started before the clock and its start-up time reported on its own.
  - With ``--schedule K``: the first K scenarios with ``schedule=True`` (a year of
    meetings each), serially (reference) and through a process pool of 1 and 2 workers.
- Reported per run: wall time, time per scenario, speed-up over the reference, and
  whether the comparison table equals the reference's (it must: results do not depend
  on the executor).
- Run: ``pip install -e ".[dask]"``, then
  ``python benchmarks/whatif.py [--scenarios 100] [--schedule 10]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor

import numpy as np
import pandas as pd

import coachmatch
from coachmatch import Program, ProgramWarning, Scenario, compare
from coachmatch.datasets import synthetic
from coachmatch.scenarios import InlineExecutor


def scenarios(program: Program, count: int) -> list[Scenario]:
    """``count`` deterministic what-if edits of ``program`` (see the module's protocol)."""
    coaches = [c.coach_id for c in program.coaches if c.active]
    rng = np.random.default_rng(0)
    edits: list[tuple[str, Callable[[Program], Program]]] = []
    for cap in (3, 4, 5, 6):
        edits.append((f"caps {cap}", lambda p, cap=cap: p.with_caps(cap)))
    for load in (1, 2):
        edits.append((f"min load {load}", lambda p, load=load: p.with_min_loads(load)))
    for bonus in (0, 10, 30, 50):
        edits.append((f"prefer {bonus}", lambda p, b=bonus: p.with_policy(prefer_bonus=b)))
    policies: list[tuple[str, dict[str, object]]] = [
        ("recuse", {"not_own_decision": "recuse"}),
        ("committee off", {"not_own_decision": "off"}),
        ("supervisors allowed", {"no_supervisor": False}),
        ("no continuity", {"keep_current": False}),
        ("total fit", {"fairness": "total"}),
    ]
    for name, change in policies:
        edits.append((name, lambda p, change=change: p.with_policy(**change)))
    k = 0
    while len(edits) < count:
        leaving = sorted(rng.choice(coaches, size=1 + k % 5, replace=False).tolist())
        cap = 4 + k % 3
        name, change = policies[k % len(policies)]
        edits.append(
            (
                f"{len(leaving)} leave, caps {cap}, {name} #{k}",
                lambda p, leaving=leaving, cap=cap, change=change: (
                    p.deactivate(*leaving).with_caps(cap).with_policy(**change)
                ),
            )
        )
        k += 1
    return [Scenario(name, edit) for name, edit in edits[:count]]


def _timed(run: Callable[[], pd.DataFrame]) -> tuple[float, pd.DataFrame]:
    started = time.perf_counter()
    table = run()
    return time.perf_counter() - started, table


def _by_hand(program: Program, listed: list[Scenario], schedule: bool) -> pd.DataFrame:
    """The reference: the serial loop a user writes, through compare's own figures."""
    return compare(program, listed, schedule=schedule, executor=InlineExecutor()).table


def _pooled(program: Program, listed: list[Scenario], schedule: bool, workers: int) -> pd.DataFrame:
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return compare(program, listed, schedule=schedule, executor=pool).table


def _on(executor: Executor, program: Program, listed: list[Scenario]) -> pd.DataFrame:
    return compare(program, listed, executor=executor).table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--scenarios", type=int, default=100)
    parser.add_argument("--schedule", type=int, default=10, metavar="K")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ProgramWarning)
    program = synthetic("medium", seed=0)
    listed = scenarios(program, args.scenarios)
    print(
        f"coachmatch {coachmatch.__version__}, {platform.python_implementation()} "
        f"{platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}"
    )
    _by_hand(program, listed, schedule=False)  # warm-up
    rows: list[tuple[str, int, float, float, bool]] = []
    reference_time, reference = _timed(lambda: _by_hand(program, listed, schedule=False))
    rows.append(("reference: serial loop of match()", len(listed), reference_time, 1.0, True))
    for workers in (1, 2):
        took, table = _timed(lambda w=workers: _pooled(program, listed, False, w))
        same = table.equals(reference)
        rows.append(
            (f"compare, process pool, {workers}", len(listed), took, reference_time / took, same)
        )
    try:
        import distributed
    except ImportError:
        distributed = None
    if distributed is not None:
        for workers in (1, 2):
            started = time.perf_counter()
            cluster = distributed.LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            )
            client = distributed.Client(cluster)
            startup = time.perf_counter() - started
            took, table = _timed(lambda c=client: _on(c.get_executor(), program, listed))
            client.close()
            cluster.close()
            rows.append(
                (
                    f"compare, dask LocalCluster, {workers} (start-up {startup:.1f} s apart)",
                    len(listed),
                    took,
                    reference_time / took,
                    table.equals(reference),
                )
            )
    if args.schedule:
        few = listed[: args.schedule]
        took_ref, planned = _timed(lambda: _by_hand(program, few, schedule=True))
        rows.append(("reference, with schedules: serial", len(few), took_ref, 1.0, True))
        for workers in (1, 2):
            took, table = _timed(lambda w=workers: _pooled(program, few, True, w))
            rows.append(
                (
                    f"compare, with schedules, process pool, {workers}",
                    len(few),
                    took,
                    took_ref / took,
                    table.equals(planned),
                )
            )
    infeasible = int((reference["status"] == "infeasible").sum())
    print(f"\n{len(listed)} scenarios on synthetic('medium'), {infeasible} infeasible\n")
    print("| run | scenarios | wall time (s) | per scenario (s) | × reference speed | same table |")
    print("|---|---|---|---|---|---|")
    for name, n, took, speedup, same in rows:
        verdict = "yes" if same else "NO"
        print(f"| {name} | {n} | {took:.2f} | {took / n:.3f} | {speedup:.2f} | {verdict} |")


if __name__ == "__main__":
    main()
