"""iCalendar in and out: busy time from ``busy/*.ics``."""

from coachmatch.calendar.busy import busy_from_ics

__all__ = ["busy_from_ics"]
