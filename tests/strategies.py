"""Hypothesis strategies: random valid programs, small enough to shrink well."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from coachmatch import (
    AffinityScore,
    Answer,
    AvailabilityWindow,
    BusyInterval,
    Coach,
    Panel,
    Policy,
    Program,
    Question,
    Request,
    Resident,
    Rotation,
    Site,
)
from coachmatch.models import WEEKDAYS

START = date(2026, 7, 1)
END = date(2027, 6, 30)
ZONE = "America/Toronto"

#: text that CSV, TOML and spreadsheets find awkward: quotes, commas, formulas, accents
awkward_text = (
    st.text(
        alphabet=st.sampled_from(list("abcxyz ,\"'=+-@éß漢")),
        min_size=1,
        max_size=12,
    )
    .map(str.strip)
    .filter(bool)
)


#: active people, mostly: an inactive one now and then
mostly_true = st.integers(0, 9).map(bool)


@st.composite
def programs(draw: st.DrawFn, max_residents: int = 8, max_coaches: int = 5) -> Program:
    """A random valid Program: every reference resolves, rotations never overlap."""
    n_sites = draw(st.integers(1, 3))
    sites = []
    for k in range(n_sites):
        lat = draw(st.none() | st.floats(43.5, 43.9))
        sites.append(
            Site(
                site_id=f"S{k}",
                name=draw(awkward_text),
                lat=lat,
                lon=None if lat is None else draw(st.floats(-79.7, -79.2)),
            )
        )
    panels = [
        Panel(
            panel_id=f"P{k}",
            quorum=draw(st.none() | st.integers(0, 3)),
            members=tuple(
                draw(st.lists(st.sampled_from(["F1", "F2", "F3"]), unique=True, max_size=2))
            ),
        )
        for k in range(draw(st.integers(0, 2)))
    ]
    panel_ids = [p.panel_id for p in panels]
    program_names = ["Psychiatry", "Neurology"]
    n_coaches = draw(st.integers(1, max_coaches))
    coaches = []
    for k in range(n_coaches):
        capacity = draw(st.none() | st.integers(0, 6))
        # minimum loads are rare in practice and make most small programs infeasible
        low = draw(st.sampled_from([None, None, None, 0, 1, 2]))
        min_load = None if low is None else min(low, capacity if capacity is not None else 2)
        coaches.append(
            Coach(
                coach_id=f"C{k}",
                name=draw(awkward_text),
                email=draw(st.sampled_from(["", "c@x.org"])),
                site_id=f"S{draw(st.integers(0, n_sites - 1))}",
                capacity=capacity,
                min_load=min_load,
                committee_panels=tuple(draw(st.lists(st.sampled_from(panel_ids), unique=True)))
                if panel_ids
                else (),
                programs=tuple(
                    draw(st.lists(st.sampled_from(program_names), unique=True, max_size=1))
                ),
                virtual_ok=draw(st.booleans()),
                active=draw(mostly_true),
            )
        )
    coach_ids = [c.coach_id for c in coaches]
    n_residents = draw(st.integers(1, max_residents) | st.just(max_residents))
    residents = [
        Resident(
            resident_id=f"R{k}",
            name=draw(awkward_text),
            program=draw(st.sampled_from(program_names)),
            pgy=draw(st.none() | st.integers(1, 5)),
            decision_panel=draw(st.none() | st.sampled_from(panel_ids)) if panel_ids else None,
            current_coach_id=draw(st.none() | st.sampled_from(coach_ids)),
            active=draw(mostly_true),
        )
        for k in range(n_residents)
    ]
    rotations = []
    # rotations: none, 4-week blocks over the whole year (a leave block now and then, as
    # programs have them), or a few odd partial ones (R7 then rules most pairs out)
    full_year = draw(st.integers(0, 2))
    for r in residents:
        if full_year:
            day = START - timedelta(days=draw(st.integers(0, 27)))
            while day <= END:
                if draw(st.integers(0, 9)):
                    rotations.append(
                        Rotation(
                            resident_id=r.resident_id,
                            start=day,
                            end=day + timedelta(days=27),
                            site_id=f"S{draw(st.integers(0, n_sites - 1))}",
                            supervisor_ids=tuple(
                                draw(st.lists(st.sampled_from([*coach_ids, "F7"]), max_size=1))
                            ),
                        )
                    )
                day += timedelta(days=28)
            continue
        day = START + timedelta(days=draw(st.integers(-30, 60)))
        for _ in range(draw(st.integers(0, 2))):
            length = draw(st.integers(0, 60))
            rotations.append(
                Rotation(
                    resident_id=r.resident_id,
                    start=day,
                    end=day + timedelta(days=length),
                    site_id=f"S{draw(st.integers(0, n_sites - 1))}",
                    service=draw(awkward_text),
                    supervisor_ids=tuple(
                        draw(
                            st.lists(
                                st.sampled_from([*coach_ids, "F7", "F8", "F9"]),
                                unique=True,
                                max_size=2,
                            )
                        )
                    ),
                )
            )
            day += timedelta(days=length + 1 + draw(st.integers(0, 20)))
    questions = [
        Question(question_id="multi", kind="multi", weight=draw(st.integers(0, 3))),
        Question(question_id="single", kind="single"),
        Question(question_id="scale", kind="scale", min=1, max=5),
    ]
    people = [*coach_ids, *(r.resident_id for r in residents)]
    survey = []
    for person in people:
        for q in questions:
            if not draw(st.booleans()):
                continue
            if q.kind == "multi":
                answer = tuple(
                    draw(st.lists(st.sampled_from(["a", "b", "c", "d"]), unique=True, min_size=1))
                )
            elif q.kind == "single":
                answer = (draw(st.sampled_from(["x", "y"])),)
            else:
                answer = (str(draw(st.integers(1, 5))),)
            importance = draw(st.sampled_from([0.0, 1.0, 2.5]))
            # a multi answer comes in one cell or, as a survey tool's long export writes
            # it, one row per choice (SPEC 1.1)
            long_form = q.kind == "multi" and len(answer) > 1 and draw(st.booleans())
            for part in [(a,) for a in answer] if long_form else [answer]:
                survey.append(
                    Answer(
                        person_id=person,
                        question_id=q.question_id,
                        answer=part,
                        importance=importance,
                    )
                )
    scores = [
        AffinityScore(resident_id=r, coach_id=c, affinity=draw(st.integers(0, 100)))
        for r, c in draw(
            st.lists(
                st.tuples(
                    st.sampled_from([r.resident_id for r in residents]),
                    st.sampled_from(coach_ids),
                ),
                unique=True,
                max_size=2,
            )
        )
    ]
    availability = []
    busy = []
    zone = ZoneInfo(ZONE)
    for person in people:
        # most people keep the policy's workday; some list windows, weekends now and then
        for _ in range(draw(st.sampled_from([0, 0, 0, 0, 1, 2]))):
            begin = draw(st.integers(7, 18))
            availability.append(
                AvailabilityWindow(
                    person_id=person,
                    weekday=draw(st.sampled_from([*WEEKDAYS, "wed", "wed", "wed"])),
                    start=time(begin),
                    end=time(begin + draw(st.integers(1, min(6, 23 - begin)))),
                )
            )
        if draw(st.booleans()):
            # any day of the horizon, daylight-saving days included
            day = START + timedelta(days=draw(st.integers(0, 364)))
            hour, fold = draw(st.integers(0, 22)), draw(st.integers(0, 1))
            start = datetime.combine(day, time(hour), tzinfo=zone).replace(fold=fold)
            busy.append(
                BusyInterval(
                    person_id=person,
                    start=start,
                    end=start.astimezone(UTC) + timedelta(minutes=draw(st.integers(30, 600))),
                )
            )
    requests = []
    if residents:
        pairs = draw(
            st.lists(
                st.tuples(
                    st.sampled_from([r.resident_id for r in residents]), st.sampled_from(coach_ids)
                ),
                unique=True,
                max_size=3,
            )
        )
        requests = []
        for r, c in pairs:
            kind = draw(st.sampled_from(["require", "forbid", "forbid", "prefer", "change"]))
            # a change request may leave the coach empty: the resident's current coach
            named = kind != "change" or draw(st.booleans())
            if not named and any(q.resident_id == r and q.coach_id is None for q in requests):
                continue  # one such row per resident (two would be duplicates)
            requests.append(
                Request(
                    resident_id=r,
                    coach_id=c if named else None,
                    kind=kind,
                    reason=draw(st.sampled_from(["", "asked for"])),
                )
            )
    policy = Policy(
        max_caseload=draw(st.integers(2, 6)),
        seed=draw(st.integers(0, 9)),
        not_own_decision=draw(st.sampled_from(["forbid", "recuse", "off"])),
        virtual=draw(st.sampled_from(["allowed", "allowed", "never", "only"])),
        max_virtual_share=draw(st.sampled_from([0.0, 0.25, 0.5, 1.0])),
        first_meeting_in_person=draw(st.booleans()),
        meeting_minutes=draw(st.sampled_from([30, 30, 45, 60])),
        # R7 rules out every resident of partial rotations: there, mostly off
        must_meet=draw(
            st.integers(0, 3).map(bool) if full_year else st.integers(0, 3).map(lambda k: k == 0)
        ),
    )
    return Program(
        name=draw(awkward_text),
        timezone=ZONE,
        start=START,
        end=END,
        policy=policy,
        sites=sites,
        coaches=coaches,
        residents=residents,
        panels=panels,
        questions=questions,
        survey=survey,
        affinity=scores,
        rotations=rotations,
        availability=availability,
        busy=busy,
        requests=requests,
    )


@st.composite
def schedulable_programs(draw: st.DrawFn, max_residents: int = 4, max_coaches: int = 2) -> Program:
    """A random Program built for scheduling: residents rotate through 4-week blocks
    over a horizon of random length and start (daylight-saving dates included), with a
    leave block now and then, weekly windows, busy time and a random virtual policy.
    Matching is easy (no requests, panels or survey), so most examples get pairs."""
    start = date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 364)))
    end = start + timedelta(days=draw(st.integers(100, 364)))
    n_sites = draw(st.integers(1, 3))
    sites = [
        Site(site_id=f"S{k}", name=f"Site {k}", lat=43.6 + 0.05 * k, lon=-79.4 - 0.04 * k)
        for k in range(n_sites)
    ]
    coaches = [
        Coach(
            coach_id=f"C{k}",
            name=f"Coach {k}",
            site_id=f"S{draw(st.integers(0, n_sites - 1))}",
            virtual_ok=draw(mostly_true),
        )
        for k in range(draw(st.integers(1, max_coaches)))
    ]
    residents = [
        Resident(resident_id=f"R{k}", name=f"Resident {k}", program="Psychiatry")
        for k in range(draw(st.integers(1, max_residents)))
    ]
    rotations = []
    for r in residents:
        if not draw(st.integers(0, 4)):
            continue  # no rotations: on site nowhere, free every day
        day = start - timedelta(days=draw(st.integers(0, 27)))
        while day <= end:
            block_end = day + timedelta(days=27)
            if draw(st.integers(0, 11)):  # about one block in twelve is leave
                rotations.append(
                    Rotation(
                        resident_id=r.resident_id,
                        start=day,
                        end=block_end,
                        site_id=f"S{draw(st.integers(0, n_sites - 1))}",
                    )
                )
            day = block_end + timedelta(days=1)
    people = [*(c.coach_id for c in coaches), *(r.resident_id for r in residents)]
    availability, busy = [], []
    zone = ZoneInfo(ZONE)
    for person in people:
        # a third of the people keep weekly windows; the others the policy's workday
        for _ in range(draw(st.sampled_from([0, 0, 0, 0, 1, 3]))):
            begin = draw(st.integers(7, 14))
            availability.append(
                AvailabilityWindow(
                    person_id=person,
                    weekday=draw(st.sampled_from(WEEKDAYS[:5])),
                    start=time(begin),
                    end=time(begin + draw(st.integers(1, min(6, 23 - begin)))),
                )
            )
        for _ in range(draw(st.integers(0, 2))):
            day = start + timedelta(days=draw(st.integers(0, (end - start).days)))
            hour, fold = draw(st.integers(0, 22)), draw(st.integers(0, 1))
            begin_at = datetime.combine(day, time(hour), tzinfo=zone).replace(fold=fold)
            busy.append(
                BusyInterval(
                    person_id=person,
                    start=begin_at,
                    end=begin_at.astimezone(UTC)
                    + timedelta(minutes=draw(st.integers(30, 3 * 24 * 60))),
                )
            )
    policy = Policy(
        max_caseload=max_residents,
        seed=draw(st.integers(0, 9)),
        virtual=draw(st.sampled_from(["allowed", "allowed", "never", "only"])),
        max_virtual_share=draw(st.sampled_from([0.0, 0.25, 0.5, 1.0])),
        first_meeting_in_person=draw(st.booleans()),
        meeting_minutes=draw(st.sampled_from([30, 30, 45, 60])),
        cadence_days=draw(st.sampled_from([(42, 56), (42, 56), (28, 42), (35, 63)])),
    )
    return Program(
        name="random schedule",
        timezone=ZONE,
        start=start,
        end=end,
        policy=policy,
        sites=sites,
        coaches=coaches,
        residents=residents,
        rotations=rotations,
        availability=availability,
        busy=busy,
    )


@st.composite
def week_away(draw: st.DrawFn, person: str, start: date, length: int) -> list[BusyInterval]:
    """One time in four, a week away somewhere in the ``length`` days from ``start``."""
    if draw(st.integers(0, 3)):
        return []
    day = start + timedelta(days=draw(st.integers(0, length)))
    zone = ZoneInfo(ZONE)
    return [
        BusyInterval(
            person_id=person,
            start=datetime.combine(day, time(0), tzinfo=zone),
            end=datetime.combine(day + timedelta(days=7), time(0), tzinfo=zone),
        )
    ]


@st.composite
def narrow_programs(
    draw: st.DrawFn, max_residents: int = 4, max_coaches: int = 2, short: bool = False
) -> Program:
    """A random Program whose people are hard to bring together: one or two short
    weekly windows each (Wednesday more often, as the protected half-day), a week away
    now and then, 4-week rotation blocks with leave. Some pairs can never meet (R7);
    coaches with several coachees compete for their few slots. ``short`` draws a
    horizon of 70-130 days, so that every plan is small enough to enumerate."""
    length = draw(st.integers(70, 130)) if short else 364
    start = date(2026, 7, 1) + timedelta(days=draw(st.integers(0, 200)))
    end = start + timedelta(days=length)
    n_sites = draw(st.integers(1, 2))
    sites = [
        Site(site_id=f"S{k}", name=f"Site {k}", lat=43.65 + 0.05 * k, lon=-79.4)
        for k in range(n_sites)
    ]
    n_residents = draw(st.integers(1, max_residents))
    coaches = [
        Coach(
            coach_id=f"C{k}",
            name=f"Coach {k}",
            site_id=f"S{draw(st.integers(0, n_sites - 1))}",
            capacity=n_residents,
            virtual_ok=draw(mostly_true),
        )
        for k in range(draw(st.integers(1, max_coaches)))
    ]
    residents = [
        Resident(resident_id=f"R{k}", name=f"Resident {k}", program="Psychiatry")
        for k in range(n_residents)
    ]
    rotations = []
    for r in residents:
        day = start - timedelta(days=draw(st.integers(0, 27)))
        while day <= end:
            if draw(st.integers(0, 7)):  # about one block in eight is leave
                rotations.append(
                    Rotation(
                        resident_id=r.resident_id,
                        start=day,
                        end=day + timedelta(days=27),
                        site_id=f"S{draw(st.integers(0, n_sites - 1))}",
                    )
                )
            day += timedelta(days=28)
    # short horizons: Wednesdays mostly, so that pairs meet and coachees compete
    wednesdays = 9 if short else 3
    weekdays = st.sampled_from(["mon", "tue", *["wed"] * wednesdays, "thu", "fri"])
    people = [*(c.coach_id for c in coaches), *(r.resident_id for r in residents)]
    availability, busy = [], []
    for person in people:
        coach = person.startswith("C")
        for _ in range(draw(st.integers(1, 1 if short else 2))):
            # half-hours: 08:00 to 16:00 (short horizons: the protected 13:00 to 15:00)
            begin = draw(st.integers(26, 30) if short else st.integers(16, 32))
            # coaches offer a slot or two; residents (short horizons) a whole afternoon
            longest = 2 if coach or not short else 8
            minutes = 30 * draw(st.integers(1, longest if short else 4))
            availability.append(
                AvailabilityWindow(
                    person_id=person,
                    weekday=draw(weekdays),
                    start=time(begin // 2, 30 * (begin % 2)),
                    end=(
                        datetime.combine(start, time(begin // 2, 30 * (begin % 2)))
                        + timedelta(minutes=minutes)
                    ).time(),
                )
            )
        busy.extend(draw(week_away(person, start, length)))
    policy = Policy(
        max_caseload=n_residents,
        seed=draw(st.integers(0, 9)),
        virtual=draw(st.sampled_from(["allowed", "allowed", "never", "only"])),
        max_virtual_share=draw(st.sampled_from([0.0, 0.5, 1.0])),
        first_meeting_in_person=draw(st.booleans()),
        meeting_minutes=draw(st.sampled_from([30, 30, 60])),
        cadence_days=draw(st.sampled_from([(42, 56), (28, 42), (35, 63)])),
    )
    return Program(
        name="narrow availability",
        timezone=ZONE,
        start=start,
        end=end,
        policy=policy,
        sites=sites,
        coaches=coaches,
        residents=residents,
        rotations=rotations,
        availability=availability,
        busy=busy,
    )


@st.composite
def competing_programs(draw: st.DrawFn, max_residents: int = 3) -> Program:
    """One coach with one or two half-hour slots a week and residents who are free
    around them, over 70-130 days: the coachees compete for the coach's few slots (a
    tight first-meeting window, a week away, leave) and some cannot all be planned."""
    length = draw(st.integers(70, 130))
    start = date(2026, 7, 1) + timedelta(days=draw(st.integers(0, 200)))
    end = start + timedelta(days=length)
    n = draw(st.integers(2, max_residents))
    slots = draw(st.lists(st.sampled_from(["tue", "wed"]), min_size=1, max_size=2, unique=True))
    availability = [
        AvailabilityWindow(person_id="C0", weekday=day, start=time(14), end=time(14, 30))
        for day in slots
    ]
    rotations, busy = [], []
    for k in range(n):
        for day in slots:
            if draw(st.integers(0, 3)):
                availability.append(
                    AvailabilityWindow(person_id=f"R{k}", weekday=day, start=time(13), end=time(17))
                )
        busy.extend(draw(week_away(f"R{k}", start, length)))
        if draw(st.integers(0, 3)) == 0:  # rotations that leave a block out
            leave = draw(st.integers(0, length // 28))
            for b in range(length // 28 + 1):
                if b != leave:
                    rotations.append(
                        Rotation(
                            resident_id=f"R{k}",
                            start=start + timedelta(days=28 * b),
                            end=start + timedelta(days=28 * b + 27),
                            site_id="S0",
                        )
                    )
    policy = Policy(
        max_caseload=n,
        seed=draw(st.integers(0, 9)),
        virtual=draw(st.sampled_from(["allowed", "never"])),
        first_meeting_in_person=draw(st.booleans()),
        cadence_days=draw(st.sampled_from([(42, 56), (28, 42), (35, 63)])),
        first_meeting_within_days=draw(st.sampled_from([7, 14, 28])),
        must_meet=False,
    )
    return Program(
        name="competing coachees",
        timezone=ZONE,
        start=start,
        end=end,
        policy=policy,
        sites=[Site(site_id="S0", name="Site 0", lat=43.65, lon=-79.4)],
        coaches=[Coach(coach_id="C0", name="Coach 0", site_id="S0", capacity=n)],
        residents=[Resident(resident_id=f"R{k}", name=f"Resident {k}") for k in range(n)],
        rotations=rotations,
        availability=availability,
        busy=busy,
    )
