"""Meetings as the schedule rules S1-S4 read them, from a DataFrame or records.

A schedule is a table with the columns of ``meetings.csv`` (SPEC §6): meeting_id,
sequence, resident_id, coach_id, start, end (time-zone-aware, or ISO 8601 text with a
UTC offset), site_id (a site or ``"virtual"``), travel_minutes and status
(``"cancelled"`` rows are ignored by the rules).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["MEETING_COLUMNS", "VIRTUAL", "Meeting", "as_meetings", "by_pair"]

VIRTUAL = "virtual"
#: the columns of ``meetings.csv`` (SPEC §6), in order
MEETING_COLUMNS = (
    "meeting_id",
    "sequence",
    "resident_id",
    "coach_id",
    "start",
    "end",
    "site_id",
    "travel_minutes",
    "status",
)


@dataclass(frozen=True)
class Meeting:
    """One planned meeting."""

    meeting_id: str
    resident_id: str
    coach_id: str
    start: datetime
    end: datetime
    site_id: str
    travel_minutes: int | None = None
    sequence: int = 0
    status: str = "scheduled"

    @property
    def virtual(self) -> bool:
        return self.site_id == VIRTUAL


def _when(value: Any, column: str) -> datetime:
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"{column} must be a time-zone-aware date-time, got {value!r}")
    return value


def as_meetings(meetings: Any) -> list[Meeting]:
    """Meetings from a DataFrame (``meetings.csv`` columns) or an iterable of mappings.

    Cancelled meetings are dropped; the rest keep their order.

    Examples
    --------
    >>> rows = [{"meeting_id": "m1", "resident_id": "R1", "coach_id": "C1",
    ...          "start": "2026-07-08T13:00:00-04:00", "end": "2026-07-08T13:30:00-04:00",
    ...          "site_id": "virtual"}]
    >>> as_meetings(rows)[0].virtual
    True
    """
    records = meetings.to_dict("records") if hasattr(meetings, "to_dict") else list(meetings)
    out = []
    for k, row in enumerate(records):
        status = str(row.get("status") or "scheduled")
        if status == "cancelled":
            continue
        travel = row.get("travel_minutes")
        out.append(
            Meeting(
                meeting_id=str(row.get("meeting_id") or f"row{k + 1}"),
                resident_id=str(row["resident_id"]),
                coach_id=str(row["coach_id"]),
                start=_when(row["start"], "start"),
                end=_when(row["end"], "end"),
                site_id=str(row["site_id"]),
                travel_minutes=None if travel is None or travel != travel else int(travel),
                sequence=int(row.get("sequence") or 0),
                status=status,
            )
        )
    return out


def by_pair(meetings: list[Meeting]) -> dict[tuple[str, str], list[Meeting]]:
    """Each pair's meetings in time order."""
    pairs: dict[tuple[str, str], list[Meeting]] = defaultdict(list)
    for m in meetings:
        pairs[m.resident_id, m.coach_id].append(m)
    for items in pairs.values():
        items.sort(key=lambda m: m.start.timestamp())
    return dict(pairs)
