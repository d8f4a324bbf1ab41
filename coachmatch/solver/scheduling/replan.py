"""Re-planning from a previous schedule (SPEC §5 "Re-planning", §6 meeting ids).

Given the previous run's meetings and an as-of date:

- every previous row that starts before the as-of date, and every row already
  cancelled, is carried over unchanged;
- a pair of the new matching that had scheduled meetings before continues: its
  held meetings fix where its cadence stands, and its later meetings are kept where
  they still satisfy S1, S3 and S4 (the scheduler keeps as many as it can, then
  minimizes travel);
- a pair that is new starts on the as-of date (its first meeting is due within
  ``first_meeting_within_days`` of it);
- a previous pair that is not in the new matching ends the day before the as-of
  date, and its later meetings are cancelled.

Ids: a kept meeting keeps its id and sequence; a moved one keeps its id and its
sequence goes up by one; a previous meeting with no place in the new plan is
reported with status ``"cancelled"`` and a sequence one higher; a new meeting gets
the next free number of its pair (:func:`meeting_id`: ``<resident>-<coach>-<nn>``,
unambiguous).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd

from coachmatch.constraints.meetings import MEETING_COLUMNS
from coachmatch.models import Program

__all__ = ["History", "meeting_id", "merge", "read_previous"]

Pair = tuple[str, str]


@dataclass(frozen=True)
class History:
    """What a re-plan starts from."""

    as_of: date
    #: previous rows carried over unchanged (before ``as_of``, or already cancelled)
    carried: list[dict[str, Any]]
    #: previous scheduled rows on or after ``as_of``, per pair, in time order
    future: dict[Pair, list[dict[str, Any]]]
    #: per continuing pair: (last held date, meetings held, virtual meetings held)
    held: dict[Pair, tuple[date, int, int]]
    #: pairs that had scheduled meetings before this run
    known: frozenset[Pair]
    #: start dates of pairs made during the horizon (before and in this run)
    starts: dict[Pair, date] = field(default_factory=dict)
    #: last dates of pairs that ended during the horizon
    ends: dict[Pair, date] = field(default_factory=dict)
    #: every meeting id used so far (never given to a new meeting)
    used_ids: frozenset[str] = frozenset()

    def start_of(self, program: Program, pair: Pair) -> date:
        """The pair's start: recorded, else the as-of date for a new pair."""
        if pair in self.starts:
            return self.starts[pair]
        if pair in self.known:
            return program.start
        return max(self.as_of, program.start)


def _timestamp(value: Any, zone: Any, where: str) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        raise ValueError(f"previous meetings: {where} must have a UTC offset, got {value!r}")
    return stamp.tz_convert(zone)


def read_previous(
    program: Program,
    previous: Any,
    as_of: date,
    *,
    starts: Mapping[Pair, date] | None = None,
    ends: Mapping[Pair, date] | None = None,
) -> History:
    """Split a previous schedule at ``as_of`` (see the module docstring).

    Parameters
    ----------
    program : Program
    previous : Schedule, DataFrame, iterable of mappings, or None
        The earlier run's meetings (``meetings.csv`` columns); None for a first run
        that starts on ``as_of``.
    as_of : datetime.date
    starts, ends : mapping of pair to date, optional
        Start and last dates of pairs made or ended during the horizon by earlier runs
        (a :class:`~coachmatch.results.Schedule` carries its own).

    Examples
    --------
    >>> from datetime import date
    >>> from coachmatch.datasets import synthetic
    >>> history = read_previous(synthetic("small"), None, date(2026, 9, 1))
    >>> history.carried, history.as_of
    ([], datetime.date(2026, 9, 1))
    """
    zone = program.zone
    recorded_starts = dict(getattr(previous, "starts", {}) or {})
    recorded_ends = dict(getattr(previous, "ends", {}) or {})
    recorded_starts.update(starts or {})
    recorded_ends.update(ends or {})
    table = getattr(previous, "meetings", previous)
    if table is None:
        records: list[dict[str, Any]] = []
    elif hasattr(table, "to_dict"):
        records = table.to_dict("records")
    else:
        records = [dict(r) for r in table]
    carried: list[dict[str, Any]] = []
    future: dict[Pair, list[dict[str, Any]]] = {}
    held: dict[Pair, tuple[date, int, int]] = {}
    known: set[Pair] = set()
    ids: set[str] = set()
    for k, raw in enumerate(records, start=1):
        missing = [c for c in MEETING_COLUMNS if c not in raw]
        if missing:
            raise ValueError(f"previous meetings row {k}: missing {', '.join(missing)}")
        row = {c: raw[c] for c in MEETING_COLUMNS}
        row["meeting_id"] = str(row["meeting_id"])
        if row["meeting_id"] in ids:
            raise ValueError(f"previous meetings row {k}: duplicate id {row['meeting_id']!r}")
        ids.add(row["meeting_id"])
        row["resident_id"], row["coach_id"] = str(row["resident_id"]), str(row["coach_id"])
        row["start"] = _timestamp(row["start"], zone, f"row {k} start")
        row["end"] = _timestamp(row["end"], zone, f"row {k} end")
        row["sequence"] = int(row["sequence"])
        row["travel_minutes"] = int(row["travel_minutes"])
        row["site_id"], row["status"] = str(row["site_id"]), str(row["status"])
        pair = (row["resident_id"], row["coach_id"])
        day = row["start"].date()
        if row["status"] == "cancelled" or day < as_of:
            carried.append(row)
        if row["status"] == "cancelled":
            continue
        known.add(pair)
        if day < as_of:
            last, count, virtual = held.get(pair, (day, 0, 0))
            held[pair] = (max(last, day), count + 1, virtual + (row["site_id"] == "virtual"))
        else:
            future.setdefault(pair, []).append(row)
    for rows in future.values():
        rows.sort(key=lambda r: (r["start"], r["meeting_id"]))
    return History(
        as_of=as_of,
        carried=carried,
        future=future,
        held=held,
        known=frozenset(known - set(recorded_ends)),
        starts=recorded_starts,
        ends=recorded_ends,
        used_ids=frozenset(ids),
    )


#: longest readable meeting id; longer ones use a digest (they name files)
_MEETING_ID_BYTES = 200


def _part(value: str) -> str:
    """An id with ``%`` and ``-`` percent-encoded, so ``-`` can separate parts."""
    return value.replace("%", "%25").replace("-", "%2D")


def meeting_id(pair: Pair, number: int) -> str:
    """The id of a pair's ``number``-th meeting, unique by construction.

    ``<resident>-<coach>-<nn>`` with ``%`` and ``-`` inside each id percent-encoded,
    so that two pairs never share an id (``R1`` with ``Q-C9`` and ``R1-Q`` with ``C9``
    differ); for ids without them it reads as before. When that would be longer than
    200 bytes (ids name files), ``m<digest of the pair>-<nn>`` instead.

    Examples
    --------
    >>> meeting_id(("R0001", "C0002"), 3)
    'R0001-C0002-03'
    >>> meeting_id(("R1", "Q-C9"), 1), meeting_id(("R1-Q", "C9"), 1)
    ('R1-Q%2DC9-01', 'R1%2DQ-C9-01')
    """
    readable = f"{_part(pair[0])}-{_part(pair[1])}-{number:02d}"
    if len(readable.encode("utf-8")) <= _MEETING_ID_BYTES:
        return readable
    digest = hashlib.sha256(f"{pair[0]}\0{pair[1]}".encode()).hexdigest()[:24]
    return f"m{digest}-{number:02d}"


def merge(
    program: Program,
    history: History,
    planned: dict[Pair, list[dict[str, Any]]],
    pairs: list[Pair],
) -> tuple[list[dict[str, Any]], dict[str, int], dict[Pair, date], dict[Pair, date], set[str]]:
    """The re-planned rows, the change counts, pair start and last dates, and the ids of
    the meetings this re-plan moved, added or cancelled (what invitations must say).

    ``planned`` holds, per pair of the new matching that could be planned, the new
    plan's rows on or after the as-of date (without ids). Each is matched to a
    previous meeting: the same start and place (kept), else the next unmatched
    previous meeting in time order (moved), else a new id.
    """
    rows = list(history.carried)
    counts = {"kept": 0, "moved": 0, "new": 0, "cancelled": 0}
    changed: set[str] = set()
    used = set(history.used_ids)
    current = set(pairs)
    starts = dict(history.starts)
    ends = dict(history.ends)
    for pair in pairs:
        if pair not in history.known and history.as_of > program.start:
            starts.setdefault(pair, history.start_of(program, pair))
        if pair in ends:  # a pair made again after it ended: a new stint
            del ends[pair]
            starts[pair] = max(history.as_of, program.start)
    for pair in sorted(history.known - current):
        ends[pair] = history.as_of - timedelta(days=1)
    for pair in sorted(set(history.future) | set(planned)):
        before = list(history.future.get(pair, []))
        new = planned.get(pair, [])
        fresh = []
        for row in new:
            same = next(
                (
                    old
                    for old in before
                    if old["start"] == row["start"] and old["site_id"] == row["site_id"]
                ),
                None,
            )
            if same is None:
                fresh.append(row)
                continue
            before.remove(same)
            rows.append({**same, "travel_minutes": row["travel_minutes"]})
            counts["kept"] += 1
        for row, old in zip(fresh, before, strict=False):
            rows.append(
                {
                    **row,
                    "meeting_id": old["meeting_id"],
                    "sequence": old["sequence"] + 1,
                }
            )
            counts["moved"] += 1
            changed.add(old["meeting_id"])
        for old in before[len(fresh) :]:
            rows.append({**old, "sequence": old["sequence"] + 1, "status": "cancelled"})
            counts["cancelled"] += 1
            changed.add(old["meeting_id"])
        number = 0
        for row in fresh[len(before) :]:
            number += 1
            while meeting_id(pair, number) in used:
                number += 1
            used.add(meeting_id(pair, number))
            rows.append({**row, "meeting_id": meeting_id(pair, number), "sequence": 0})
            counts["new"] += 1
            changed.add(meeting_id(pair, number))
    return rows, counts, starts, ends, changed
