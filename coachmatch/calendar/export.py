"""Calendars out: one ``.ics`` per person and one for the program (SPEC §6).

Every meeting becomes a VEVENT whose UID is built from its stable meeting id
(``<meeting_id>@<domain>``, never random) and whose SEQUENCE is the meeting's sequence
number, so a calendar that subscribed to or imported an earlier file updates the event
in place; a cancelled meeting is exported with ``STATUS:CANCELLED`` (its sequence is
already one higher). DTSTAMP is the run's timestamp, so a rerun writes the same bytes.
Times are written in UTC (``DTSTART:20261104T180000Z``), which every client reads
exactly and shows in its own zone; ``X-WR-TIMEZONE`` names the program's zone for
display. Escaping, line folding and CRLF endings are the icalendar package's.

Standards (RFC 5545, RFC 5546): the published calendars (a person's, the program's)
carry no METHOD — they are plain calendars to subscribe to or import, with the coach as
ORGANIZER and no ATTENDEE, so no client takes them for invitations. :func:`invitations`
makes per-meeting iTIP messages, ``METHOD:REQUEST`` (or ``CANCEL``), with the coach as
ORGANIZER and the resident as ATTENDEE; a meeting where either has no e-mail address
gets none, and :func:`unsendable` says so. Parameter values (CN) are written without
RFC 6868 escapes (``^'``), which several clients show literally: a double quote in a
name becomes a single one. The UID domain is the program's (``uid_domain`` in
``program.toml``, else derived from its name), so two programs never share UIDs.
A meeting of a person or site no longer in the program (a re-plan after they left)
is exported with their id for a name.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
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
    "unsendable",
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


def _common_name(name: str) -> str:
    """A CN value that needs no RFC 6868 escape (``"`` becomes ``'``; ``^`` is dropped)."""
    return name.replace('"', "'").replace("^", "")


def _address(email: str, name: str, attendee: bool = False) -> icalendar.vCalAddress:
    address = icalendar.vCalAddress(f"mailto:{email}")
    address.params["CN"] = icalendar.vText(_common_name(name))
    if attendee:
        address.params["ROLE"] = icalendar.vText("REQ-PARTICIPANT")
        address.params["PARTSTAT"] = icalendar.vText("NEEDS-ACTION")
        address.params["RSVP"] = icalendar.vText("TRUE")
    return address


def _utc(value: Any) -> datetime:
    moment: datetime = value.to_pydatetime() if hasattr(value, "to_pydatetime") else value
    return moment.astimezone(UTC)


def _person(program: Any, person_id: str) -> tuple[str, str]:
    """(name, e-mail) of a coach or resident; the id and no e-mail for someone no longer
    in the program (their meetings of an earlier run are still exported, cancelled)."""
    index = program.index
    if person_id in index.coach:
        coach = program.coaches[index.coach[person_id]]
        return coach.name, coach.email
    if person_id in index.resident:
        resident = program.residents[index.resident[person_id]]
        return resident.name, resident.email
    return person_id, ""


def _event(
    schedule: Schedule,
    row: Mapping[Any, Any],
    *,
    domain: str,
    stamp: datetime,
    meeting_link: str | None,
    invitation: bool,
) -> icalendar.Event:
    event = icalendar.Event()
    for prop in _properties(
        schedule, row, domain=domain, stamp=stamp, meeting_link=meeting_link, invitation=invitation
    ):
        _add(event, prop)
    return event


def _add(component: icalendar.cal.Component, prop: _Property) -> None:
    name, value, parameters = prop
    if parameters:
        component.add(name, _value(value), parameters=dict(parameters))
    else:
        component.add(name, _value(value))


#: a property of an event: (name, value, parameters); an address is (e-mail, name,
#: attendee) until it is made (:func:`_value`), so that properties can be dict keys
_Property = tuple[str, Any, "tuple[tuple[str, str], ...] | None"]


def _value(value: Any) -> Any:
    if isinstance(value, _Address):
        return _address(value.email, value.name, attendee=value.attendee)
    return value


@dataclass(frozen=True)
class _Address:
    email: str
    name: str
    attendee: bool = False


def _properties(
    schedule: Schedule,
    row: Mapping[Any, Any],
    *,
    domain: str,
    stamp: datetime,
    meeting_link: str | None,
    invitation: bool,
) -> list[_Property]:
    """The properties of one meeting's event, in the order they are added."""
    program = schedule.program
    index = program.index
    coach_name, coach_email = _person(program, row["coach_id"])
    resident_name, resident_email = _person(program, row["resident_id"])
    out: list[_Property] = [
        ("uid", f"{row['meeting_id']}@{domain}", None),
        ("sequence", int(row["sequence"]), None),
        ("dtstamp", stamp.astimezone(UTC), None),
        ("dtstart", _utc(row["start"]), None),
        ("dtend", _utc(row["end"]), None),
        ("summary", f"Coaching: {resident_name} with {coach_name}", None),
    ]
    cancelled = row["status"] == "cancelled"
    out.append(("status", "CANCELLED" if cancelled else "CONFIRMED", None))
    out.append(("transp", "TRANSPARENT" if cancelled else "OPAQUE", None))
    details = [AGENDA, "", f"Coach: {coach_name}", f"Resident: {resident_name}"]
    if row["site_id"] == VIRTUAL:
        # a template with one placeholder, filled by plain replacement (never str.format)
        link = meeting_link.replace(LINK_PLACEHOLDER, row["meeting_id"]) if meeting_link else None
        if link:
            out.append(("location", f"Virtual meeting: {link}", None))
            out.append(("url", link, None))
            out.append(("conference", link, (("VALUE", "URI"), ("FEATURE", "VIDEO"))))
            details.append(f"Join: {link}")
        else:
            out.append(("location", "Virtual meeting (the coach sends the link)", None))
    elif row["site_id"] in index.site:
        site = program.sites[index.site[row["site_id"]]]
        place = f"{site.name}, {site.address}" if site.address else site.name
        out.append(("location", place, None))
        if site.lat is not None and site.lon is not None:
            out.append(("geo", (site.lat, site.lon), None))
        details.append(f"Place: {place}")
    else:  # a site no longer in the program (a meeting of an earlier run)
        out.append(("location", str(row["site_id"]), None))
        details.append(f"Place: {row['site_id']}")
    out.append(("description", "\n".join(details), None))
    if coach_email:
        out.append(("organizer", _Address(coach_email, coach_name), None))
    if invitation and resident_email:
        out.append(("attendee", _Address(resident_email, resident_name, attendee=True), None))
    return out


class _Writer:
    """Components of one kind serialized as icalendar writes them (``to_ical()``), each
    distinct content line made by icalendar once: a whole faculty's 36,700 events
    share their DTSTAMP, their coaches' ORGANIZER, their sites' LOCATION and GEO and
    each pair's SUMMARY and DESCRIPTION, and icalendar takes ~0.5 ms an event."""

    #: properties of type TEXT written straight from ``vText`` (memoized all the same)
    TEXT = frozenset({"summary", "description", "location", "x-wr-calname"})

    def __init__(self, kind: type[icalendar.cal.Component]) -> None:
        self._kind = kind
        self._begin = f"BEGIN:{kind.name}\r\n".encode("ascii")
        self._end = f"END:{kind.name}\r\n".encode("ascii")
        self._lines: dict[tuple[_Property, type], bytes] = {}
        self._rank: dict[str, int] = {}

    def component(self, properties: list[_Property], inside: bytes = b"") -> bytes:
        """The component with ``properties`` and the serialized subcomponents
        ``inside`` (which icalendar writes after the properties)."""
        names = {name.upper() for name, _, _ in properties}
        if not names <= self._rank.keys():
            # icalendar's order of a component's properties (its ``sorted_keys``):
            # known ones first in a fixed order, then the rest by name
            probe = self._kind()
            for name in (*self._rank, *names):
                probe[name] = ""  # only the names matter
            self._rank = {key: k for k, key in enumerate(probe.sorted_keys())}
        lines = sorted(properties, key=lambda prop: self._rank[prop[0].upper()])
        return self._begin + b"".join(map(self._line, lines)) + inside + self._end

    def _line(self, prop: _Property) -> bytes:
        name, value, parameters = prop
        if name in ("dtstart", "dtend") and value.tzinfo is UTC and not value.microsecond:
            # a UTC date-time, as icalendar writes one (no TZID, a Z)
            return f"{name.upper()}:{value:%Y%m%dT%H%M%SZ}\r\n".encode("ascii")
        if name == "uid":  # one per event: not kept
            return self._text(name, value) or self._made(prop)
        # the value's type is part of the key (1, 1.0 and True are equal dict keys);
        # date-times are all in UTC here, so equal ones are written alike
        key = (prop, type(value))
        made = self._lines.get(key)
        if made is None:
            direct = None
            if name in self.TEXT and parameters is None and isinstance(value, str):
                direct = self._text(name, value)
            made = self._lines[key] = direct or self._made(prop)
        return made

    @staticmethod
    def _text(name: str, value: str) -> bytes | None:
        """A TEXT property's line as icalendar writes it, when it is ASCII (else None)."""
        text = f"{name.upper()}:{icalendar.vText(value).to_ical().decode()}"
        if text.isascii() and "\n" not in text:
            return _folded(text).encode("ascii") + b"\r\n"
        return None

    def _made(self, prop: _Property) -> bytes:
        """The line as icalendar writes it, from a component holding only it."""
        alone = self._kind()
        _add(alone, prop)
        return _ical(alone).removeprefix(self._begin).removesuffix(self._end)


def _title(program: Any, person_id: str) -> str:
    """The name of one person's published calendar."""
    return f"{_person(program, person_id)[0]}: coaching"


def _calendar(name: str, zone: str, method: str | None) -> icalendar.Calendar:
    calendar = icalendar.Calendar()
    for prop in _calendar_properties(name, zone, method):
        _add(calendar, prop)
    return calendar


def _calendar_properties(name: str, zone: str, method: str | None) -> list[_Property]:
    """The properties of a calendar, in the order they are added."""
    out: list[_Property] = [
        ("prodid", _prodid(), None),
        ("version", "2.0", None),
        ("calscale", "GREGORIAN", None),
    ]
    if method is not None:
        out.append(("method", method, None))
    out.append(("x-wr-calname", name, None))
    out.append(("x-wr-timezone", zone, None))
    return out


def calendar_for(
    schedule: Schedule,
    person_id: str | None = None,
    *,
    domain: str | None = None,
    stamp: datetime,
    meeting_link: str | None = None,
) -> icalendar.Calendar:
    """One person's meetings (or the whole program's) as a calendar to publish.

    The calendar has no METHOD (RFC 5546: it is not an invitation); each event names the
    coach as ORGANIZER and has no ATTENDEE.

    Parameters
    ----------
    schedule : Schedule
    person_id : str, optional
        A coach or resident; None for every meeting of the program.
    domain : str, optional
        The right-hand side of every UID (``<meeting_id>@<domain>``); keep it the same
        from run to run so calendars update in place. Default: the program's
        :attr:`~coachmatch.Program.calendar_domain`.
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
    >>> str(event["uid"]).split("@")[1], "METHOD" in calendar, "ATTENDEE" in event
    ('synthetic-small-program-seed-0.coachmatch.invalid', False, False)
    """
    program = schedule.program
    meetings = schedule.meetings
    if person_id is None:
        title = program.name
        rows = meetings
    else:
        if person_id in meetings["coach_id"].values:
            rows = meetings[meetings["coach_id"] == person_id]
        elif person_id in meetings["resident_id"].values:
            rows = meetings[meetings["resident_id"] == person_id]
        elif person_id in program.index.coach or person_id in program.index.resident:
            rows = meetings.iloc[0:0]
        else:
            raise KeyError(f"unknown person {person_id!r}")
        title = _title(program, person_id)
    calendar = _calendar(title, program.timezone, None)
    where = domain or program.calendar_domain
    for row in rows.to_dict("records"):
        calendar.add_component(
            _event(
                schedule,
                row,
                domain=where,
                stamp=stamp,
                meeting_link=meeting_link,
                invitation=False,
            )
        )
    return calendar


def calendars(
    schedule: Schedule,
    *,
    domain: str | None = None,
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
    program = schedule.program
    meetings = schedule.meetings
    where = domain or program.calendar_domain
    # each event is built and serialized once, then shared by the coach's, the
    # resident's and the program's calendars (as calendar_for would write it)
    events: list[bytes] = []
    by_coach: dict[str, list[int]] = {}
    by_resident: dict[str, list[int]] = {}
    writer, calendar = _Writer(icalendar.Event), _Writer(icalendar.Calendar)
    for k, row in enumerate(meetings.to_dict("records")):
        events.append(
            writer.component(
                _properties(
                    schedule,
                    row,
                    domain=where,
                    stamp=stamp,
                    meeting_link=meeting_link,
                    invitation=False,
                )
            )
        )
        by_coach.setdefault(row["coach_id"], []).append(k)
        by_resident.setdefault(row["resident_id"], []).append(k)
    out = {}
    for person in sorted(by_coach) + sorted(by_resident):
        rows = by_coach[person] if person in by_coach else by_resident[person]
        out[f"{PEOPLE}/{file_name(person, '.ics')}"] = calendar.component(
            _calendar_properties(_title(program, person), program.timezone, None),
            b"".join(events[k] for k in rows),
        )
    out["program.ics"] = calendar.component(
        _calendar_properties(program.name, program.timezone, None), b"".join(events)
    )
    return out


#: RFC 5545 folds content lines longer than 75 octets
_FOLD_AT = 75


def _ical(component: icalendar.cal.Component) -> bytes:
    """``component.to_ical()``, byte for byte, with ASCII lines folded at once.

    icalendar 7 folds every content line a character at a time (encoding each one to
    count its octets): on a whole faculty's 36,700 events that is a third of writing the
    calendars. For a line of ASCII characters (one octet each) the same folding is
    plain slicing (:func:`_folded`); any other line is folded by icalendar itself.
    """
    lines = (
        _folded(line).encode("ascii") if line.isascii() and "\n" not in line else line.to_ical()
        for line in component.content_lines()
        if line
    )
    return b"\r\n".join(lines) + b"\r\n"


def _folded(line: str) -> str:
    """icalendar 7's folding of an ASCII content line: pieces of 74 characters (the
    first line, and each continuation after its leading space: 75 octets), where a
    piece that would end in a backslash or caret leaves it to the next one (escapes are
    never split, icalendar issue 1501)."""
    pieces = []
    start = 0
    while len(line) - start >= _FOLD_AT:
        end = start + _FOLD_AT - 1
        if line[end - 1] in "\\^":
            end -= 1
        pieces.append(line[start:end])
        start = end
    pieces.append(line[start:])
    return "\r\n ".join(pieces)


def _chosen(schedule: Schedule, stamp: datetime, meeting_ids: Collection[str] | None) -> Any:
    rows = schedule.meetings
    if meeting_ids is None:  # a first run: every meeting still to come
        return rows[rows["start"].map(_utc) >= stamp.astimezone(UTC)]
    return rows[rows["meeting_id"].isin(set(meeting_ids))]


def unsendable(
    schedule: Schedule, *, stamp: datetime, meeting_ids: Collection[str] | None = None
) -> list[str]:
    """Why some meetings of :func:`invitations` get no message: a sentence per person
    without an e-mail address, naming how many meetings that leaves uninvited.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> import coachmatch
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> plan = coachmatch.schedule(program, coachmatch.match(program))
    >>> unsendable(plan, stamp=datetime(2026, 7, 1, tzinfo=UTC))
    []
    """
    program = schedule.program
    counts: dict[str, int] = {}
    for row in _chosen(schedule, stamp, meeting_ids).to_dict("records"):
        for person in (row["coach_id"], row["resident_id"]):
            if not _person(program, person)[1]:
                counts[person] = counts.get(person, 0) + 1
    known = set(program.index.coach) | set(program.index.resident)
    return [
        f"{person} has no e-mail address: {n} meeting invitations could not be made"
        if person in known
        else f"{person} is no longer in the program (no e-mail address known): {n} meeting "
        "invitations could not be made"
        for person, n in sorted(counts.items())
    ]


def invitations(
    schedule: Schedule,
    *,
    domain: str | None = None,
    stamp: datetime,
    meeting_link: str | None = None,
    meeting_ids: Collection[str] | None = None,
) -> dict[str, bytes]:
    """Per-meeting iTIP messages to e-mail (RFC 5546): ``METHOD:REQUEST`` for a scheduled
    meeting, ``METHOD:CANCEL`` for a cancelled one, the coach as ORGANIZER and the
    resident as ATTENDEE; ``<meeting_id>.ics`` to bytes.

    Parameters
    ----------
    meeting_ids : collection of str, optional
        The meetings to send: a re-plan passes those it changed
        (:attr:`~coachmatch.Schedule.changed`). Default: every meeting starting after
        ``stamp`` (a first run). A meeting whose coach or resident has no e-mail
        address gets no message (:func:`unsendable` lists them).

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> import coachmatch
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> plan = coachmatch.schedule(program, coachmatch.match(program))
    >>> message = next(iter(invitations(plan, stamp=datetime(2026, 7, 1, tzinfo=UTC)).values()))
    >>> b"METHOD:REQUEST" in message, b"ATTENDEE" in message
    (True, True)
    """
    program = schedule.program
    where = domain or program.calendar_domain
    out = {}
    for row in _chosen(schedule, stamp, meeting_ids).to_dict("records"):
        if not (_person(program, row["coach_id"])[1] and _person(program, row["resident_id"])[1]):
            continue  # no ORGANIZER or no ATTENDEE: not a message anyone can act on
        method = "CANCEL" if row["status"] == "cancelled" else "REQUEST"
        calendar = _calendar(program.name, program.timezone, method)
        calendar.add_component(
            _event(
                schedule,
                row,
                domain=where,
                stamp=stamp,
                meeting_link=meeting_link,
                invitation=True,
            )
        )
        out[file_name(row["meeting_id"], ".ics")] = _ical(calendar)
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
