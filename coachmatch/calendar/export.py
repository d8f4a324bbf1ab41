"""Calendars out: one ``.ics`` per person and one for the program (SPEC §6).

Every meeting becomes a VEVENT whose UID is built from its stable meeting id
(``<meeting_id>@<domain>``, never random) and whose SEQUENCE is the meeting's sequence
number, so a calendar that subscribed to or imported an earlier file updates the event
in place; a cancelled meeting is exported with ``STATUS:CANCELLED`` (its sequence is
already one higher). DTSTAMP is the run's timestamp, so a rerun writes the same bytes.
Times are written in UTC (``DTSTART:20261104T180000Z``), which every client reads
exactly and shows in its own zone; ``X-WR-TIMEZONE`` names the program's zone for
display. Escaping, line folding and CRLF endings are the icalendar package's.

Files use ``METHOD:PUBLISH``; :func:`invitations` makes per-meeting ``METHOD:REQUEST``
(or ``CANCEL``) messages for programs that send invitations by e-mail.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import icalendar

from coachmatch.constraints.meetings import VIRTUAL
from coachmatch.io.output import file_name
from coachmatch.results import Schedule

__all__ = [
    "AGENDA",
    "LINK_PLACEHOLDER",
    "PEOPLE",
    "calendar_for",
    "calendars",
    "invitations",
    "write_ics",
]

#: in a virtual meeting's link template, replaced by the meeting's id (nothing else is)
LINK_PLACEHOLDER = "{meeting_id}"
#: the folder of the per-person calendars, beside ``program.ics`` (a person's id can
#: then never name the program's file)
PEOPLE = "people"

#: the short agenda in every meeting's description
AGENDA = (
    "Coaching meeting agenda:\n"
    "1. Review new assessment data (EPAs, rotation evaluations).\n"
    "2. Update the learning plan.\n"
    "3. Book the next meeting."
)


def _prodid() -> str:
    from coachmatch import __version__

    return f"-//coachmatch//coachmatch {__version__}//EN"


def _address(email: str, name: str, role: str | None = None) -> icalendar.vCalAddress:
    address = icalendar.vCalAddress(f"mailto:{email}")
    address.params["CN"] = icalendar.vText(name)
    if role:
        address.params["ROLE"] = icalendar.vText(role)
        address.params["PARTSTAT"] = icalendar.vText("NEEDS-ACTION")
        address.params["RSVP"] = icalendar.vText("TRUE")
    return address


def _utc(value: Any) -> datetime:
    moment: datetime = value.to_pydatetime() if hasattr(value, "to_pydatetime") else value
    return moment.astimezone(UTC)


def _event(
    schedule: Schedule,
    row: Mapping[Any, Any],
    *,
    domain: str,
    stamp: datetime,
    meeting_link: str | None,
) -> icalendar.Event:
    program = schedule.program
    index = program.index
    coach = program.coaches[index.coach[row["coach_id"]]]
    resident = program.residents[index.resident[row["resident_id"]]]
    event = icalendar.Event()
    event.add("uid", f"{row['meeting_id']}@{domain}")
    event.add("sequence", int(row["sequence"]))
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", _utc(row["start"]))
    event.add("dtend", _utc(row["end"]))
    event.add("summary", f"Coaching: {resident.name} with {coach.name}")
    cancelled = row["status"] == "cancelled"
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    details = [AGENDA, "", f"Coach: {coach.name}", f"Resident: {resident.name}"]
    if row["site_id"] == VIRTUAL:
        # a template with one placeholder, filled by plain replacement (never str.format)
        link = meeting_link.replace(LINK_PLACEHOLDER, row["meeting_id"]) if meeting_link else None
        if link:
            event.add("location", f"Virtual meeting: {link}")
            event.add("url", link)
            event.add("conference", link, parameters={"VALUE": "URI", "FEATURE": "VIDEO"})
            details.append(f"Join: {link}")
        else:
            event.add("location", "Virtual meeting (the coach sends the link)")
    else:
        site = program.sites[index.site[row["site_id"]]]
        place = f"{site.name}, {site.address}" if site.address else site.name
        event.add("location", place)
        if site.lat is not None and site.lon is not None:
            event.add("geo", (site.lat, site.lon))
        details.append(f"Place: {place}")
    event.add("description", "\n".join(details))
    if coach.email:
        event.add("organizer", _address(coach.email, coach.name))
    if resident.email:
        event.add("attendee", _address(resident.email, resident.name, "REQ-PARTICIPANT"))
    if coach.email:
        event.add("attendee", _address(coach.email, coach.name, "CHAIR"))
    return event


def _calendar(name: str, zone: str, method: str) -> icalendar.Calendar:
    calendar = icalendar.Calendar()
    calendar.add("prodid", _prodid())
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", zone)
    return calendar


def calendar_for(
    schedule: Schedule,
    person_id: str | None = None,
    *,
    domain: str = "coachmatch.invalid",
    stamp: datetime,
    meeting_link: str | None = None,
) -> icalendar.Calendar:
    """One person's meetings (or the whole program's) as a ``METHOD:PUBLISH`` calendar.

    Parameters
    ----------
    schedule : Schedule
    person_id : str, optional
        A coach or resident; None for every meeting of the program.
    domain : str
        The right-hand side of every UID (``<meeting_id>@<domain>``); keep it the same
        from run to run so calendars update in place.
    stamp : datetime.datetime
        The run's timestamp (time-zone-aware), written as every event's DTSTAMP.
    meeting_link : str, optional
        The link of virtual meetings; ``{meeting_id}`` in it is replaced by the id.

    Returns
    -------
    icalendar.Calendar

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> import coachmatch
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> plan = coachmatch.schedule(program, coachmatch.match(program))
    >>> calendar = calendar_for(plan, "C0001", stamp=datetime(2026, 7, 1, tzinfo=UTC))
    >>> event = calendar.walk("VEVENT")[0]
    >>> str(event["uid"]).endswith("@coachmatch.invalid"), event["dtstart"].dt.tzinfo
    (True, datetime.timezone.utc)
    """
    program = schedule.program
    meetings = schedule.meetings
    if person_id is None:
        title = program.name
        rows = meetings
    else:
        index = program.index
        if person_id in index.coach:
            title = f"{program.coaches[index.coach[person_id]].name}: coaching"
            rows = meetings[meetings["coach_id"] == person_id]
        elif person_id in index.resident:
            title = f"{program.residents[index.resident[person_id]].name}: coaching"
            rows = meetings[meetings["resident_id"] == person_id]
        else:
            raise KeyError(f"unknown person {person_id!r}")
    calendar = _calendar(title, program.timezone, "PUBLISH")
    for row in rows.to_dict("records"):
        calendar.add_component(
            _event(schedule, row, domain=domain, stamp=stamp, meeting_link=meeting_link)
        )
    return calendar


def calendars(
    schedule: Schedule,
    *,
    domain: str = "coachmatch.invalid",
    stamp: datetime,
    meeting_link: str | None = None,
) -> dict[str, bytes]:
    """Every calendar file of a run: ``people/<person_id>.ics`` per coach and resident
    with meetings, and ``program.ics``; file name to bytes, in a fixed order.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> import coachmatch
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> plan = coachmatch.schedule(program, coachmatch.match(program))
    >>> files = calendars(plan, stamp=datetime(2026, 7, 1, tzinfo=UTC))
    >>> "program.ics" in files, files["people/C0001.ics"].startswith(b"BEGIN:VCALENDAR\\r\\n")
    (True, True)
    """
    meetings = schedule.meetings
    people = sorted(set(meetings["coach_id"])) + sorted(set(meetings["resident_id"]))
    out = {}
    for person in people:
        calendar = calendar_for(
            schedule, person, domain=domain, stamp=stamp, meeting_link=meeting_link
        )
        out[f"{PEOPLE}/{file_name(person, '.ics')}"] = calendar.to_ical()
    whole = calendar_for(schedule, domain=domain, stamp=stamp, meeting_link=meeting_link)
    out["program.ics"] = whole.to_ical()
    return out


def invitations(
    schedule: Schedule,
    *,
    domain: str = "coachmatch.invalid",
    stamp: datetime,
    meeting_link: str | None = None,
    changed_only: bool = True,
) -> dict[str, bytes]:
    """Per-meeting iTIP messages to e-mail: ``METHOD:REQUEST`` for a scheduled meeting,
    ``METHOD:CANCEL`` for a cancelled one; ``<meeting_id>.ics`` to bytes.

    Parameters
    ----------
    changed_only : bool, default True
        Leave out meetings that start before the stamp (already held).

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> import coachmatch
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> plan = coachmatch.schedule(program, coachmatch.match(program))
    >>> message = next(iter(invitations(plan, stamp=datetime(2026, 7, 1, tzinfo=UTC)).values()))
    >>> b"METHOD:REQUEST" in message
    True
    """
    out = {}
    for row in schedule.meetings.to_dict("records"):
        if changed_only and _utc(row["start"]) < stamp.astimezone(UTC):
            continue
        method = "CANCEL" if row["status"] == "cancelled" else "REQUEST"
        calendar = _calendar(schedule.program.name, schedule.program.timezone, method)
        calendar.add_component(
            _event(schedule, row, domain=domain, stamp=stamp, meeting_link=meeting_link)
        )
        out[file_name(row["meeting_id"], ".ics")] = calendar.to_ical()
    return out


def write_ics(files: dict[str, bytes], folder: str | Path) -> None:
    """Write calendar files (from :func:`calendars`) into ``folder``, created if needed.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     write_ics({"a.ics": b"BEGIN:VCALENDAR"}, folder)
    """
    target = Path(folder)
    for name, data in files.items():
        path = target.joinpath(*(file_name(part) for part in name.split("/")))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
