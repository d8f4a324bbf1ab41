"""What-if scenarios: edits of a Program, matched (and scheduled) side by side.

A :class:`Scenario` is a name plus an edit of the baseline program (a function of it,
or a program made beforehand). :func:`compare` matches the baseline and every
scenario — optionally schedules them — through a ``concurrent.futures.Executor`` and
returns a :class:`Comparison`: one row per scenario with the figures program leaders
ask about (kept pairs, fit among respondents, caseloads, unmatched, unplanned, travel,
pairs changed against the baseline).

Edits run in the calling process (so any function will do, lambdas included); only
the edited programs travel to the executor's workers. The figures do not depend on
the executor: a process pool, a ``dask.distributed`` cluster
(``client.get_executor()``) or none give the same table.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from html import escape
from typing import Any, cast

import numpy as np
import pandas as pd

from coachmatch.exceptions import InfeasibleError
from coachmatch.models import Program
from coachmatch.results import Matching, Schedule
from coachmatch.solver.scheduling.plan import own_pool, stop_pool

__all__ = ["Comparison", "InlineExecutor", "Scenario", "compare"]

#: affinity under which a respondent counts as poorly matched, by default
LOW_AFFINITY = 40
#: columns that are not whole numbers
_FRACTIONS = frozenset(
    {"p10_affinity", "median_affinity", "mean_affinity", "caseload_std", "travel_per_resident"}
)


class InlineExecutor(Executor):
    """An executor that runs each call at once, in the calling thread.

    For code that takes an executor when no parallelism is wanted (inside a worker
    that is itself part of a pool, or for debugging).

    Examples
    --------
    >>> InlineExecutor().submit(sum, [1, 2]).result()
    3
    """

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # the caller sees it through result()
            future.set_exception(error)
        return future


@dataclass(frozen=True)
class Scenario:
    """A named change to a program, for :func:`compare`.

    Parameters
    ----------
    name : str
    edit : callable or Program, optional
        A function from the baseline Program to the scenario's (``lambda p:
        p.with_caps(5)``), or the scenario's Program itself; None is the baseline
        unchanged (useful with other match options).
    match_options : dict, optional
        Keyword arguments for :func:`coachmatch.match` (``allow_unmatched=True``).

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> scenario = Scenario("caps of 5", lambda p: p.with_caps(5))
    >>> {p.capacity(c) for p in [scenario.apply(synthetic("small"))] for c in p.coaches}
    {5}
    """

    name: str
    edit: Callable[[Program], Program] | Program | None = None
    match_options: dict[str, Any] = field(default_factory=dict)

    def apply(self, baseline: Program) -> Program:
        """The scenario's program."""
        if self.edit is None:
            return baseline
        if isinstance(self.edit, Program):
            return self.edit
        program = self.edit(baseline)
        if not isinstance(program, Program):
            raise TypeError(
                f"scenario {self.name!r}: its edit must return a Program, "
                f"got {type(program).__name__}"
            )
        return program


@dataclass(frozen=True)
class _Outcome:
    row: dict[str, Any]
    matching: Matching | None
    schedule: Schedule | None


def _evaluate(
    name: str,
    program: Program,
    options: dict[str, Any],
    plan: bool,
    threshold: int,
) -> _Outcome:
    """Match (and schedule) one scenario; the figures of its row."""
    from coachmatch.solver import match, schedule

    row: dict[str, Any] = {"scenario": name}
    active = [r.resident_id for r in program.residents if r.active]
    row["residents"] = len(active)
    row["coaches"] = sum(c.active for c in program.coaches)
    try:
        matching = match(program, **options)
    except InfeasibleError as error:
        row["status"] = "infeasible"
        row["note"] = error.reasons[0] if error.reasons else str(error)
        return _Outcome(row, None, None)
    row.update(_matching_figures(matching, threshold))
    plan_result: Schedule | None = None
    if plan:
        try:
            plan_result = schedule(program, matching, allow_partial=True, executor=InlineExecutor())
        except InfeasibleError as error:  # pragma: no cover - allow_partial returns instead
            row["note"] = error.reasons[0] if error.reasons else str(error)
        else:
            row.update(_schedule_figures(plan_result, len(matching.pairs)))
    # the caller has the program: results travel back without it (and its caches)
    lean = cast(Program, None)
    return _Outcome(
        row,
        dataclasses.replace(matching, program=lean),
        dataclasses.replace(plan_result, program=lean) if plan_result is not None else None,
    )


def _with_program(outcome: _Outcome, program: Program) -> _Outcome:
    """The outcome with its results' program put back (see :func:`_evaluate`)."""
    return _Outcome(
        outcome.row,
        dataclasses.replace(outcome.matching, program=program) if outcome.matching else None,
        dataclasses.replace(outcome.schedule, program=program) if outcome.schedule else None,
    )


def _matching_figures(matching: Matching, threshold: int) -> dict[str, Any]:
    pairs = matching.pairs
    answered = matching.program.respondents()
    fit = pairs.loc[pairs["resident_id"].isin(answered), "affinity"].to_numpy()
    loads = matching.caseloads["caseload"].to_numpy()
    used = loads[loads > 0]
    return {
        "status": matching.status,
        "note": "",
        "matched": len(pairs),
        "unmatched": len(matching.unmatched),
        "kept": int(pairs["kept"].sum()),
        "respondents": len(fit),
        "min_affinity": int(fit.min()) if len(fit) else pd.NA,
        "p10_affinity": float(np.percentile(fit, 10)) if len(fit) else np.nan,
        "median_affinity": float(np.median(fit)) if len(fit) else np.nan,
        "mean_affinity": round(float(fit.mean()), 2) if len(fit) else np.nan,
        f"below_{threshold}": int((fit < threshold).sum()),
        "coaches_used": len(used),
        "caseload_min": int(used.min()) if len(used) else 0,
        "caseload_max": int(used.max()) if len(used) else 0,
        "caseload_std": round(float(used.std()), 3) if len(used) else 0.0,
    }


def _schedule_figures(plan: Schedule, matched: int) -> dict[str, Any]:
    meetings = plan.scheduled
    return {
        "schedule_status": plan.status,
        "unplanned_pairs": len(plan.unplanned),
        "meetings": len(meetings),
        "travel_total": int(plan.travel_total),
        "travel_per_resident": round(plan.travel_total / matched, 2) if matched else 0.0,
    }


def _changed(baseline: Matching | None, other: Matching | None) -> Any:
    if baseline is None or other is None:
        return pd.NA
    before = dict(zip(baseline.pairs["resident_id"], baseline.pairs["coach_id"], strict=True))
    after = dict(zip(other.pairs["resident_id"], other.pairs["coach_id"], strict=True))
    return sum(before.get(r) != after.get(r) for r in set(before) | set(after))


@dataclass(frozen=True)
class Comparison:
    """The scenarios side by side: :attr:`table` (a row per scenario, the baseline
    first) and each scenario's :class:`Matching` and :class:`Schedule`.

    Columns of ``table``: scenario (the index), status, note (why a scenario has no
    matching), residents, coaches, matched, unmatched, kept, respondents,
    min/p10/median/mean affinity among respondents, ``below_<threshold>``,
    coaches_used, caseload_min/max/std (among coaches used), changed (residents
    whose coach differs from the baseline's) and, when scheduled, schedule_status,
    unplanned_pairs, meetings, travel_total, travel_per_resident (minutes per
    matched resident).
    """

    table: pd.DataFrame
    matchings: dict[str, Matching | None]
    schedules: dict[str, Schedule | None]

    def __getitem__(self, key: Any) -> Any:
        return self.table[key]

    def __len__(self) -> int:
        return len(self.table)

    def to_frame(self) -> pd.DataFrame:
        """The table (a copy)."""
        return self.table.copy()

    def plot(self, column: str = "min_affinity", ax: Any = None) -> Any:
        """A bar per scenario of one column (see :func:`coachmatch.plotting.plot_comparison`)."""
        from coachmatch.plotting import plot_comparison

        return plot_comparison(self, column, ax=ax)

    def __str__(self) -> str:
        return self.table.to_string()

    def _repr_html_(self) -> str:
        failed = self.table[self.table["status"] == "infeasible"]
        note = "".join(
            f"<li>{escape(str(name))}: {escape(str(row['note']))}</li>"
            for name, row in failed.iterrows()
        )
        listed = f"<p>No matching for:</p><ul>{note}</ul>" if note else ""
        html: str = self.table.to_html(na_rep="-", classes="coachmatch-comparison")
        return html + listed


def compare(
    baseline: Program,
    scenarios: Iterable[Scenario],
    *,
    schedule: bool = False,
    threshold: int = LOW_AFFINITY,
    executor: Executor | None = None,
    match_options: dict[str, Any] | None = None,
) -> Comparison:
    """Match the baseline and every scenario (optionally schedule them) and compare.

    Parameters
    ----------
    baseline : Program
    scenarios : iterable of Scenario
        Names must be unique and not ``"baseline"``.
    schedule : bool, default False
        Also plan each scenario's year of meetings (``allow_partial``: unplanned
        pairs are counted, not fatal).
    threshold : int, default 40
        Respondents with an affinity under it are counted in ``below_<threshold>``.
    executor : concurrent.futures.Executor, optional
        Where scenarios run. Default: a process pool with one worker per core (in
        this process for a single scenario). A ``dask.distributed`` client's
        ``get_executor()`` runs them on a cluster.
    match_options : dict, optional
        Keyword arguments for :func:`coachmatch.match` in every scenario (a
        scenario's own options win).

    Returns
    -------
    Comparison

    Raises
    ------
    ValueError
        Duplicate scenario names.

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> table = compare(program, [Scenario("caps of 5", lambda p: p.with_caps(5))],
    ...                 executor=InlineExecutor()).table
    >>> table.index.tolist()
    ['baseline', 'caps of 5']
    """
    listed: Sequence[Scenario] = [Scenario("baseline"), *scenarios]
    names = [s.name for s in listed]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"scenario names must be unique; repeated: {', '.join(repeated)}")
    jobs = [
        (s.name, s.apply(baseline), {**(match_options or {}), **s.match_options}) for s in listed
    ]
    own = executor is None and len(jobs) > 1 and (os.cpu_count() or 1) > 1
    pool = own_pool(min(len(jobs), os.cpu_count() or 1)) if own else executor or InlineExecutor()
    try:
        futures = [pool.submit(_evaluate, *job, schedule, threshold) for job in jobs]
        outcomes = [f.result() for f in futures]
    except BaseException:
        if isinstance(pool, ProcessPoolExecutor) and own:
            stop_pool(pool)
        raise
    if own:
        pool.shutdown()
    outcomes = [_with_program(outcome, job[1]) for outcome, job in zip(outcomes, jobs, strict=True)]
    base = outcomes[0].matching
    rows = []
    for outcome in outcomes:
        row = dict(outcome.row)
        row["changed"] = _changed(base, outcome.matching)
        rows.append(row)
    table = pd.DataFrame(rows).set_index("scenario")
    first = ["status", "note", "residents", "coaches", "matched", "unmatched", "kept"]
    table = table[[*first, *(c for c in table.columns if c not in first)]]
    for column in table.columns:
        if column in ("status", "note", "schedule_status"):
            table[column] = table[column].fillna("")
        elif column in _FRACTIONS:
            table[column] = pd.to_numeric(table[column]).astype("Float64")
        else:  # counts: whole numbers, missing where a scenario has no matching
            table[column] = pd.to_numeric(table[column]).astype("Int64")
    return Comparison(
        table,
        {o.row["scenario"]: o.matching for o in outcomes},
        {o.row["scenario"]: o.schedule for o in outcomes},
    )
