"""R7 can meet — hard (when ``policy.must_meet``, the default; SPEC 1.1).

Rule: a coach may coach a resident only if the pair, taken alone, has a meeting plan
that satisfies S1–S4 from the pair's start (the horizon start, or the as-of date of a
re-plan) to the horizon end: both free at the same time on enough days, on the
resident's rotation days, at the cadence of S2, and under the virtual policy (with
``virtual = "only"`` a coach whose ``virtual_ok`` is false cannot meet at all). The
coach's other coachees are ignored here; the scheduler deals with them.
Why: a pair that can never meet is no coaching relationship. Made anyway, it fails at
scheduling time, after the matching has used up the coach's place.

Forbids pairs: an eligibility mask like R2's, computed for every candidate pair at
once. With ``must_meet = false`` such pairs are allowed and a
:class:`~coachmatch.Matching` lists the ones it made (``cannot_meet``).

How it is computed (all pairs at once, numpy, no loop over pairs):

1. Each person's free half-hours are a weekly pattern (48 slot bits per weekday, from
   their availability windows or the policy's workday) minus busy time; busy time
   touches few days, so it is kept as sparse exceptions (day, busy slot bits).
2. A pair can start a meeting on a day when the AND of the two slot masks has
   ``ceil(meeting_minutes / 30)`` consecutive bits; for an ordinary day that depends
   only on the weekday, so a pair's free days are a 365-bit set: its free weekdays,
   AND the resident's rotation days, with the exception days recomputed exactly.
   Days are in person where a place exists (the coach's home site, or the rotation
   site with known travel) and virtual where the policy and ``virtual_ok`` allow.
3. Most pairs meet often: if their in-person days leave no run of
   ``cadence_days[1] - cadence_days[0] + 1`` days without one, a plan exists (a new
   meeting always fits the next cadence window), and there is one in the first window.
4. The others go through the S2 reachability recursion, vectorized over pairs:
   ``best[d] = weight[d] + max(best[d - cadence_days[1] .. d - cadence_days[0]])``,
   the first meeting in its window, the last within ``cadence_days[1]`` days of the
   end. Each in-person meeting weighs ``p`` and each virtual one ``-(q - p)`` for a
   virtual share of ``p / q``, so a plan meets ``max_virtual_share`` exactly when its
   total weight is at least 0; the recursion finds the largest total.
5. Pairs alike in all of this but busy time are one *kind*, judged once; for the
   whole mask, kinds come from a table of classes of residents and of coaches (alike
   in rotations, weekly pattern, home site). Busy time only takes days away, and only
   days on which one of the two is busy: a pair whose kind can meet even without all
   of those days is settled at once; the others are judged on their kind's days less
   the days their busy time actually takes, once per (kind, days lost).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, time, timedelta
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from coachmatch._arrays import distinct
from coachmatch.constraints.base import Mask, Pairs, RotationColumns, Violation
from coachmatch.models import WEEKDAYS, Program, column
from coachmatch.timegrid import SLOT_MINUTES, SLOTS_PER_DAY, TimeGrid
from coachmatch.travel import travel_matrix

NAME = "R7 can meet"
HARD = True

__all__ = [
    "HARD",
    "NAME",
    "FreeTime",
    "Unmet",
    "can_meet",
    "check",
    "forbidden",
    "pair_days",
    "unmet_cause",
    "unmet_reason",
    "virtual_only_reason",
    "why",
]

U64 = npt.NDArray[np.uint64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
#: (residents × days) site numbers, -1 for none
SiteArray = npt.NDArray[np.int32]

_ONE = np.uint64(1)
_ALL_SLOTS = (1 << SLOTS_PER_DAY) - 1
#: pairs per batch: bounds memory (a batch's day arrays are a few tens of MB)
_BATCH = 1 << 15
_NEG = -(2**30)  # "no plan" in the recursion; any real total is far above _NEG / 2
#: spring-forward days a pair's shared days can number (one a year in real zones)
_MAX_ODD = 24
#: pattern pairs R7 tabulates shared days for (each: 7 words while built; 15 MB in all);
#: with more, each pair's are computed from its own patterns
_TABLE_PAIRS = 1 << 18


# ---------------------------------------------------------------------------
# Free time, per person, packed
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Busy:
    """Sparse busy days of a group of people: CSR over people of (day, busy slot bits)."""

    pointer: IntArray  # (people + 1,)
    day: IntArray  # (entries,), ascending within a person
    bits: U64  # (entries,)

    def keys(self, n_days: int) -> IntArray:
        """person * n_days + day of every entry, ascending (for lookups)."""
        people = np.repeat(np.arange(len(self.pointer) - 1), np.diff(self.pointer))
        out: IntArray = people * n_days + self.day
        return out


@dataclass(frozen=True)
class FreeTime:
    """Everyone's free time over the horizon, packed for pair intersections.

    Built once per Program (:meth:`of`). Slot masks hold bit ``s`` for the half-hour
    starting at ``s * 30`` minutes past local midnight.

    Attributes
    ----------
    n_days : int
    weekday : numpy.ndarray of int64, shape (days,)
        Monday 0.
    exists : numpy.ndarray of uint64, shape (days,)
        Slots that exist that day (the hour skipped in spring does not).
    resident_weekly, coach_weekly : numpy.ndarray of uint64, shape (people, 7)
        Slots inside the person's availability windows, or the workday on weekdays.
    on_rotation : numpy.ndarray of bool, shape (residents, days)
        Days a resident may meet (all days for one without rotations).
    site : numpy.ndarray of int64, shape (residents, days)
        The rotation site's Program row each day, -1 where none.
    """

    n_days: int
    weekday: IntArray
    exists: U64
    resident_weekly: U64
    coach_weekly: U64
    resident_busy: _Busy
    coach_busy: _Busy
    on_rotation: BoolArray
    site: SiteArray  # (residents, days): the rotation's site, -1 for none
    coach_site: IntArray
    coach_virtual_ok: BoolArray
    trip_ok: BoolArray  # (sites, sites): a round trip between the two has a travel time
    #: (words, 128): the days whose weekday is in each 7-bit set of weekdays
    weekday_sets: U64
    #: (words, residents): ``on_rotation`` as bitsets
    rotation_bits: U64

    @classmethod
    def of(cls, program: Program) -> FreeTime:
        """The free time of ``program``'s people (cached on the Program).

        Examples
        --------
        >>> from coachmatch.datasets import synthetic
        >>> free = FreeTime.of(synthetic("small"))
        >>> free.n_days, free.resident_weekly.shape
        (365, (60, 7))
        """
        cached: FreeTime = program.index.derived("r7_free_time", lambda: cls._build(program))
        return cached

    @classmethod
    def _build(cls, program: Program) -> FreeTime:
        grid = TimeGrid.of(program)
        index = program.index
        n_days = len(grid.days)
        weekday = grid.weekdays
        exists = _pack_slots(grid.starts >= 0)
        weekly = _weekly(program)
        n_res = len(index.resident_ids)
        resident_weekly = weekly[:n_res]
        coach_weekly = weekly[n_res:]
        resident_busy, coach_busy = _split(_busy(program, grid, weekly, weekday, exists), n_res)
        on_rotation = np.ones((n_res, n_days), dtype=bool)
        rotations = RotationColumns.of(program)
        if len(rotations.resident):
            # residents with rotations are on rotation only on their days; the columns
            # count days from the horizon start, the grid's first day
            on_rotation[rotations.resident] = False
            first = np.maximum(rotations.first, 0)
            last = np.minimum(rotations.last, n_days - 1)
            keep = first <= last
            site = _rotation_days(
                on_rotation,
                rotations.resident[keep],
                rotations.site[keep],
                first[keep],
                last[keep],
            )
        else:
            site = np.full((n_res, n_days), -1, dtype=np.int32)
        matrix = travel_matrix(program)
        trip_ok = (matrix >= 0) & (matrix.T >= 0)
        np.fill_diagonal(trip_ok, True)
        sets = np.arange(128)[:, None]
        weekday_sets = _pack_days(((sets >> weekday[None, :]) & 1).astype(bool))
        return cls(
            n_days=n_days,
            weekday=weekday,
            exists=exists,
            resident_weekly=resident_weekly,
            coach_weekly=coach_weekly,
            resident_busy=resident_busy,
            coach_busy=coach_busy,
            on_rotation=on_rotation,
            site=site,
            coach_site=index.coach_site,
            coach_virtual_ok=np.array([c.virtual_ok for c in program.coaches], dtype=bool),
            trip_ok=trip_ok,
            weekday_sets=weekday_sets,
            rotation_bits=_pack_days(on_rotation),
        )


def _rotation_days(
    on_rotation: BoolArray, resident: IntArray, at: IntArray, first: IntArray, last: IntArray
) -> SiteArray:
    """Each rotation's days [first, last] marked in ``on_rotation`` (residents × days,
    in place), and the site of every (resident, day) returned (-1: none), as running
    sums along the days: +1 (and +site+1) where a rotation starts, -1 (and -site-1) the
    day after it ends, summed in place in one int32 buffer (memory touched for the first
    time costs more than the sums). A resident's rotations never overlap (validation);
    if some did, the days are written a rotation at a time instead, the later
    rotation's site winning.

    Examples
    --------
    >>> on = np.zeros((1, 6), bool)
    >>> _rotation_days(on, np.array([0, 0]), np.array([4, 2]),
    ...                np.array([1, 3]), np.array([2, 4])).tolist()
    [[-1, 4, 4, 2, 2, -1]]
    >>> on.astype(int).tolist()
    [[0, 1, 1, 1, 1, 0]]
    """
    n_res, n_days = on_rotation.shape
    width = n_days + 1  # a rotation ending on the last day closes in the spare column
    starts, stops = resident * width + first, resident * width + last + 1
    steps = np.zeros((n_res, width), dtype=np.int32)
    flat = steps.reshape(-1)
    ones = np.ones(len(starts), dtype=np.int32)  # NumPy's fast ufunc.at wants an array
    np.add.at(flat, starts, ones)
    np.subtract.at(flat, stops, ones)
    np.cumsum(steps, axis=1, out=steps)
    days = steps[:, :n_days]
    if days.size and int(days.max()) > 1:  # overlapping rotations (not a valid Program)
        lengths = last - first + 1
        rows = np.repeat(resident, lengths)
        offsets = np.cumsum(lengths) - lengths
        cols = np.repeat(first - offsets, lengths) + np.arange(int(lengths.sum()))
        on_rotation[rows, cols] = True
        site = np.full((n_res, n_days), -1, dtype=np.int32)
        site[rows, cols] = np.repeat(at, lengths)
        return site
    on_rotation |= days > 0
    steps.fill(0)
    np.add.at(flat, starts, (at + 1).astype(np.int32))
    np.subtract.at(flat, stops, (at + 1).astype(np.int32))
    np.cumsum(steps, axis=1, out=steps)
    placed: SiteArray = np.subtract(days, 1)  # a site's number on its rotation's days, -1 else
    return placed


def _pack_slots(grid: BoolArray) -> U64:
    """(..., 48) booleans -> (...,) uint64 with bit s for slot s."""
    weights = _ONE << np.arange(SLOTS_PER_DAY, dtype=np.uint64)
    packed: U64 = (grid.astype(np.uint64) * weights).sum(axis=-1, dtype=np.uint64)
    return packed


def _window_bits(begin_minute: int, end_minute: int) -> int:
    """Slots wholly inside [begin, end) (TimeGrid.weekly's rule)."""
    first = -(-begin_minute // SLOT_MINUTES)
    last = min(end_minute // SLOT_MINUTES, SLOTS_PER_DAY)  # exclusive
    return ((1 << last) - (1 << first)) if last > first else 0


def _weekly(program: Program) -> U64:
    """(residents + coaches, 7) weekly slot masks, residents first, Program row order."""
    index = program.index
    n_res = len(index.resident_ids)
    row = {**index.resident, **{k: n_res + v for k, v in index.coach.items()}}
    weekly = np.zeros((len(row), 7), dtype=np.uint64)
    listed = np.zeros(len(row), dtype=bool)
    windows = program.availability
    if windows:
        count = len(windows)
        # each field of every window (the loader's column, if it kept it)
        person = np.fromiter(
            map(row.__getitem__, column(program, "availability", "person_id")), np.int64, count
        )
        day = np.fromiter(
            map(WEEKDAYS.index, column(program, "availability", "weekday")), np.int64, count
        )
        opens, closes = (
            np.fromiter(map(_minute_of_day, column(program, "availability", key)), np.int64, count)
            for key in ("start", "end")
        )
        # slots wholly inside [opens, closes) (TimeGrid.weekly's rule)
        first = -(-opens // SLOT_MINUTES)
        last = np.minimum(closes // SLOT_MINUTES, SLOTS_PER_DAY)
        bits = np.where(
            last > first,
            (_ONE << last.astype(np.uint64)) - (_ONE << np.minimum(first, last).astype(np.uint64)),
            np.uint64(0),
        )
        np.bitwise_or.at(weekly, (person, day), bits)
        listed[person] = True
    begin, end = program.policy.workday
    workday = _window_bits(begin.hour * 60 + begin.minute, end.hour * 60 + end.minute)
    weekly[np.ix_(~listed, np.arange(5))] = np.uint64(workday)
    return weekly


def _minute_of_day(t: time) -> int:
    return t.hour * 60 + t.minute


def _busy(program: Program, grid: TimeGrid, weekly: U64, weekday: IntArray, exists: U64) -> _Busy:
    """Busy slot bits per person and day, where they take away some free slot."""
    index = program.index
    n_res = len(index.resident_ids)
    n_days = len(grid.days)
    row = {**index.resident, **{k: n_res + v for k, v in index.coach.items()}}
    # local slots in time order; the skipped spring hour takes its neighbour's instant
    flat = np.maximum.accumulate(grid.starts.ravel())
    pointer = np.zeros(len(row) + 1, dtype=np.int64)
    intervals = program.busy
    if not intervals:
        return _Busy(pointer, np.zeros(0, np.int64), np.zeros(0, np.uint64))
    count = len(intervals)
    person = np.fromiter((row[b.person_id] for b in intervals), np.int64, count)
    begin = np.fromiter((int(b.start.timestamp()) for b in intervals), np.int64, count)
    end = np.fromiter((int(b.end.timestamp()) for b in intervals), np.int64, count)
    low = np.searchsorted(flat, begin - SLOT_MINUTES * 60, side="right").astype(np.int64)
    high = np.searchsorted(flat, end, side="left").astype(np.int64)
    keep = high > low
    person, low, high = person[keep], low[keep], high[keep]
    # every (interval, day) it touches, with the slots it takes that day
    first_day, last_day = low // SLOTS_PER_DAY, (high - 1) // SLOTS_PER_DAY
    lengths = last_day - first_day + 1
    owner = np.repeat(person, lengths)
    offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    day = np.repeat(first_day, lengths) + offsets
    begin_slot = np.maximum(np.repeat(low, lengths) - day * SLOTS_PER_DAY, 0)
    end_slot = np.minimum(np.repeat(high, lengths) - day * SLOTS_PER_DAY, SLOTS_PER_DAY)
    taken = (_ONE << end_slot.astype(np.uint64)) - (_ONE << begin_slot.astype(np.uint64))
    # one entry per (person, day): the slots all their intervals take
    key = owner * n_days + day
    if not len(key):
        return _Busy(pointer, np.zeros(0, np.int64), np.zeros(0, np.uint64))
    order = np.argsort(key, kind="stable")
    key, taken = key[order], taken[order]
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    day_key = key[first]
    bits = np.bitwise_or.reduceat(taken, first)
    who, when = day_key // n_days, day_key % n_days
    # only days where busy time takes a slot the person would otherwise offer
    matters = (bits & weekly[who, weekday[when]] & exists[when]) != 0
    who, when, bits = who[matters], when[matters], bits[matters]
    np.add.at(pointer, who + 1, 1)
    return _Busy(np.cumsum(pointer), when, bits)


def _split(busy: _Busy, first_coach: int) -> tuple[_Busy, _Busy]:
    """Residents' entries and coaches' entries, each numbered from 0."""
    cut = busy.pointer[first_coach]
    residents = _Busy(busy.pointer[: first_coach + 1], busy.day[:cut], busy.bits[:cut])
    coaches = _Busy(busy.pointer[first_coach:] - cut, busy.day[cut:], busy.bits[cut:])
    return residents, coaches


# ---------------------------------------------------------------------------
# Day sets as bitsets (words, pairs): bit d % 64 of word d // 64 is day d
# ---------------------------------------------------------------------------


def _words(n_days: int) -> int:
    return -(-n_days // 64)


def _pack_days(days: BoolArray) -> U64:
    """(rows, n_days) booleans -> (words, rows) bitsets."""
    rows, n = days.shape
    padded = np.zeros((rows, _words(n) * 64), dtype=bool)
    padded[:, :n] = days
    packed = np.packbits(padded, axis=1, bitorder="little")
    out: U64 = np.ascontiguousarray(packed.view("<u8").T.astype(np.uint64))
    return out


def _unpack_days(bits: U64, n_days: int) -> BoolArray:
    """(words, rows) bitsets -> (n_days, rows) booleans."""
    as_bytes = np.ascontiguousarray(bits.T).view(np.uint8)
    days = np.unpackbits(as_bytes, axis=1, bitorder="little")[:, :n_days]
    out: BoolArray = np.ascontiguousarray(days.T).astype(bool)
    return out


def _range_bits(n_days: int, first: int, last: int) -> U64:
    """(words, 1) bitset of days first..last (inclusive, clipped to the horizon)."""
    days = np.zeros((1, n_days), dtype=bool)
    days[0, max(first, 0) : max(min(last, n_days - 1) + 1, 0)] = True
    return _pack_days(days)


def _toward_earlier(bits: U64, k: int) -> U64:
    """Day d of the result is day d + k of ``bits`` (0 past the end)."""
    q, r = divmod(k, 64)
    out = np.zeros_like(bits)
    n = len(bits)
    if q >= n:
        return out
    out[: n - q] = bits[q:] >> np.uint64(r)
    if r and n - q > 1:
        out[: n - q - 1] |= bits[q + 1 :] << np.uint64(64 - r)
    return out


def _has_run(zeros: U64, length: int) -> BoolArray:
    """Per column: whether ``zeros`` holds ``length`` consecutive days."""
    run, have = zeros, 1
    while have * 2 <= length:
        run = run & _toward_earlier(run, have)
        have *= 2
    if have < length:
        run = run & _toward_earlier(run, length - have)
    out: BoolArray = np.any(run != 0, axis=0)
    return out


# ---------------------------------------------------------------------------
# Pairs
# ---------------------------------------------------------------------------


def _fits(mask: U64, length: int) -> U64:
    """Slots where ``length`` consecutive free slots begin."""
    fits = mask.copy()
    for k in range(1, length):
        fits &= mask >> np.uint64(k)
    return fits


def _exception_entries(busy: _Busy, people: IntArray, pairs: IntArray) -> tuple[IntArray, IntArray]:
    """(pair, entry of ``busy``) for every busy day of each pair's person."""
    counts = np.diff(busy.pointer)[people]
    some = np.flatnonzero(counts)  # most people have no busy day that matters
    counts, people, pairs = counts[some], people[some], pairs[some]
    total = int(counts.sum())
    pair = np.repeat(pairs, counts)
    starts = np.repeat(busy.pointer[people], counts)
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    return pair, starts + offsets


def _busy_bits(busy: _Busy, people: IntArray, days: IntArray, n_days: int) -> U64:
    """The busy bits of (person, day) entries (0 where the day has none)."""
    keys = busy.keys(n_days)
    wanted = people * n_days + days
    at = np.searchsorted(keys, wanted)
    found = at < len(keys)
    found[found] = keys[at[found]] == wanted[found]
    out = np.zeros(len(wanted), dtype=np.uint64)
    out[found] = busy.bits[at[found]]
    return out


def _meeting_fits(
    free: FreeTime, r: IntArray, c: IntArray, day: IntArray, length: int, *, busy: bool
) -> BoolArray:
    """Per (resident, coach, day) entry: whether a meeting of ``length`` slots fits that
    day, both free at the same time (with or without their busy time), on a rotation
    day of the resident."""
    wd = free.weekday[day]
    mask = free.resident_weekly[r, wd] & free.coach_weekly[c, wd] & free.exists[day]
    if busy:
        mask &= ~_busy_bits(free.resident_busy, r, day, free.n_days)
        mask &= ~_busy_bits(free.coach_busy, c, day, free.n_days)
    out: BoolArray = (_fits(mask, length) != 0) & free.on_rotation[r, day]
    return out


def pair_days(
    program: Program,
    residents: IntArray,
    coaches: IntArray,
    *,
    start_day: int = 0,
    busy: bool = True,
) -> tuple[U64, U64]:
    """Days each pair could meet in person and virtually, as (words, pairs) bitsets.

    ``residents`` and ``coaches`` are Program row numbers; days before ``start_day``
    are left out. A day is in the set when both are free for a whole meeting at the
    same time (S1, S3) and, in person, a place exists (S4); virtually, when the policy
    and the coach's ``virtual_ok`` allow it. With ``busy=False`` the two people's busy
    time is left out (their weekly free time, rotations and places only).
    """
    free = FreeTime.of(program)
    policy = program.policy
    n, n_pairs = free.n_days, len(residents)
    length = -(-policy.meeting_minutes // SLOT_MINUTES)
    weekly = free.resident_weekly[residents] & free.coach_weekly[coaches]
    if length > SLOTS_PER_DAY:
        weekly[:] = 0
    # each weekday's days as a bitset, and each pair's free weekdays as a 7-bit code
    ordinary = _fits(weekly & np.uint64(_ALL_SLOTS), length) != 0
    code = (ordinary.astype(np.int64) << np.arange(7)).sum(axis=1)
    days = free.weekday_sets[:, code]  # (words, pairs)
    days &= free.rotation_bits[:, residents]
    # exception days: the spring-forward day for everyone, busy days per person
    odd = np.flatnonzero(free.exists != np.uint64(_ALL_SLOTS))
    pair_index = np.arange(n_pairs)
    e_pair = [np.repeat(pair_index, len(odd))]
    e_day = [np.tile(odd, n_pairs)]
    for sparse, people in ((free.resident_busy, residents), (free.coach_busy, coaches)):
        if busy:
            p, at = _exception_entries(sparse, people, pair_index)
            e_pair.append(p)
            e_day.append(sparse.day[at])
    entry_pair, entry_day = np.concatenate(e_pair), np.concatenate(e_day)
    if len(entry_pair):
        r, c = residents[entry_pair], coaches[entry_pair]
        ok = _meeting_fits(free, r, c, entry_day, length, busy=busy)
        word, bit = entry_day // 64, (entry_day % 64).astype(np.uint64)
        # unbuffered: several exception days of one pair share a 64-day word
        np.bitwise_and.at(days, (word, entry_pair), ~(_ONE << bit))
        np.bitwise_or.at(days, (word[ok], entry_pair[ok]), _ONE << bit[ok])
    if start_day > 0:
        days &= _range_bits(n, start_day, n - 1)
    # in person: a place with known travel (the coach's home, or the rotation site)
    home = free.coach_site[coaches]
    if policy.virtual == "only":
        in_person = np.zeros_like(days)
    elif free.trip_ok.all():
        in_person = days.copy()
    else:
        placed = np.ones((n_pairs, n), dtype=bool)
        for h in np.unique(home):
            mine = home == h
            site = free.site[residents[mine]]
            placed[mine] = (site < 0) | free.trip_ok[np.maximum(site, 0), h]
        in_person = days & _pack_days(placed)
    virtual_ok = free.coach_virtual_ok[coaches] & (policy.virtual != "never")
    virtual = np.where(virtual_ok[None, :], days, np.uint64(0))
    return in_person, virtual


@dataclass(frozen=True)
class _Cadence:
    """What a plan must satisfy, in day numbers of the horizon (SPEC S2, S4)."""

    n_days: int
    first_from: int
    first_by: int
    shortest: int
    longest: int
    share: tuple[int, int]
    virtual: str
    in_person_first: bool

    @classmethod
    def of(cls, program: Program, start_day: int) -> _Cadence:
        policy = program.policy
        share = Fraction(policy.max_virtual_share).limit_denominator(1000)
        return cls(
            n_days=(program.end - program.start).days + 1,
            first_from=start_day,
            first_by=start_day + policy.first_meeting_within_days,
            shortest=policy.cadence_days[0],
            longest=policy.cadence_days[1],
            share=(share.numerator, share.denominator),
            virtual=policy.virtual,
            in_person_first=policy.first_meeting_in_person and policy.virtual == "allowed",
        )


def _surely(in_person: U64, virtual: U64, cadence: _Cadence) -> tuple[BoolArray, BoolArray]:
    """(surely feasible, surely infeasible) per pair, from cheap bitset tests."""
    n = cadence.n_days
    main = virtual if cadence.virtual == "only" else in_person
    first = _range_bits(n, cadence.first_from, cadence.first_by)
    span = _range_bits(n, cadence.first_from, n - 1)
    window = cadence.longest - cadence.shortest + 1
    opening = (main & first).any(axis=0)
    yes = opening & ~_has_run(~main & span, window)
    starts = in_person if cadence.in_person_first else (in_person | virtual)
    no = ~(starts & first).any(axis=0) | ~((in_person | virtual) & span).any(axis=0)
    return yes, no & ~yes


def _exact(in_person: BoolArray, virtual: BoolArray, cadence: _Cadence) -> BoolArray:
    """The S2 reachability recursion over days, vectorized over pairs (columns).

    ``best[d]`` is the largest total weight of a plan whose latest meeting is on day d;
    window maxima come from van Herk / Gil-Werman blocks (prefix and suffix maxima of
    blocks as long as the cadence window), so each day costs a few vector operations.
    """
    n, pairs = in_person.shape
    numerator, denominator = cadence.share
    neg = np.int32(_NEG)
    if cadence.virtual == "only":
        weight = np.where(virtual, 0, neg).astype(np.int32)
        first = weight
    elif cadence.virtual == "never":
        weight = np.where(in_person, 0, neg).astype(np.int32)
        first = weight
    else:
        weight = np.where(
            in_person, numerator, np.where(virtual, numerator - denominator, neg)
        ).astype(np.int32)
        first = (
            np.where(in_person, numerator, neg).astype(np.int32)
            if (cadence.in_person_first)
            else weight
        )
    shortest, width = cadence.shortest, cadence.longest - cadence.shortest + 1
    best = np.full((n, pairs), neg, dtype=np.int32)
    prefix = np.empty_like(best)
    suffix = np.empty_like(best)
    half = neg // 2
    for d in range(n):
        high = d - shortest
        row = best[d]
        if high >= 0:
            low = high - width + 1
            window = prefix[high] if low <= 0 else np.maximum(suffix[low], prefix[high])
            np.add(window, weight[d], out=row)
            row[(window <= half) | (weight[d] <= half)] = neg
        if cadence.first_from <= d <= cadence.first_by:
            np.maximum(row, first[d], out=row)
        if d % width == 0:
            prefix[d] = row
        else:
            np.maximum(prefix[d - 1], row, out=prefix[d])
        if d % width == width - 1 or d == n - 1:
            begin = d - d % width
            suffix[d] = row
            for e in range(d - 1, begin - 1, -1):
                np.maximum(suffix[e + 1], best[e], out=suffix[e])
    last = max(n - cadence.longest, cadence.first_from, 0)
    if last >= n:
        return np.zeros(pairs, dtype=bool)
    out: BoolArray = np.any(best[last:] >= 0, axis=0)
    return out


def can_meet(
    program: Program, residents: IntArray, coaches: IntArray, *, start: date | None = None
) -> BoolArray:
    """Whether each pair, alone, has a plan satisfying S1–S4 (R7), computed at once.

    Pairs alike in everything R7 looks at but busy time (the resident's rotation days
    and places, the weekdays and spring-forward days the two share room on, the coach's
    home site and ``virtual_ok``) have the same days without busy time, and are judged
    once per kind. Busy time only takes days away, so a pair whose kind cannot meet
    cannot either; one that can is judged again on its kind's days less the days its
    busy time takes. This is exactly judging every pair on its own days
    (:func:`_pairwise`, tested against it), a few hundred kinds instead of a
    million pairs on a whole faculty.

    Parameters
    ----------
    program : Program
    residents, coaches : numpy.ndarray of int
        Program row numbers of each pair's resident and coach.
    start : datetime.date, optional
        The pairs' start (a re-plan's as-of date); default the horizon start.

    Returns
    -------
    numpy.ndarray of bool

    Examples
    --------
    >>> import numpy as np
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> can_meet(program, np.array([0, 1]), np.array([0, 0])).tolist()
    [True, True]
    """
    residents = np.asarray(residents, dtype=np.int64)
    coaches = np.asarray(coaches, dtype=np.int64)
    start_day = max((start - program.start).days, 0) if start is not None else 0
    cadence = _Cadence.of(program, start_day)
    if start_day >= cadence.n_days or not len(residents):
        return np.zeros(len(residents), dtype=bool)
    kinds = _Kinds.of(program)
    group = kinds.group(program, residents, coaches)
    if group is None:  # too many kinds to number (never in a real program)
        return _pairwise(program, residents, coaches, cadence)
    ids, first = group
    # one pair of each kind stands for it: its days without busy time are every
    # pair's of that kind
    kind_ip, kind_v = _kind_days(program, residents[first], coaches[first], start_day)
    out = _judge(kind_ip, kind_v, cadence)[ids]
    maybe = np.flatnonzero(out)
    out[maybe] = _despite_busy(
        program, residents[maybe], coaches[maybe], (ids[maybe], kind_ip, kind_v), cadence
    )
    return out


def _kind_days(
    program: Program, residents: IntArray, coaches: IntArray, start_day: int
) -> tuple[U64, U64]:
    """:func:`pair_days` without busy time, in batches: each pair stands for its kind."""
    days = [
        pair_days(
            program,
            residents[lo : lo + _BATCH],
            coaches[lo : lo + _BATCH],
            start_day=start_day,
            busy=False,
        )
        for lo in range(0, len(residents), _BATCH)
    ]
    return (
        np.concatenate([ip for ip, _ in days], axis=1),
        np.concatenate([v for _, v in days], axis=1),
    )


def _despite_busy(
    program: Program,
    residents: IntArray,
    coaches: IntArray,
    kinds: tuple[IntArray, U64, U64],
    cadence: _Cadence,
) -> BoolArray:
    """Whether pairs whose kind can meet still can once their busy time is taken away.

    ``kinds`` holds each pair's kind and the kinds' days without busy time (in person,
    virtual). Busy time only ever takes days away, and only days on which one of the
    two is busy: pairs whose kind surely can meet without all of those days can meet
    (:func:`_unmoved`, judged once per kind and busy people). Of the others, the pairs
    that lose a day are judged again on their kind's days less those; the rest can
    meet as their kind can.
    """
    kind, kind_ip, kind_v = kinds
    out = np.ones(len(residents), dtype=bool)
    unsure = np.flatnonzero(~_unmoved(program, residents, coaches, kinds, cadence))
    kind = kind[unsure]
    entry, day = _lost_days(program, residents[unsure], coaches[unsure], cadence.first_from)
    losing = np.zeros(len(unsure), dtype=bool)
    losing[entry] = True
    touched = np.flatnonzero(losing)  # the pairs that lose a day, each once
    entry = (np.cumsum(losing) - 1)[entry]
    # each touched pair's lost days as a bitset; a day lost twice (both people busy)
    # sets its bit twice
    lost = np.zeros((len(touched), kind_ip.shape[0]), dtype=np.uint64)
    np.bitwise_or.at(lost, (entry, day // 64), _ONE << (day % 64).astype(np.uint64))
    # pairs of one kind that lose the same days have the same days left: judged once
    alike, stand = _alike(kind[touched], lost)
    verdict = np.empty(len(stand), dtype=bool)
    for lo in range(0, len(stand), _BATCH):
        part = stand[lo : lo + _BATCH]
        keep = ~lost[part].T
        chosen = kind[touched[part]]
        verdict[lo : lo + len(part)] = _judge(
            kind_ip[:, chosen] & keep, kind_v[:, chosen] & keep, cadence
        )
    out[unsure[touched]] = verdict[alike]
    return out


def _unmoved(
    program: Program,
    residents: IntArray,
    coaches: IntArray,
    kinds: tuple[IntArray, U64, U64],
    cadence: _Cadence,
) -> BoolArray:
    """Pairs that surely can meet on their kind's days less *every* day on which the
    resident or the coach has busy time (a superset of the days busy time takes from
    them): so busy time cannot part them. Judged with the cheap sufficient test of
    :func:`_surely`, once per (kind, resident if busy, coach if busy)."""
    kind, kind_ip, kind_v = kinds
    free = FreeTime.of(program)
    sides = []
    for busy, people in ((free.resident_busy, residents), (free.coach_busy, coaches)):
        n_people = len(busy.pointer) - 1
        # each person's busy days as a bitset, column 0 for nobody
        away = np.zeros((kind_ip.shape[0], n_people + 1), dtype=np.uint64)
        owner = np.repeat(np.arange(1, n_people + 1), np.diff(busy.pointer))
        np.bitwise_or.at(away, (busy.day // 64, owner), _ONE << (busy.day % 64).astype(np.uint64))
        column = np.where(np.diff(busy.pointer)[people] > 0, people + 1, 0)
        sides.append((away, column, n_people + 1))
    (away_r, r, n_r), (away_c, c, n_c) = sides
    if (int(kind.max(initial=0)) + 1) * n_r * n_c >= 1 << 62:
        return np.zeros(len(residents), dtype=bool)  # too many to number: judge them all
    key = (kind * n_r + r) * n_c + c
    groups = distinct(key)
    at = np.searchsorted(groups, key)
    first = _first_of(at)
    keep = ~(away_r[:, r[first]] | away_c[:, c[first]])
    chosen = kind[first]
    sure, _ = _surely(kind_ip[:, chosen] & keep, kind_v[:, chosen] & keep, cadence)
    out: BoolArray = sure[at]
    return out


#: odd multipliers of :func:`_alike`'s hash, one per 64-bit word (fixed: deterministic)
_HASH = np.random.default_rng(0x5EED).integers(1, 2**63, size=64, dtype=np.uint64) | _ONE


def _alike(kind: IntArray, words: U64) -> tuple[IntArray, IntArray]:
    """Rows equal in ``kind`` and every column of ``words`` numbered alike: (each row's
    number, one row of each number). Rows are grouped by a hash, then every row is
    compared with its group's first; should two different rows share a hash, every row
    keeps a number of its own (exact either way).

    Examples
    --------
    >>> import numpy as np
    >>> kind = np.array([0, 1, 0, 0])
    >>> words = np.array([[5, 0], [5, 0], [5, 0], [4, 0]], dtype=np.uint64)
    >>> ids, first = _alike(kind, words)
    >>> ids.tolist() == [ids[0], ids[1], ids[0], ids[3]], len(first)
    (True, 3)
    """
    n = len(kind)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    with np.errstate(over="ignore"):
        hashed = kind.astype(np.uint64) * _HASH[-1]
        for w in range(words.shape[1]):
            hashed += words[:, w] * _HASH[w % (len(_HASH) - 1)]
    order = np.argsort(hashed, kind="stable")
    ordered = hashed[order]
    starts = np.r_[True, ordered[1:] != ordered[:-1]]
    number = np.cumsum(starts) - 1
    first = order[starts]
    ids = np.empty(n, dtype=np.int64)
    ids[order] = number
    same = (kind == kind[first[ids]]) & (words == words[first[ids]]).all(axis=1)
    if not same.all():  # a collision of the hash: no grouping
        return np.arange(n, dtype=np.int64), np.arange(n, dtype=np.int64)
    return ids, first


def _pairwise(
    program: Program, residents: IntArray, coaches: IntArray, cadence: _Cadence
) -> BoolArray:
    """R7 for each pair on its own days, in batches."""
    out = np.zeros(len(residents), dtype=bool)
    for lo in range(0, len(residents), _BATCH):
        rows, cols = residents[lo : lo + _BATCH], coaches[lo : lo + _BATCH]
        in_person, virtual = pair_days(program, rows, cols, start_day=cadence.first_from)
        out[lo : lo + len(rows)] = _judge(in_person, virtual, cadence)
    return out


def _judge(in_person: U64, virtual: U64, cadence: _Cadence) -> BoolArray:
    """R7 per column of (words, pairs) day bitsets: the cheap tests, then the recursion
    for the pairs they leave open."""
    yes, no = _surely(in_person, virtual, cadence)
    out = yes.copy()
    unsure = np.flatnonzero(~yes & ~no)
    for k in range(0, len(unsure), _BATCH // 4):
        part = unsure[k : k + _BATCH // 4]
        days_ip = _unpack_days(in_person[:, part], cadence.n_days)
        days_v = _unpack_days(virtual[:, part], cadence.n_days)
        out[part] = _exact(days_ip, days_v, cadence)
    return out


def _lost_days(
    program: Program, residents: IntArray, coaches: IntArray, start_day: int
) -> tuple[IntArray, IntArray]:
    """(pair, day) wherever busy time takes away a day the pair would otherwise have:
    without busy time a meeting fits that day (a rotation day, from ``start_day``),
    with the two people's busy time none does."""
    free = FreeTime.of(program)
    length = -(-program.policy.meeting_minutes // SLOT_MINUTES)
    pair_index = np.arange(len(residents))
    pairs, days = [], []
    sides = (
        (free.resident_busy, free.coach_busy, residents, coaches),
        (free.coach_busy, free.resident_busy, coaches, residents),
    )
    # each busy day of one person (its own busy bits at hand), the partner's looked up
    for own, other, people, partners in sides:
        entry_pair, at = _exception_entries(own, people, pair_index)
        day = own.day[at]
        later = day >= start_day
        entry_pair, at, day = entry_pair[later], at[later], day[later]
        r, c = residents[entry_pair], coaches[entry_pair]
        wd = free.weekday[day]
        shared = free.resident_weekly[r, wd] & free.coach_weekly[c, wd] & free.exists[day]
        had = (_fits(shared, length) != 0) & free.on_rotation[r, day]
        entry_pair, at, day, shared = entry_pair[had], at[had], day[had], shared[had]
        shared &= ~own.bits[at]
        shared &= ~_busy_bits(other, partners[entry_pair], day, free.n_days)
        lost = _fits(shared, length) == 0
        pairs.append(entry_pair[lost])
        days.append(day[lost])
    # a day both people's busy time takes is listed twice; clearing it twice is harmless
    return np.concatenate(pairs), np.concatenate(days)


@dataclass(frozen=True)
class _Kinds:
    """What R7 looks at in a pair, busy time aside, numbered per person (cached).

    A pair's days without busy time follow from the resident's rotation days (and
    rotation sites, when some trips between sites have no travel time), the weekdays
    and spring-forward days on which the two share room for a meeting, and the
    coach's home site (idem) and ``virtual_ok``.
    """

    resident_kind: IntArray  # per resident
    coach_kind: IntArray  # per coach
    resident_weekly: IntArray  # per resident: its weekly pattern's number
    coach_weekly: IntArray  # per coach: idem
    #: (resident patterns, coach patterns): the pair's shared days as a number, or
    #: None when there are too many pattern pairs to tabulate
    shared: IntArray | None
    n_shared: int  # shared-day numbers are below this
    weekly_pairs: tuple[U64, U64]  # the patterns themselves
    #: per resident: its class, residents alike in kind and weekly pattern (all their
    #: pairs with a coach are of one kind); and one resident of each class
    resident_class: IntArray
    resident_of_class: IntArray
    coach_class: IntArray  # per coach: idem, by kind and weekly pattern
    coach_of_class: IntArray

    @classmethod
    def of(cls, program: Program) -> _Kinds:
        built: _Kinds = program.index.derived("r7_kinds", lambda: cls._build(program))
        return built

    @classmethod
    def _build(cls, program: Program) -> _Kinds:
        free = FreeTime.of(program)
        placed = not free.trip_ok.all() and program.policy.virtual != "only"
        resident_rows = np.ascontiguousarray(free.rotation_bits.T)
        if placed:
            resident_rows = np.hstack([resident_rows, free.site.astype(np.uint64)])
        resident_kind = _row_ids(resident_rows)
        home = free.coach_site if placed else np.zeros(len(free.coach_site), np.int64)
        coach_kind = home * 2 + free.coach_virtual_ok
        resident_weekly = _row_ids(free.resident_weekly)
        coach_weekly = _row_ids(free.coach_weekly)
        r_patterns = free.resident_weekly[_first_of(resident_weekly)]
        c_patterns = free.coach_weekly[_first_of(coach_weekly)]
        n_odd = len(_odd_days(free))
        shared = None
        if n_odd <= _MAX_ODD and len(r_patterns) * len(c_patterns) <= _TABLE_PAIRS:
            shared = _shared_days(program, r_patterns[:, None, :], c_patterns[None, :, :])
        resident_class = _row_ids(np.stack([resident_kind, resident_weekly], axis=1))
        coach_class = _row_ids(np.stack([coach_kind.astype(np.int64), coach_weekly], axis=1))
        return cls(
            resident_kind=resident_kind,
            coach_kind=coach_kind.astype(np.int64),
            resident_weekly=resident_weekly,
            coach_weekly=coach_weekly,
            shared=shared,
            n_shared=1 << (7 + n_odd),
            weekly_pairs=(r_patterns, c_patterns),
            resident_class=resident_class,
            resident_of_class=_first_of(resident_class),
            coach_class=coach_class,
            coach_of_class=_first_of(coach_class),
        )

    def group(
        self, program: Program, residents: IntArray, coaches: IntArray
    ) -> tuple[IntArray, IntArray] | None:
        """(kind number of each pair, one pair of each kind), or None when the kinds
        are too many to number in an int64."""
        n_rk = int(self.resident_kind.max()) + 1
        n_ck = int(self.coach_kind.max()) + 1
        if self.n_shared > 1 << (7 + _MAX_ODD) or n_rk * self.n_shared * n_ck >= 1 << 62:
            return None
        rw, cw = self.resident_weekly[residents], self.coach_weekly[coaches]
        if self.shared is not None:
            shared = self.shared[rw, cw]
        else:
            r_patterns, c_patterns = self.weekly_pairs
            shared = np.empty(len(residents), dtype=np.int64)
            for lo in range(0, len(residents), _BATCH):
                part = slice(lo, lo + _BATCH)
                shared[part] = _shared_days(program, r_patterns[rw[part]], c_patterns[cw[part]])
        key = (self.resident_kind[residents] * self.n_shared + shared) * n_ck
        key += self.coach_kind[coaches]
        space = n_rk * self.n_shared * n_ck
        if space <= 4 * len(key) + (1 << 20):
            seen = np.zeros(space, dtype=bool)
            seen[key] = True
            number = np.cumsum(seen) - 1
            ids = number[key]
        else:
            ids = np.searchsorted(distinct(key), key)
        first = np.empty(int(ids.max()) + 1, dtype=np.int64)
        first[ids] = np.arange(len(ids))  # any pair of a kind stands for it
        return ids.astype(np.int64), first


def _row_ids(rows: npt.NDArray[Any]) -> IntArray:
    """Equal rows, equal numbers (0, 1, ..., in the rows' sorted order), by one sort of
    the rows (``np.unique(axis=0)`` takes ten times as long on a few thousand rows).

    Examples
    --------
    >>> _row_ids(np.array([[2, 1], [1, 5], [2, 1]])).tolist()
    [1, 0, 1]
    """
    out = np.zeros(len(rows), dtype=np.int64)
    if len(rows) == 0 or rows.shape[1] == 0:
        return out
    order = np.lexsort(rows.T[::-1])
    ordered = rows[order]
    new = np.r_[True, (ordered[1:] != ordered[:-1]).any(axis=1)]
    out[order] = np.cumsum(new) - 1
    return out


def _first_of(ids: IntArray) -> IntArray:
    """For numbers 0, 1, ... (each used), the position of one element with each.

    Examples
    --------
    >>> _first_of(np.array([1, 0, 1, 2])).tolist()
    [1, 2, 3]
    """
    out = np.empty(int(ids.max()) + 1 if len(ids) else 0, dtype=np.int64)
    out[ids] = np.arange(len(ids))
    return out


def _odd_days(free: FreeTime) -> IntArray:
    """Days on which some local time does not exist (spring forward)."""
    odd: IntArray = np.flatnonzero(free.exists != np.uint64(_ALL_SLOTS))
    return odd


def _shared_days(program: Program, resident: U64, coach: U64) -> IntArray:
    """A number for the days two weekly patterns share room for a meeting on: bit w for
    weekday w, bit 7 + k for the k-th spring-forward day (whose hours differ)."""
    free = FreeTime.of(program)
    length = -(-program.policy.meeting_minutes // SLOT_MINUTES)
    weekly = resident & coach
    if length > SLOTS_PER_DAY:
        weekly = np.zeros_like(weekly)
    fits = _fits(weekly & np.uint64(_ALL_SLOTS), length) != 0
    out: IntArray = (fits.astype(np.int64) << np.arange(7)).sum(axis=-1)
    for k, day in enumerate(_odd_days(free).tolist()):
        wd = int(free.weekday[day])
        on = _fits(resident[..., wd] & coach[..., wd] & free.exists[day], length) != 0
        out |= on.astype(np.int64) << (7 + k)
    return out


def forbidden(
    program: Program, candidates: Mask | None = None, *, start: date | None = None
) -> Mask:
    """True where a candidate pair cannot meet (all False when ``must_meet`` is off).

    Parameters
    ----------
    candidates : numpy.ndarray of bool, optional
        The pairs to judge (default: every pair of active people); the others are
        False. The eligibility mask passes the pairs the other rules allow.
    start : datetime.date, optional
        The pairs' start (a re-plan's as-of date).

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> mask = forbidden(program)
    >>> mask.shape, int(mask.sum())
    ((60, 20), 0)
    """
    index = program.index
    mask = np.zeros((len(index.resident_ids), len(index.coach_ids)), dtype=bool)
    if not program.policy.must_meet:
        return mask
    if candidates is None:
        candidates = np.outer(index.active_residents, index.active_coaches)
    start_day = max((start - program.start).days, 0) if start is not None else 0
    by_class = _forbidden_by_class(program, candidates, start_day)
    if by_class is not None:
        return by_class
    pairs = np.flatnonzero(candidates)  # row-major, as np.nonzero, without its 2-D walk
    rows, cols = np.divmod(pairs, max(mask.shape[1], 1))
    mask.ravel()[pairs] = ~can_meet(program, rows, cols, start=start)
    return mask


#: :func:`forbidden` judges a table of every resident class with every coach class when
#: it has at most a half as many cells as there are candidate pairs
_CLASS_SHARE = 2


def _forbidden_by_class(program: Program, candidates: Mask, start_day: int) -> Mask | None:
    """:func:`forbidden` by a table of classes of people, or None when the table would
    be larger than judging the candidates pair by pair.

    Residents alike in kind and weekly pattern (a *class*) form pairs of one kind with
    every coach of one class, so the kinds and their verdicts without busy time are
    those of a (resident classes × coach classes) table, spread over the candidates
    by two gathers (none when every class pair can meet). Only the candidates with a
    person who has busy time are then looked at one by one (:func:`_despite_busy`):
    a few percent of them, where :func:`can_meet` numbers every candidate's kind.
    """
    kinds = _Kinds.of(program)
    cadence = _Cadence.of(program, start_day)
    shape = candidates.shape
    n_rc, n_cc = len(kinds.resident_of_class), len(kinds.coach_of_class)
    if n_rc * n_cc * _CLASS_SHARE > np.count_nonzero(candidates):
        return None
    if start_day >= cadence.n_days:
        return candidates.copy()  # no day left to meet on
    table_r = np.repeat(kinds.resident_of_class, n_cc)
    table_c = np.tile(kinds.coach_of_class, n_rc)
    group = kinds.group(program, table_r, table_c)
    if group is None:
        return None
    ids, first = group
    kind_ip, kind_v = _kind_days(program, table_r[first], table_c[first], start_day)
    verdict = _judge(kind_ip, kind_v, cadence)
    combo_kind = ids.reshape(n_rc, n_cc)
    r_class, c_class = kinds.resident_class, kinds.coach_class
    if verdict.all():
        mask = np.zeros(shape, dtype=bool)
        ok = candidates
    else:
        combo_ok = verdict[combo_kind]
        ok = candidates & combo_ok[r_class][:, c_class]
        mask = candidates > ok  # candidates whose class pair cannot meet
    # busy time: the pairs that can meet as their kind does and have someone busy
    free = FreeTime.of(program)
    busy_r = np.flatnonzero(np.diff(free.resident_busy.pointer))
    busy_c = np.flatnonzero(np.diff(free.coach_busy.pointer))
    by_row = np.flatnonzero(ok[busy_r])
    row_r, row_c = np.divmod(by_row, max(shape[1], 1))
    of_column = ok[:, busy_c]
    of_column[busy_r] = False  # those pairs come with their rows
    by_column = np.flatnonzero(of_column)
    col_r, col_c = np.divmod(by_column, max(len(busy_c), 1))
    residents = np.concatenate([busy_r[row_r], col_r])
    coaches = np.concatenate([row_c, busy_c[col_c]])
    fine = _despite_busy(
        program,
        residents,
        coaches,
        (combo_kind[r_class[residents], c_class[coaches]], kind_ip, kind_v),
        cadence,
    )
    mask[residents[~fine], coaches[~fine]] = True
    return mask


# ---------------------------------------------------------------------------
# Reasons
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Unmet:
    """Why a pair's days admit no plan: a clause with dates, about days first..last."""

    clause: str  # "have no common free time from 2026-07-12 to 2026-10-08, ..."
    first: int
    last: int


def unmet_cause(
    in_person: BoolArray,
    virtual: BoolArray,
    *,
    day0: date,
    first_from: int,
    first_by: int,
    shortest: int,
    longest: int,
    share: float,
    in_person_first: bool,
    what: str = "first",
) -> Unmet:
    """The cause behind :func:`unmet_reason`, with the days it is about.

    Examples
    --------
    >>> import numpy as np
    >>> from datetime import date
    >>> days = np.zeros(120, dtype=bool)
    >>> cause = unmet_cause(days, days, day0=date(2026, 7, 1), first_from=0, first_by=28,
    ...                     shortest=42, longest=56, share=0.5, in_person_first=True)
    >>> cause.clause, cause.first, cause.last
    ('have no common free time from 2026-07-01 to 2026-10-28', 0, 119)
    """
    n = len(in_person)

    def on(day: int) -> date:
        return day0 + timedelta(days=day)

    usable = np.flatnonzero(in_person | virtual)
    usable = usable[usable >= first_from]
    start, due = max(first_from, 0), min(first_by, n - 1)
    if not len(usable):
        return Unmet(f"have no common free time from {on(start)} to {on(n - 1)}", start, n - 1)
    opening = usable[usable <= first_by]
    if not len(opening):
        return Unmet(
            f"have no common free time from {on(start)} to {on(due)}, when their {what} "
            f"meeting is due; their next common free day is {on(int(usable[0]))}",
            start,
            due,
        )
    for a, b in itertools.pairwise(usable.tolist()):
        if b - a > longest:
            return Unmet(
                f"have no common free time from {on(a + 1)} to {on(b - 1)}, "
                f"longer than the {longest}-day cadence allows",
                a + 1,
                b - 1,
            )
    if n - 1 - int(usable[-1]) >= longest:
        return Unmet(
            f"have no common free time from {on(int(usable[-1]) + 1)} to {on(n - 1)}, "
            f"longer than the {longest}-day cadence allows before the horizon ends",
            int(usable[-1]) + 1,
            n - 1,
        )
    free_everywhere = _Cadence(
        n_days=n,
        first_from=first_from,
        first_by=first_by,
        shortest=shortest,
        longest=longest,
        share=(1, 1),
        virtual="never",
        in_person_first=False,
    )
    together = (in_person | virtual)[:, None]
    if bool(_exact(together, together, free_everywhere)[0]):
        if in_person_first and not in_person[start : due + 1].any():
            return Unmet(
                f"have no day to meet in person from {on(start)} to {on(due)}, and their "
                f"{what} meeting must be in person",
                start,
                due,
            )
        return Unmet(
            f"could meet only with more virtual meetings than the max_virtual_share of "
            f"{share:g} allows (in person on {int(in_person[start:].sum())} of their "
            f"{len(usable)} common free days)",
            start,
            n - 1,
        )
    return Unmet(
        f"cannot meet every {shortest}-{longest} days on their common free days "
        f"({len(usable)} days from {on(int(usable[0]))} to {on(int(usable[-1]))})",
        int(usable[0]),
        int(usable[-1]),
    )


def unmet_reason(names: str, in_person: BoolArray, virtual: BoolArray, **cadence: Any) -> str:
    """Why a pair's days admit no plan, as a sentence with dates.

    ``in_person`` and ``virtual`` are per day of the horizon; ``cadence`` holds the
    keyword arguments of :func:`unmet_cause` (``day0``, the first-meeting window, the
    cadence and the virtual policy). The scheduler uses the same sentences for a pair
    it cannot plan even alone.

    Examples
    --------
    >>> import numpy as np
    >>> from datetime import date
    >>> days = np.zeros(120, dtype=bool)
    >>> days[[3, 10, 100]] = True
    >>> print(unmet_reason("R1 and C1", days, np.zeros(120, dtype=bool), day0=date(2026, 7, 1),
    ...                    first_from=0, first_by=28, shortest=42, longest=56, share=0.5,
    ...                    in_person_first=True))  # doctest: +NORMALIZE_WHITESPACE
    R1 and C1 have no common free time from 2026-07-12 to 2026-10-08,
    longer than the 56-day cadence allows
    """
    return f"{names} {unmet_cause(in_person, virtual, **cadence).clause}"


def virtual_only_reason(resident_id: str, coach_id: str) -> str:
    """The sentence for a coach who does not meet virtually when every meeting is virtual.

    Examples
    --------
    >>> virtual_only_reason("R1", "C2").endswith("(virtual_ok = false)")
    True
    """
    return (
        f"{resident_id} and {coach_id} cannot meet: meetings are virtual only "
        f'(policy virtual = "only") and {coach_id} does not meet virtually '
        "(virtual_ok = false)"
    )


def why(
    program: Program, resident_id: str, coach_id: str, *, start: date | None = None
) -> str | None:
    """The sentence that excludes the pair, or None (also None when ``must_meet`` is off).

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> why(synthetic("small"), "R0001", "C0001") is None
    True
    """
    if not program.policy.must_meet:
        return None
    return reason(program, resident_id, coach_id, start=start)


def reason(
    program: Program, resident_id: str, coach_id: str, *, start: date | None = None
) -> str | None:
    """Why the pair cannot meet (whatever ``must_meet`` says), or None when it can."""
    index = program.index
    r = np.array([index.resident[resident_id]])
    c = np.array([index.coach[coach_id]])
    if can_meet(program, r, c, start=start)[0]:
        return None
    if program.policy.virtual == "only" and not program.coaches[index.coach[coach_id]].virtual_ok:
        return virtual_only_reason(resident_id, coach_id)
    start_day = max((start - program.start).days, 0) if start is not None else 0
    cadence = _Cadence.of(program, start_day)
    bits_ip, bits_v = pair_days(program, r, c, start_day=start_day)
    in_person = _unpack_days(bits_ip, cadence.n_days)[:, 0]
    virtual = _unpack_days(bits_v, cadence.n_days)[:, 0]
    return unmet_reason(
        f"{resident_id} and {coach_id}",
        in_person,
        virtual,
        day0=program.start,
        first_from=cadence.first_from,
        first_by=cadence.first_by,
        shortest=cadence.shortest,
        longest=cadence.longest,
        share=program.policy.max_virtual_share,
        in_person_first=cadence.in_person_first,
    )


def check(program: Program, pairs: Pairs, *, start: date | None = None) -> list[Violation]:
    """Pairs that cannot meet (none when ``must_meet`` is off).

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> check(synthetic("small"), [("R0001", "C0001")])
    []
    """
    if not program.policy.must_meet or not pairs:
        return []
    index = program.index
    rows = np.array([index.resident[r] for r, _ in pairs], dtype=np.int64)
    cols = np.array([index.coach[c] for _, c in pairs], dtype=np.int64)
    ok = can_meet(program, rows, cols, start=start)
    found = []
    for (r, c), fine in zip(pairs, ok.tolist(), strict=True):
        if not fine:
            sentence = reason(program, r, c, start=start) or f"{r} and {c} cannot meet"
            found.append(Violation(NAME, sentence, r, c))
    return found
