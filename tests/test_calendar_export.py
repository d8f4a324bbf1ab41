"""Calendar files: parsed back by icalendar and by vobject, each event at its exact instant."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import icalendar
import pandas as pd
import pytest
import vobject

from coachmatch import Program, Schedule, match, schedule
from coachmatch.calendar import calendar_for, calendars, invitations
from coachmatch.datasets import synthetic

STAMP = datetime(2026, 11, 2, 5, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def plan() -> Schedule:
    program = synthetic("small", seed=5)
    # names and places that iCalendar must escape and fold
    coaches = tuple(
        c.model_copy(update={"name": f'Dr. {c.name}, Jr.; "the" coach — {"é" * 40}'})
        for c in program.coaches
    )
    program = program.replace(coaches=coaches)
    return schedule(program, match(program), executor=None)


@pytest.fixture(scope="module")
def files(plan: Schedule) -> dict[str, bytes]:
    return calendars(
        plan,
        domain="coaching.example.org",
        stamp=STAMP,
        meeting_link="https://meet.example.org/{meeting_id}",
    )


def events_by_uid_icalendar(data: bytes) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(data)
    return {str(e["uid"]): e for e in calendar.walk("VEVENT")}


def events_by_uid_vobject(data: bytes) -> dict[str, object]:
    calendar = vobject.readOne(data.decode("utf-8"))
    return {e.uid.value: e for e in calendar.vevent_list}


def test_one_file_per_person_and_one_for_the_program(
    plan: Schedule, files: dict[str, bytes]
) -> None:
    people = set(plan.meetings["coach_id"]) | set(plan.meetings["resident_id"])
    assert set(files) == {f"people/{p}.ics" for p in people} | {"program.ics"}
    for data in files.values():
        assert data.startswith(b"BEGIN:VCALENDAR\r\n") and data.endswith(b"END:VCALENDAR\r\n")
        assert all(len(line) <= 75 for line in data.split(b"\r\n")), "lines are folded"
        # published calendars are not invitations (RFC 5546): no METHOD, no ATTENDEE
        assert b"METHOD:" not in data and b"ATTENDEE" not in data
        # every file parses with both parsers, with the same events
        assert set(events_by_uid_icalendar(data)) == set(events_by_uid_vobject(data))


def test_every_event_parses_back_at_its_instant_with_two_parsers(
    plan: Schedule, files: dict[str, bytes]
) -> None:
    expected = {
        f"{row['meeting_id']}@coaching.example.org": row for row in plan.meetings.to_dict("records")
    }
    first = events_by_uid_icalendar(files["program.ics"])
    second = events_by_uid_vobject(files["program.ics"])
    assert set(first) == set(second) == set(expected)
    for uid, row in expected.items():
        start = row["start"].to_pydatetime()
        assert first[uid]["dtstart"].dt == start and first[uid]["dtend"].dt == row["end"]
        assert second[uid].dtstart.value == start  # type: ignore[attr-defined]
        assert int(first[uid]["sequence"]) == row["sequence"]
        assert int(second[uid].sequence.value) == row["sequence"]  # type: ignore[attr-defined]
        assert first[uid]["dtstamp"].dt == STAMP
        coach = plan.program.coaches[plan.program.index.coach[row["coach_id"]]]
        assert coach.name in str(first[uid]["summary"])
        assert coach.name in second[uid].summary.value  # type: ignore[attr-defined]
        assert "Review new assessment data" in str(first[uid]["description"])
        if row["site_id"] == "virtual":
            assert str(first[uid]["url"]) == f"https://meet.example.org/{row['meeting_id']}"
        else:
            site = plan.program.sites[plan.program.index.site[row["site_id"]]]
            assert site.name in str(first[uid]["location"])


def test_meetings_on_both_sides_of_daylight_saving(plan: Schedule, files: dict[str, bytes]) -> None:
    m = plan.meetings
    days = m["start"].map(lambda t: t.date())
    summer = m[days < date(2026, 11, 1)].iloc[-1]  # EDT, UTC-4
    winter = m[days > date(2026, 11, 1)].iloc[0]  # EST, UTC-5
    assert summer["start"].utcoffset() != winter["start"].utcoffset()
    events = events_by_uid_vobject(files["program.ics"])
    for row in (summer, winter):
        event = events[f"{row['meeting_id']}@coaching.example.org"]
        instant = event.dtstart.value  # type: ignore[attr-defined]
        assert instant.utcoffset().total_seconds() == 0
        assert instant == row["start"].to_pydatetime()
        local = instant.astimezone(plan.program.zone)
        assert (local.hour, local.minute) == (row["start"].hour, row["start"].minute)


def test_person_files_hold_their_own_meetings(plan: Schedule, files: dict[str, bytes]) -> None:
    coach = plan.meetings["coach_id"].iloc[0]
    mine = set(plan.meetings.loc[plan.meetings["coach_id"] == coach, "meeting_id"])
    uids = {u.split("@")[0] for u in events_by_uid_icalendar(files[f"people/{coach}.ics"])}
    assert uids == mine


def test_files_are_each_calendar_as_icalendar_writes_it(
    plan: Schedule, files: dict[str, bytes]
) -> None:
    """calendars() serializes each event once and shares it between files: every file
    is byte for byte the calendar_for() calendar that icalendar itself serializes."""
    link = "https://meet.example.org/{meeting_id}"
    people = set(plan.meetings["coach_id"]) | set(plan.meetings["resident_id"])
    for person in [*sorted(people), None]:
        name = "program.ics" if person is None else f"people/{person}.ics"
        calendar = calendar_for(
            plan, person, domain="coaching.example.org", stamp=STAMP, meeting_link=link
        )
        assert files[name] == calendar.to_ical(), name


def test_same_input_same_bytes(plan: Schedule, files: dict[str, bytes]) -> None:
    again = calendars(
        plan,
        domain="coaching.example.org",
        stamp=STAMP,
        meeting_link="https://meet.example.org/{meeting_id}",
    )
    assert again == files


def test_cancelled_meetings_are_exported_cancelled_with_a_higher_sequence(plan: Schedule) -> None:
    matching = match(plan.program)
    swapped = matching.pairs.copy()
    swapped.loc[[0, 1], "coach_id"] = swapped.loc[[1, 0], "coach_id"].to_numpy()
    again = schedule(
        plan.program,
        replace(matching, pairs=swapped),
        previous=plan,
        as_of=date(2026, 11, 2),
        executor=None,
    )
    cancelled = again.meetings[again.meetings["status"] == "cancelled"]
    assert len(cancelled)
    events = events_by_uid_icalendar(calendar_for(again, stamp=STAMP).to_ical())
    before = plan.meetings.set_index("meeting_id")
    for row in cancelled.to_dict("records"):
        event = events[f"{row['meeting_id']}@{again.program.calendar_domain}"]
        assert str(event["status"]) == "CANCELLED"
        assert int(event["sequence"]) == before.loc[row["meeting_id"], "sequence"] + 1
        assert event["dtstart"].dt == row["start"]


def test_invitations_request_and_cancel(plan: Schedule) -> None:
    messages = invitations(plan, stamp=datetime(2027, 3, 1, tzinfo=UTC))
    later = plan.meetings[plan.meetings["start"] >= pd.Timestamp("2027-03-01", tz="UTC")]
    assert set(messages) == {f"{m}.ics" for m in later["meeting_id"]}
    message = icalendar.Calendar.from_ical(next(iter(messages.values())))
    assert str(message["method"]) == "REQUEST"
    (event,) = message.walk("VEVENT")
    attendees = event.get("attendee")
    listed = attendees if isinstance(attendees, list) else [attendees]
    assert all(str(a).startswith("mailto:") for a in listed if a is not None)


def test_people_without_email_still_get_valid_events() -> None:
    program: Program = synthetic("small", seed=6)
    program = program.replace(
        coaches=tuple(c.model_copy(update={"email": ""}) for c in program.coaches)
    )
    plan = schedule(program, match(program), executor=None)
    event = calendar_for(plan, stamp=STAMP).walk("VEVENT")[0]
    assert "organizer" not in event
    assert vobject.readOne(calendar_for(plan, stamp=STAMP).to_ical().decode()).vevent_list
