"""The per-coach scheduling subproblems as plain, picklable data, and how they are built.

:func:`build_tasks` turns a Program and a Matching into one :class:`CoachTask` per
coach: for each pair, the half-hour slots when both are free (S1, S3), the day's
place of least in-person travel (S4), and the cadence window of its first meeting
(S2). The tasks go to worker processes as they are; :mod:`.pair_plan` and
:mod:`.model` read them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from coachmatch.constraints.meetings import VIRTUAL
from coachmatch.models import Program
from coachmatch.results import Matching
from coachmatch.solver.scheduling.replan import History
from coachmatch.timegrid import SLOT_MINUTES, SLOTS_PER_DAY, TimeGrid
from coachmatch.travel import round_trip, travel_matrix

__all__ = ["CoachResult", "CoachTask", "PairTask", "build_tasks", "matched_pairs"]


@dataclass(frozen=True)
class PairTask:
    """One pair's options: start slots, the cheapest in-person place per day, virtual."""

    resident_id: str
    coach_id: str
    starts: tuple[int, ...]  # day * 48 + slot of every common free start, ascending
    cost: tuple[int, ...]  # per day: least in-person travel, -1 when no in-person place
    site: tuple[str, ...]  # per day: where that least travel is ("" when none)
    virtual_ok: bool
    first_by: int  # last day index allowed for the first (next) meeting
    in_person_first: bool
    #: first day index allowed for the first (next) meeting
    first_from: int = 0
    #: whether the pair needs a meeting at all (False when kept past meetings suffice)
    must_meet: bool = True
    #: meetings (and virtual ones) already held before the re-planning date
    past_count: int = 0
    past_virtual: int = 0
    #: previous meetings on or after the re-planning date: how many there were, and
    #: those that still satisfy S1, S3 and S4 as (start unit, site_id, travel)
    planned_before: int = 0
    keep: tuple[tuple[int, str, int], ...] = ()


@dataclass(frozen=True)
class CoachTask:
    """Everything one coach's model needs, as plain picklable data."""

    coach_id: str
    pairs: tuple[PairTask, ...]
    n_days: int
    length: int  # slots a meeting covers
    shortest: int
    longest: int
    share: tuple[int, int]  # max_virtual_share as a fraction (numerator, denominator)
    virtual_only: bool
    seed: int
    time_limit: float
    deterministic_time: float
    #: each pair's own least travel (``inf`` when it cannot be planned alone), when
    #: known beforehand; empty, the worker computes them (:func:`.model.solve_coach`)
    pair_floors: tuple[float, ...] = ()
    #: weekday (Monday 0) of the horizon's first day, for the slot preference
    weekday0: int = 0


@dataclass
class CoachResult:
    """The meetings of one coach's pairs: (pair index, day, slot, site_id, travel).

    ``unplanned`` lists the pairs (indices into the task's pairs) left without
    meetings; ``optimal`` says the planned count is the most possible and their
    travel the least (proven). ``floors`` is each pair's own least travel (``inf``
    when it has no plan even alone); ``bound`` a proven lower bound on the travel of
    the planned pairs when one better than their floors is known (the optimum itself
    when proven), else None.
    """

    coach_id: str
    meetings: list[tuple[int, int, int, str, int]] = field(default_factory=list)
    optimal: bool = True
    unplanned: list[int] = field(default_factory=list)
    floors: tuple[float, ...] = ()
    bound: int | None = None


def _pair_task(
    program: Program,
    grid: TimeGrid,
    matrix: npt.NDArray[np.int64],
    resident_id: str,
    coach_id: str,
    free: dict[str, Any],
    history: History | None = None,
) -> PairTask:
    index = program.index
    policy = program.policy
    coach = program.coaches[index.coach[coach_id]]
    for person in (resident_id, coach_id):
        if person not in free:
            free[person] = grid.available(person)
    common = grid.can_start(free[resident_id] & free[coach_id])
    home = int(index.coach_site[index.coach[coach_id]])
    sites = grid.site_of(resident_id)
    virtual_ok = policy.virtual != "never" and coach.virtual_ok

    def travel(day: int, place: int) -> int:
        """In-person travel at ``place`` on ``day``; -1 when it is not a place (S4)."""
        at = int(sites[day])
        if policy.virtual == "only" or place not in (home, at):
            return -1
        legs = [(home, place)] + ([(at, place)] if at >= 0 else [])
        if not all(a == b or (matrix[a, b] >= 0 and matrix[b, a] >= 0) for a, b in legs):
            return -1
        return sum(round_trip(matrix, a, b) for a, b in legs)

    # per day, the least in-person travel: at the coach's home (the resident comes
    # from the day's rotation site) or at that site (the coach comes); home on a tie
    n_days = len(grid.days)
    if policy.virtual == "only":
        cost_array = np.full(n_days, -1, dtype=np.int64)
        place_array = np.full(n_days, -1, dtype=np.int64)
    else:
        trip = _round_trips(matrix)
        on_site = sites >= 0
        at = np.where(on_site, sites, home)
        at_home = np.where(on_site, trip[at, home], 0)
        at_site = np.where(on_site & (at != home), trip[home, at], -1)
        take_site = (at_site >= 0) & ((at_home < 0) | (at_site < at_home))
        cost_array = np.where(take_site, at_site, at_home)
        place_array = np.where(take_site, at, np.where(at_home >= 0, home, -1))
    costs = cost_array.tolist()
    names = [*index.site_ids, ""]
    places = [names[k] for k in place_array.tolist()]
    usable = (cost_array >= 0) | virtual_ok
    ok = common & usable[:, None]
    pair = (resident_id, coach_id)
    first_by = policy.first_meeting_within_days
    extra: dict[str, Any] = {}
    if history is not None:
        from_day = max(grid.day_of(history.as_of), 0)
        ok[:from_day] = False
        shortest, longest = policy.cadence_days
        if pair in history.known and pair in history.held:
            last, count, virtual = history.held[pair]
            last_day = grid.day_of(last)
            extra.update(
                first_from=last_day + shortest,
                first_by=last_day + longest,
                must_meet=len(grid.days) - 1 - last_day >= longest,
                past_count=count,
                past_virtual=virtual,
            )
        else:
            start = grid.day_of(history.start_of(program, pair))
            extra.update(first_from=max(start, 0), first_by=start + first_by)
        before = history.future.get(pair, []) if pair in history.known else []
        keep = []
        for row in before:
            day, slot, exact = grid.locate(row["start"].to_pydatetime())
            minutes = (row["end"] - row["start"]).total_seconds() / 60
            if not (exact and 0 <= day < len(grid.days) and minutes == policy.meeting_minutes):
                continue
            if not (common[day, slot] and day >= from_day):
                continue
            if row["site_id"] == VIRTUAL:
                if virtual_ok:
                    keep.append((day * SLOTS_PER_DAY + slot, VIRTUAL, 0))
            elif row["site_id"] in index.site:
                cost = travel(day, index.site[row["site_id"]])
                if cost >= 0:
                    keep.append((day * SLOTS_PER_DAY + slot, row["site_id"], cost))
        extra.update(planned_before=len(before), keep=tuple(keep))
    days, slots = np.nonzero(ok)
    in_person_first = policy.first_meeting_in_person and policy.virtual == "allowed"
    return PairTask(
        resident_id=resident_id,
        coach_id=coach_id,
        starts=tuple((days * SLOTS_PER_DAY + slots).tolist()),
        cost=tuple(costs),
        site=tuple(places),
        virtual_ok=virtual_ok,
        first_by=extra.pop("first_by", first_by),
        in_person_first=in_person_first and not extra.get("past_count", 0),
        **extra,
    )


def _round_trips(matrix: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Round-trip minutes between sites; -1 where a leg has no travel time."""
    both = matrix + matrix.T
    trip: npt.NDArray[np.int64] = np.where((matrix >= 0) & (matrix.T >= 0), both, -1)
    np.fill_diagonal(trip, 0)
    return trip


def build_tasks(
    program: Program,
    matching: Matching | Sequence[tuple[str, str]],
    *,
    time_limit: float | None = None,
    deterministic_time: float = 20.0,
    history: History | None = None,
) -> list[CoachTask]:
    """One task per coach with coachees, in the program's coach order.

    ``matching`` is a :class:`~coachmatch.Matching` or (resident_id, coach_id) pairs.
    With a ``history`` (re-planning), the pairs plan from its as-of date on, knowing
    the meetings already held and the previous meetings that still hold.
    """
    grid = TimeGrid.of(program)
    matrix = travel_matrix(program)
    policy = program.policy
    share = Fraction(policy.max_virtual_share).limit_denominator(1000)
    free: dict[str, Any] = {}
    by_coach: dict[str, list[str]] = {}
    pairs_given = matched_pairs(matching) if isinstance(matching, Matching) else list(matching)
    for r, c in pairs_given:
        by_coach.setdefault(c, []).append(r)
    tasks = []
    for coach in program.coaches:
        residents = by_coach.get(coach.coach_id)
        if not residents:
            continue
        pairs = tuple(
            _pair_task(program, grid, matrix, r, coach.coach_id, free, history) for r in residents
        )
        task = CoachTask(
            coach_id=coach.coach_id,
            pairs=pairs,
            n_days=len(grid.days),
            length=-(-policy.meeting_minutes // SLOT_MINUTES),
            shortest=policy.cadence_days[0],
            longest=policy.cadence_days[1],
            share=(share.numerator, share.denominator),
            virtual_only=policy.virtual == "only",
            seed=policy.seed,
            time_limit=time_limit or policy.time_limit_s,
            deterministic_time=deterministic_time,
            weekday0=program.start.weekday(),
        )
        tasks.append(task)
    return tasks


def matched_pairs(matching: Matching) -> list[tuple[str, str]]:
    frame = matching.pairs
    return [
        (str(r), str(c))
        for r, c in zip(frame["resident_id"], frame["coach_id"], strict=True)
        if isinstance(c, str)
    ]
