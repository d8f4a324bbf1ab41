"""iCalendar in and out: busy time from ``busy/*.ics``; meetings to ``.ics`` files."""

from coachmatch.calendar.busy import busy_from_ics
from coachmatch.calendar.export import calendar_for, calendars, invitations, write_ics

__all__ = ["busy_from_ics", "calendar_for", "calendars", "invitations", "write_ics"]
