"""When and where people can meet (SPEC §5 S3, S4): a half-hour grid over the horizon.

The horizon is cut into days and each day into 48 half-hour slots of local wall-clock
time in the program's time zone. For every slot the grid keeps the UTC instant it
starts at, so that busy time (kept in UTC) is compared exactly, on both sides of a
daylight-saving change; a local time that does not exist (the skipped hour in spring)
is never free.

A person is *available* in a slot when the slot lies inside one of their weekly
availability windows, or, for a person with no windows, inside the policy's workday
on a weekday; when no busy interval overlaps it; and, for a resident with
rotations, on a day one of their rotations covers. A meeting may *start* in a slot
when every slot it covers is available.
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

import numpy as np
import numpy.typing as npt

from coachmatch.models import WEEKDAYS, Program

__all__ = ["SLOTS_PER_DAY", "SLOT_MINUTES", "TimeGrid"]

SLOT_MINUTES = 30
SLOTS_PER_DAY = 24 * 60 // SLOT_MINUTES

BoolGrid = npt.NDArray[np.bool_]


_EPOCH = date(1970, 1, 1)


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _seconds(offset: timedelta | None) -> int:
    return int(offset.total_seconds()) if offset is not None else 0


def _slot_start(day: date, slot: int, zone: tzinfo) -> int:
    """UTC start of a local slot in seconds since the epoch, -1 if that local time does
    not exist (the first reading of an ambiguous time, as ``datetime`` takes it)."""
    wall = datetime.combine(day, time(slot // 2, (slot % 2) * SLOT_MINUTES), tzinfo=zone)
    back = wall.astimezone(UTC).astimezone(zone)
    exists = back.replace(tzinfo=None) == wall.replace(tzinfo=None)
    return int(wall.timestamp()) if exists else -1


@dataclass(frozen=True)
class TimeGrid:
    """The half-hour grid of a program's horizon.

    Attributes
    ----------
    days : tuple of datetime.date
        Every date of the horizon.
    starts : numpy.ndarray of int64, shape (days, 48)
        UTC start of each local slot, in seconds since the epoch; -1 for a local
        time that does not exist (daylight saving's skipped hour).

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> grid = TimeGrid.of(synthetic("small"))
    >>> len(grid.days), grid.slot_start(0, 18).isoformat()
    (365, '2026-07-01T09:00:00-04:00')
    """

    zone: tzinfo = field(repr=False)
    days: tuple[date, ...]
    starts: npt.NDArray[np.int64] = field(repr=False)
    #: the Program, weakly: the grid built once is cached with the Program's indexes,
    #: and a strong reference back from there would be a cycle keeping every row of a
    #: Program no longer used alive until the cyclic collector's next full walk
    _owner: weakref.ref[Program] = field(repr=False, compare=False)
    #: the Program, strongly: in the grids :meth:`of` hands out (views of the cached one)
    _held: Program | None = field(default=None, repr=False, compare=False)
    #: lookups by person, built once and shared by the cached grid and its views
    _lookups: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def program(self) -> Program:
        """The Program this grid is of."""
        program = self._held if self._held is not None else self._owner()
        if program is None:  # pragma: no cover - only the cached grid holds it weakly
            raise RuntimeError("the Program of this time grid no longer exists")
        return program

    def __reduce__(self) -> tuple[Any, ...]:
        # pickled as its Program (a weak reference cannot be): unpickled, built again
        return (TimeGrid.of, (self.program,))

    @classmethod
    def of(cls, program: Program) -> TimeGrid:
        """The grid of ``program``'s horizon (built once per Program)."""
        cached: TimeGrid = program.index.derived("time_grid", lambda: cls._build(program))
        return replace(cached, _held=program)

    @classmethod
    def _build(cls, program: Program) -> TimeGrid:
        zone = program.zone
        n = (program.end - program.start).days + 1
        days = tuple(program.start + timedelta(days=k) for k in range(n))
        # the wall clock as if it were UTC, in seconds since the epoch
        first = (program.start - _EPOCH).days * 86_400
        wall = first + 86_400 * np.arange(n)[:, None] + SLOT_MINUTES * 60 * np.arange(SLOTS_PER_DAY)
        # UTC offsets at each local midnight, both readings of an ambiguous time (PEP 495)
        edges = [
            datetime.combine(program.start + timedelta(days=k), time(), zone) for k in range(n + 1)
        ]
        before = [edge.utcoffset() for edge in edges]
        after = [edge.replace(fold=1).utcoffset() for edge in edges]
        same = [b == a for b, a in zip(before, after, strict=True)]
        steady = [same[d] and same[d + 1] and before[d] == before[d + 1] for d in range(n)]
        offset = np.array([_seconds(b) for b in before[:n]], dtype=np.int64)
        starts = wall - offset[:, None]
        # a day whose offset changes (at most twice a year) is read slot by slot
        for d in np.flatnonzero(~np.array(steady, dtype=bool)).tolist():
            starts[d] = [_slot_start(days[d], s, zone) for s in range(SLOTS_PER_DAY)]
        return cls(zone, days, starts, weakref.ref(program))

    # -- looking up -------------------------------------------------------------

    def day_of(self, when: date) -> int:
        """Index of a date in the horizon (may be outside 0..len(days)-1)."""
        return (when - self.days[0]).days

    def slot_start(self, day: int, slot: int) -> datetime:
        """The local, time-zone-aware start of a slot."""
        return datetime.fromtimestamp(int(self.starts[day, slot]), tz=UTC).astimezone(self.zone)

    def locate(self, when: datetime) -> tuple[int, int, bool]:
        """(day, slot, on_boundary) of an aware date-time in the program's local time."""
        local = when.astimezone(self.zone)
        minutes = local.hour * 60 + local.minute
        on_boundary = minutes % SLOT_MINUTES == 0 and local.second == 0 and not local.microsecond
        return self.day_of(local.date()), minutes // SLOT_MINUTES, on_boundary

    # -- lookups by person, built once per grid ---------------------------------------

    def _lookup(self, key: str, build: Callable[[Program], Any]) -> Any:
        found = self._lookups.get(key)
        if found is None:
            found = self._lookups[key] = build(self.program)
        return found

    @property
    def _windows(self) -> dict[str, list[tuple[int, int, int]]]:
        found: dict[str, list[tuple[int, int, int]]] = self._lookup("windows", _windows)
        return found

    @property
    def _busy(self) -> dict[str, list[tuple[int, int]]]:
        found: dict[str, list[tuple[int, int]]] = self._lookup("busy", _busy)
        return found

    @property
    def weekdays(self) -> npt.NDArray[np.int64]:
        """Weekday (Monday 0) of each day of the horizon."""
        found: npt.NDArray[np.int64] = self._lookup(
            "weekdays", lambda _: np.array([day.weekday() for day in self.days], dtype=np.int64)
        )
        return found

    @property
    def _rotations(self) -> dict[str, list[tuple[date, date, str]]]:
        found: dict[str, list[tuple[date, date, str]]] = self._lookup("rotations", _rotations)
        return found

    # -- availability ---------------------------------------------------------------

    def weekly(self, person_id: str) -> BoolGrid:
        """Slots inside the person's weekly windows (or the workday on weekdays)."""
        windows = self._windows.get(person_id)
        by_weekday = np.zeros((7, SLOTS_PER_DAY), dtype=bool)
        slot_begin = np.arange(SLOTS_PER_DAY) * SLOT_MINUTES
        if windows:
            for weekday, begin, end in windows:
                by_weekday[weekday] |= (slot_begin >= begin) & (slot_begin + SLOT_MINUTES <= end)
        else:
            begin, end = (_minutes(t) for t in self.program.policy.workday)
            by_weekday[:5] = (slot_begin >= begin) & (slot_begin + SLOT_MINUTES <= end)
        grid: BoolGrid = by_weekday[self.weekdays] & (self.starts >= 0)
        return grid

    def busy(self, person_id: str) -> BoolGrid:
        """Slots that overlap one of the person's busy intervals."""
        grid = np.zeros(self.starts.shape, dtype=bool)
        begins = self.starts
        for interval in self._busy.get(person_id, ()):
            start, end = interval
            grid |= (begins < end) & (begins + SLOT_MINUTES * 60 > start) & (begins >= 0)
        return grid

    def on_rotation(self, resident_id: str) -> npt.NDArray[np.bool_]:
        """Days a rotation covers; every day for a resident without rotations."""
        spans = self._rotations.get(resident_id)
        covered = np.ones(len(self.days), dtype=bool)
        if spans:
            covered[:] = False
            for start, end, _ in spans:
                first, last = max(self.day_of(start), 0), min(self.day_of(end), len(self.days) - 1)
                if first <= last:
                    covered[first : last + 1] = True
        return covered

    def site_of(self, resident_id: str) -> npt.NDArray[np.int64]:
        """The resident's rotation site (Program site row) on each day; -1 where none."""
        sites = np.full(len(self.days), -1, dtype=np.int64)
        index = self.program.index.site
        for start, end, site_id in self._rotations.get(resident_id, ()):
            first, last = max(self.day_of(start), 0), min(self.day_of(end), len(self.days) - 1)
            if first <= last:
                sites[first : last + 1] = index[site_id]
        return sites

    def available(self, person_id: str) -> BoolGrid:
        """Slots the person can spend in a meeting (windows, not busy, on rotation)."""
        grid = self.weekly(person_id) & ~self.busy(person_id)
        if person_id in self.program.index.resident:
            grid &= self.on_rotation(person_id)[:, None]
        return grid

    def can_start(self, available: BoolGrid, minutes: int | None = None) -> BoolGrid:
        """Slots where a meeting of ``minutes`` (default: the policy's) fits in ``available``.

        A meeting covers ``ceil(minutes / 30)`` consecutive slots of one day.
        """
        length = -(-(minutes or self.program.policy.meeting_minutes) // SLOT_MINUTES)
        fits = available.copy()
        for k in range(1, length):
            fits[:, :-k] &= available[:, k:]
            fits[:, SLOTS_PER_DAY - k :] = False
        return fits


# Lookups by person from the Program (each grid builds them once).


def _windows(program: Program) -> dict[str, list[tuple[int, int, int]]]:
    out: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    for w in program.availability:
        out[w.person_id].append((WEEKDAYS.index(w.weekday), _minutes(w.start), _minutes(w.end)))
    return out


def _busy(program: Program) -> dict[str, list[tuple[int, int]]]:
    out: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for b in program.busy:
        out[b.person_id].append((int(b.start.timestamp()), int(b.end.timestamp())))
    return out


def _rotations(program: Program) -> dict[str, list[tuple[date, date, str]]]:
    out: dict[str, list[tuple[date, date, str]]] = defaultdict(list)
    for r in program.rotations:
        out[r.resident_id].append((r.start, r.end, r.site_id))
    return out
