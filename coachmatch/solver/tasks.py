"""The per-coach scheduling subproblems as plain, picklable data.

:mod:`coachmatch.solver.scheduling` builds them from a Program and a Matching and
sends them to worker processes; :mod:`coachmatch.solver.bounds` reads them too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["CoachResult", "CoachTask", "PairTask"]


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
    #: each pair's own least travel (``inf`` when it cannot be planned alone)
    pair_floors: tuple[float, ...] = ()
    #: a proven lower bound on the coach's travel (the pairs' own least travel)
    travel_floor: int = 0
    #: weekday (Monday 0) of the horizon's first day, for the slot preference
    weekday0: int = 0


@dataclass
class CoachResult:
    """The meetings of one coach's pairs: (pair index, day, slot, site_id, travel)."""

    coach_id: str
    meetings: list[tuple[int, int, int, str, int]] = field(default_factory=list)
    optimal: bool = True
    infeasible: bool = False
