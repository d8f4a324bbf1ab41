"""``schedule()``: a year of coaching meetings with the least travel (SPEC §5).

Each coach's pairs share only the coach, and different coaches share nobody (a
resident has one coach), so the problem splits into one small model per coach. The
models are described in this process as plain data (:mod:`.tasks`), solved through
any ``concurrent.futures``-compatible executor (a process pool by default; a
dask.distributed client's ``get_executor()`` works too) by :mod:`.model`, and merged
in coach order (:mod:`.result`), so the result does not depend on which worker
finished first. The travel lower bound comes from :mod:`.pair_plan`, a dynamic
program per pair that shares nothing with the CP-SAT model.

Re-planning (``previous=``, ``as_of=``, :mod:`.replan`): the tasks start on the as-of
date, knowing each pair's held meetings and which previous meetings still hold; the
model keeps as many of those as it can, then minimizes travel, then adds the fewest
meetings.
"""

from __future__ import annotations

import copy
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from datetime import date

import pandas as pd

from coachmatch.exceptions import InfeasibleError
from coachmatch.models import Program
from coachmatch.results import Matching, Schedule
from coachmatch.solver.scheduling.model import solve_coach
from coachmatch.solver.scheduling.replan import read_previous
from coachmatch.solver.scheduling.result import schedule_result, unplanned_pairs
from coachmatch.solver.scheduling.tasks import CoachResult, CoachTask, build_tasks, matched_pairs

__all__ = ["schedule"]

log = logging.getLogger("coachmatch")


def schedule(
    program: Program,
    matching: Matching,
    *,
    previous: Schedule | pd.DataFrame | None = None,
    as_of: date | None = None,
    starts: Mapping[tuple[str, str], date] | None = None,
    ends: Mapping[tuple[str, str], date] | None = None,
    executor: Executor | None = None,
    allow_partial: bool = False,
    progress: Callable[[str], None] | None = None,
    cache: dict[CoachTask, CoachResult] | None = None,
) -> Schedule:
    """Plan every pair's meetings over the horizon with the least travel (SPEC §5).

    Parameters
    ----------
    program : Program
    matching : Matching
        The pairs to plan for (from :func:`coachmatch.match`).
    previous : Schedule or DataFrame, optional
        The previous run's meetings (``meetings.csv`` columns) to re-plan from; needs
        ``as_of``. Meetings before ``as_of`` (and cancelled ones) are carried over
        unchanged; later meetings of pairs that continue are kept where they still
        satisfy the rules (as many as possible, then the least travel); a kept meeting
        keeps its id and sequence, a moved one keeps its id with the sequence one
        higher, and one with no place in the new plan is returned as ``"cancelled"``.
    as_of : datetime.date, optional
        The re-planning date; nothing is planned before it. Alone (no ``previous``),
        every pair starts on it.
    starts, ends : mapping of (resident_id, coach_id) to date, optional
        Start dates of pairs made, and last dates of pairs ended, during the horizon
        by earlier runs, when ``previous`` is a table (a Schedule carries its own).
    executor : concurrent.futures.Executor, optional
        Runs the per-coach models; default: a process pool with one worker per core
        (in-process for a single coach). Results are merged in coach order.
    allow_partial : bool, default False
        Return the plan with the pairs that could not be planned listed in
        ``Schedule.unplanned`` (status ``"partial"``), instead of raising. Either way
        each coach plans as many of their pairs as possible, then the least travel.
    progress : callable, optional
        Receives a line per coach solved (also logged to ``coachmatch``).
    cache : dict, optional
        Kept by the caller between calls: a coach whose task (pairs, free time,
        policy) is unchanged since an earlier call is not solved again. The batch
        run uses it when it re-schedules after re-matching a few residents.

    Returns
    -------
    Schedule

    Raises
    ------
    InfeasibleError
        When some pair cannot be planned under S1-S4 (and not ``allow_partial``),
        with a reason per pair naming dates and causes.
    ValueError
        When ``previous`` is given without ``as_of``, or is not a meetings table.

    Examples
    --------
    >>> import coachmatch
    >>> from datetime import date
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> matching = coachmatch.match(program)
    >>> plan = schedule(program, matching)
    >>> plan.status, coachmatch.audit_schedule(program, plan.meetings) == []
    ('optimal', True)
    >>> again = schedule(program, matching, previous=plan, as_of=date(2026, 11, 1))
    >>> again.changes
    {'kept': 283, 'moved': 0, 'new': 0, 'cancelled': 0}
    """
    started = time.perf_counter()
    if previous is not None and as_of is None:
        raise ValueError("re-planning from a previous schedule needs as_of (a date)")
    history = (
        read_previous(program, previous, as_of, starts=starts, ends=ends)
        if as_of is not None
        else None
    )
    tasks = build_tasks(program, matching, history=history)
    results = _run(tasks, executor, progress, cache)
    unplanned = [
        item
        for task, result in zip(tasks, results, strict=True)
        for item in unplanned_pairs(program, task, result)
    ]
    if unplanned and not allow_partial:
        raise InfeasibleError([why for _, _, why in unplanned], "schedule")
    return schedule_result(
        program,
        tasks,
        results,
        unplanned,
        time.perf_counter() - started,
        history,
        matched_pairs(matching),
    )


def _run(
    tasks: Sequence[CoachTask],
    executor: Executor | None,
    progress: Callable[[str], None] | None,
    cache: dict[CoachTask, CoachResult] | None = None,
) -> list[CoachResult]:
    def note(message: str) -> None:
        log.info(message)
        if progress is not None:
            progress(message)

    known = cache if cache is not None else {}
    todo = [task for task in tasks if task not in known]
    if executor is None and len(todo) > 1 and (os.cpu_count() or 1) > 1:
        solved = _in_own_pool(todo, note)
    elif executor is None:
        solved = [_noted(solve_coach(task), note) for task in todo]
    else:
        solved = _collect(executor, todo, note)
    fresh = dict(zip(todo, solved, strict=True))
    if cache is not None:
        cache.update(fresh)
    return [fresh[task] if task in fresh else copy.deepcopy(known[task]) for task in tasks]


def _in_own_pool(tasks: Sequence[CoachTask], note: Callable[[str], None]) -> list[CoachResult]:
    """The tasks on a process pool of our own, whose workers never outlive this process:
    they ignore Ctrl-C (this process answers it), watch their parent and exit when it is
    gone (even killed outright), and are terminated if this process is interrupted."""
    pool = own_pool(os.cpu_count() or 1)
    try:
        solved = _collect(pool, tasks, note)
    except BaseException:
        stop_pool(pool)
        raise
    pool.shutdown()
    return solved


def own_pool(workers: int) -> ProcessPoolExecutor:
    """A process pool whose workers ignore Ctrl-C and exit when this process is gone
    (see :func:`_worker_setup`); stop it early with :func:`stop_pool`."""
    return ProcessPoolExecutor(
        max_workers=workers, initializer=_worker_setup, initargs=(os.getpid(),)
    )


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop a pool of our own at once: cancel what waits, terminate what runs.

    The pool offers no public way to stop work in progress; its processes are ours.
    Its manager thread is then given a moment to see them gone and close its pipes, so
    that interpreter exit does not write to a closed one (a traceback on Ctrl-C under
    Python 3.11).
    """
    running = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for process in running:
        process.terminate()
    for process in running:
        process.join(timeout=5)
    if manager is not None:
        manager.join(timeout=5)


def _worker_setup(parent: int) -> None:
    """In each worker: leave Ctrl-C to the parent, and exit as soon as it is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="coachmatch-parent-watch", daemon=True).start()


def _collect(
    executor: Executor, tasks: Sequence[CoachTask], note: Callable[[str], None]
) -> list[CoachResult]:
    futures = [executor.submit(solve_coach, task) for task in tasks]
    return [_noted(f.result(), note) for f in futures]


def _noted(result: CoachResult, note: Callable[[str], None]) -> CoachResult:
    state = f"{len(result.meetings)} meetings"
    if result.unplanned:
        state += f", {len(result.unplanned)} pairs not planned"
    note(f"scheduled {result.coach_id}: {state}")
    return result
