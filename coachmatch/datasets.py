"""Synthetic programs of realistic shape, for examples, tests and benchmarks.

:func:`synthetic` builds a whole :class:`~coachmatch.Program` in memory from a
seed: Toronto teaching hospitals (real addresses and coordinates, bundled from
``shared/data``) plus made-up community clinics when more sites are asked for;
residency programs of uneven size; coaches with caps of 3–6 at the program's
sites; 13 four-week rotation blocks from 1 July with supervisors drawn from
faculty at the rotation site; competence panels; an interest survey; weekly
availability with the Wednesday-afternoon protected half-day; some busy time
and some requests. Every name is invented.

The data are made so that a matching exists: every program's coaches can take
at least a fifth more residents than it has (caps stay within 3–6), and ``require`` requests only
name pairs that the rules allow.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from importlib import resources
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np

from coachmatch.models import (
    WEEKDAYS,
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

__all__ = ["SIZES", "synthetic", "toronto_sites"]

#: residents, coaches, sites and programs of each named size.
SIZES: dict[str, tuple[int, int, int, int]] = {
    "small": (60, 20, 3, 1),
    "medium": (250, 70, 15, 2),
    "large": (5000, 1300, 29, 100),
}

SPECIALTIES = (
    "Psychiatry",
    "Internal Medicine",
    "Family Medicine",
    "Pediatrics",
    "General Surgery",
    "Anesthesiology",
    "Emergency Medicine",
    "Obstetrics and Gynecology",
    "Neurology",
    "Diagnostic Radiology",
    "Orthopedic Surgery",
    "Ophthalmology",
    "Dermatology",
    "Physical Medicine and Rehabilitation",
    "Public Health",
    "Radiation Oncology",
    "Otolaryngology",
    "Urology",
    "Cardiology",
    "Nephrology",
    "Gastroenterology",
    "Critical Care",
    "Geriatric Medicine",
    "Palliative Medicine",
    "Pathology",
)
GENERIC_SERVICES = (
    "Inpatient",
    "Ambulatory",
    "Consults",
    "Emergency",
    "Community",
    "Night Float",
    "Selective",
    "Research",
)
FIRST_NAMES = (
    "Amara",
    "Ben",
    "Chen",
    "Divya",
    "Eli",
    "Farah",
    "Gabriel",
    "Hana",
    "Ibrahim",
    "Jia",
    "Kofi",
    "Leila",
    "Mateo",
    "Nadia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sanjay",
    "Tamar",
    "Uzoma",
    "Vera",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Aiden",
    "Bianca",
    "Carlos",
    "Dara",
    "Emeka",
    "Fiona",
    "Goran",
    "Ines",
    "Jonah",
    "Keiko",
    "Luca",
    "Maya",
    "Niko",
    "Olga",
    "Pedro",
    "Rania",
    "Soren",
    "Talia",
    "Arjun",
    "Mei",
    "Tobi",
    "Noor",
    "Elena",
    "Kwame",
)
LAST_NAMES = (
    "Abara",
    "Bergstrom",
    "Castellano",
    "Dhaliwal",
    "Eriksen",
    "Fontaine",
    "Gallo",
    "Haddad",
    "Iwasaki",
    "Jovanovic",
    "Kowalczyk",
    "Lindqvist",
    "Mbeki",
    "Nakashima",
    "Okonkwo",
    "Petrakis",
    "Quenneville",
    "Rahimi",
    "Sandoval",
    "Thibodeau",
    "Umarov",
    "Vasquez",
    "Wojcik",
    "Xu",
    "Yilmaz",
    "Zielinski",
    "Achebe",
    "Bouchard",
    "Chaudhry",
    "Delacroix",
    "Esposito",
    "Ferreira",
    "Grewal",
    "Halvorsen",
    "Ivanova",
    "Jaramillo",
    "Kanagaratnam",
    "Lachance",
    "Moreau",
    "Nwosu",
    "Ostrowski",
    "Papadopoulos",
    "Rossi",
    "Sivakumar",
    "Tremblay",
    "Varga",
    "Whitehorse",
    "Yamamoto",
    "Zhou",
    "Ahmadi",
)
LANGUAGES = (
    "English",
    "French",
    "Mandarin",
    "Cantonese",
    "Punjabi",
    "Tamil",
    "Farsi",
    "Spanish",
    "Portuguese",
    "Tagalog",
    "Arabic",
    "Urdu",
    "Italian",
    "Korean",
)
LIFE_EXPERIENCES = (
    "parent or caregiver",
    "first in family in medicine",
    "international medical graduate",
    "grew up rural or remote",
    "2SLGBTQIA+",
    "career before medicine",
    "competitive athlete",
    "lived experience of mental illness",
    "Indigenous",
    "Black",
    "newcomer",
)
RESEARCH = (
    "clinical research",
    "medical education",
    "quality improvement",
    "basic science",
    "health policy",
    "not now",
)
CAREER_EXTRAS = (
    "academic career",
    "community practice",
    "global health",
    "leadership",
    "teaching",
    "research",
)
PROTECTED_HALF_DAY: tuple[str, time, time] = ("wed", time(13), time(17))


def toronto_sites() -> list[Site]:
    """The Toronto teaching hospitals bundled with coachmatch (public addresses).

    Examples
    --------
    >>> [s.site_id for s in toronto_sites()][:3]
    ['camh-queen', 'camh-college', 'tgh']
    """
    text = (
        resources.files("coachmatch")
        .joinpath("data/toronto-hospital-sites.csv")
        .read_text(encoding="utf-8")
    )
    return [
        Site(
            site_id=row["site_id"],
            name=row["name"],
            address=row["address"],
            lat=float(row["lat"]),
            lon=float(row["lon"]),
        )
        for row in csv.DictReader(text.splitlines())
    ]


def _sites(n: int, rng: np.random.Generator) -> list[Site]:
    real = toronto_sites()[:n]
    extra = []
    for k in range(n - len(real)):
        lat = float(np.round(rng.uniform(43.58, 43.86), 5))
        lon = float(np.round(rng.uniform(-79.65, -79.20), 5))
        extra.append(
            Site(
                site_id=f"clinic-{k + 1:02d}",
                name=f"Community Clinic {k + 1}",
                address=f"{100 + 17 * k} Synthetic Ave, Toronto ON",
                lat=lat,
                lon=lon,
            )
        )
    return real + extra


def _split(total: int, parts: int, rng: np.random.Generator, smallest: int) -> np.ndarray:
    """``total`` split into ``parts`` uneven sizes of at least ``smallest`` (lognormal shares)."""
    smallest = min(smallest, total // parts)
    shares = rng.lognormal(0.0, 0.6, size=parts)
    want = np.maximum(smallest, np.floor(shares / shares.sum() * total)).astype(np.int64)
    return _split_to(want, total, smallest)


def _split_to(want: np.ndarray, total: int, smallest: int = 1) -> np.ndarray:
    """Adjust sizes ``want`` by ones, largest first, until they add up to ``total``."""
    sizes = want.copy()
    order = np.argsort(-sizes, kind="stable")
    k = 0
    while sizes.sum() != total:
        i = order[k % len(order)]
        if sizes.sum() < total:
            sizes[i] += 1
        elif sizes[i] > smallest:
            sizes[i] -= 1
        k += 1
    return sizes


def _names(n: int, rng: np.random.Generator, prefix: str = "") -> list[str]:
    first = rng.integers(len(FIRST_NAMES), size=n)
    last = rng.integers(len(LAST_NAMES), size=n)
    return [f"{prefix}{FIRST_NAMES[f]} {LAST_NAMES[la]}" for f, la in zip(first, last, strict=True)]


def _email(name: str, number: int, domain: str) -> str:
    handle = name.removeprefix("Dr. ").lower().replace(" ", ".")
    return f"{handle}{number}@{domain}"


def synthetic(
    size: Literal["small", "medium", "large"] | None = "small",
    *,
    residents: int | None = None,
    coaches: int | None = None,
    sites: int | None = None,
    programs: int | Sequence[str] | None = None,
    seed: int = 0,
    name: str | None = None,
    start: date = date(2026, 7, 1),
    services: Sequence[str] | None = None,
    panels_per_program: int | None = None,
    policy: Policy | None = None,
    free_time: Literal["typical", "narrow"] = "typical",
) -> Program:
    """A realistic synthetic program, the same for the same arguments.

    Parameters
    ----------
    size : {"small", "medium", "large"} or None
        small: 60 residents, 20 coaches, 3 sites, 1 program; medium: 250 × 70 × 15
        in 2 programs; large: 5,000 × 1,300 × 29 in 100 programs. Explicit counts
        override the size's.
    residents, coaches, sites : int, optional
        Counts (sites beyond the 18 bundled Toronto hospitals are made-up clinics).
    programs : int or sequence of str, optional
        How many residency programs, or their names.
    seed : int, default 0
        Seed of the generator.
    name : str, optional
        The program's name.
    start : datetime.date, default 2026-07-01
        First day of the one-year horizon.
    services : sequence of str, optional
        Rotation services; also seed the career-interest answers.
    panels_per_program : int, optional
        Competence panels per program (default: one per 50 residents, 1 to 4).
    policy : Policy, optional
        The policy; defaults to SPEC §2's.
    free_time : {"typical", "narrow"}, default "typical"
        ``"narrow"``: people are hard to bring together, as in programs where
        clinics fill the week — each coach offers one hour a week on one weekday,
        residents the protected half-day or one evening, a quarter of people are
        away a week or two, and one resident in eight has a leave block. Some pairs
        can then never meet (R7), and coaches' few slots are contested. The rest of
        the program is the same as ``"typical"``'s for the same seed.

    Returns
    -------
    Program

    Examples
    --------
    >>> program = synthetic("small", seed=1)
    >>> len(program.residents), len(program.coaches), len(program.sites)
    (60, 20, 3)
    >>> synthetic("small", seed=1) == program
    True
    >>> narrow = synthetic("small", seed=1, free_time="narrow")
    >>> len(narrow.availability) < len(program.availability)
    True
    """
    n_res, n_coach, n_site, n_prog = SIZES[size] if size is not None else SIZES["small"]
    n_res = residents if residents is not None else n_res
    n_coach = coaches if coaches is not None else n_coach
    n_site = sites if sites is not None else n_site
    if isinstance(programs, int):
        n_prog = programs
    program_names: list[str]
    if programs is not None and not isinstance(programs, int):
        program_names = list(programs)
        n_prog = len(program_names)
    else:
        program_names = [
            SPECIALTIES[k % len(SPECIALTIES)]
            + (f" {k // len(SPECIALTIES) + 1}" if k >= len(SPECIALTIES) else "")
            for k in range(n_prog)
        ]
    if min(n_res, n_coach, n_site, n_prog) < 1 or n_coach < n_prog:
        raise ValueError(
            "synthetic needs at least one resident, site and program, "
            "and at least one coach per program"
        )
    rng = np.random.default_rng(seed)
    zone = ZoneInfo("America/Toronto")
    end = date(start.year + 1, start.month, start.day) - timedelta(days=1)
    site_list = _sites(n_site, rng)
    site_ids = [s.site_id for s in site_list]
    services = tuple(services) if services else GENERIC_SERVICES

    # -- programs: sizes, sites, coaches ------------------------------------
    res_per_prog = _split(n_res, n_prog, rng, smallest=3)
    # coaches follow residents: each program gets its share, at least one
    want = np.maximum(1, np.round(res_per_prog / n_res * n_coach)).astype(np.int64)
    coach_per_prog = _split_to(want, n_coach)
    prog_sites = [
        sorted(
            rng.choice(n_site, size=min(n_site, int(rng.integers(3, 7))), replace=False).tolist()
        )
        for _ in range(n_prog)
    ]

    coach_prog = np.repeat(np.arange(n_prog), coach_per_prog)
    coach_site = np.array(
        [prog_sites[p][int(rng.integers(len(prog_sites[p])))] for p in coach_prog]
    )
    res_prog = np.repeat(np.arange(n_prog), res_per_prog)
    res_pgy = rng.choice([1, 2, 3, 4, 5], size=n_res, p=[0.22, 0.21, 0.2, 0.19, 0.18])

    # caps 3-6, empty (policy default) for a third; raise caps (never above 6) until
    # every program's own coaches can take a fifth more residents than it has
    default_cap = (policy or Policy()).max_caseload
    explicit = rng.random(n_coach) >= 1 / 3
    caps = np.where(explicit, rng.integers(3, 7, size=n_coach), default_cap)
    for p in range(n_prog):
        members = np.flatnonzero(coach_prog == p)
        need = int(np.ceil(1.2 * res_per_prog[p]))
        while caps[members].sum() < need:
            room = members[caps[members] < 6]
            if not len(room):
                break  # too few coaches for the residents: caps of 6 are the limit
            i = room[np.argmin(caps[room])]  # the first of the lowest caps
            caps[i] += 1
            explicit[i] = True

    # -- panels ----------------------------------------------------------------
    panel_list: list[Panel] = []
    res_panel: list[str] = [""] * n_res
    coach_panels: list[list[str]] = [[] for _ in range(n_coach)]
    faculty_counter = 0
    for p in range(n_prog):
        count = panels_per_program or int(np.clip(round(res_per_prog[p] / 50), 1, 4))
        members = np.flatnonzero(res_prog == p)
        # panels decide by training stage: split PGY 1..5 into `count` bands
        bands = np.array_split(np.arange(1, 6), count)
        ids = [f"P{p + 1:03d}-{k + 1}" for k in range(count)]
        for k, band in enumerate(bands):
            for r in members[np.isin(res_pgy[members], band)]:
                res_panel[r] = ids[k]
        prog_coaches = np.flatnonzero(coach_prog == p)
        for k, panel_id in enumerate(ids):
            sitting = rng.choice(prog_coaches, size=min(len(prog_coaches), 2), replace=False)
            for c in sitting:
                coach_panels[int(c)].append(panel_id)
            outside = [f"F{faculty_counter + j + 1:05d}" for j in range(3)]
            faculty_counter += 3
            pgy = f"PGY{_band_label(bands[k])}"
            panel_list.append(
                Panel(
                    panel_id=panel_id,
                    name=f"{program_names[p]} {pgy} panel",
                    quorum=3,
                    members=tuple(outside),
                )
            )

    # -- coaches ---------------------------------------------------------------
    coach_names = _names(n_coach, rng, prefix="Dr. ")
    restricted = rng.random(n_coach) < 0.85
    virtual_ok = rng.random(n_coach) < 0.8
    coach_list = [
        Coach(
            coach_id=f"C{c + 1:04d}",
            name=coach_names[c],
            email=_email(coach_names[c], c + 1, "faculty.example.org"),
            site_id=site_ids[coach_site[c]],
            capacity=int(caps[c]) if explicit[c] else None,
            committee_panels=tuple(coach_panels[c]),
            programs=(program_names[coach_prog[c]],) if restricted[c] else (),
            virtual_ok=bool(virtual_ok[c]),
        )
        for c in range(n_coach)
    ]
    coach_ids = [c.coach_id for c in coach_list]

    # -- rotations: 13 four-week blocks, the last one runs to the horizon end -----
    blocks = [
        (start + timedelta(days=28 * b), start + timedelta(days=28 * b + 27)) for b in range(13)
    ]
    blocks[-1] = (blocks[-1][0], end)
    coaches_at: dict[tuple[int, int], np.ndarray] = {}
    for p in range(n_prog):
        for s in prog_sites[p]:
            here = np.flatnonzero((coach_site == s) & (coach_prog == p))
            coaches_at[p, s] = here if len(here) else np.flatnonzero(coach_site == s)
    res_sites = rng.integers(0, 1 << 30, size=(n_res, 13))
    res_services = rng.integers(len(services), size=(n_res, 13))
    on_leave = np.where(rng.random(n_res) < 0.03, rng.integers(13, size=n_res), -1)
    n_supervisors = rng.integers(1, 3, size=(n_res, 13))
    supervisor_draw = rng.integers(0, 1 << 30, size=(n_res, 13, 2))
    rotation_list: list[Rotation] = []
    supervisors_of: list[set[int]] = [set() for _ in range(n_res)]
    for r in range(n_res):
        p = int(res_prog[r])
        options = prog_sites[p]
        for b, (b_start, b_end) in enumerate(blocks):
            if b == on_leave[r]:
                continue
            s = options[res_sites[r, b] % len(options)]
            faculty = coaches_at[p, s]
            chosen: list[str] = []
            for j in range(int(n_supervisors[r, b])):
                if len(faculty):
                    c = int(faculty[supervisor_draw[r, b, j] % len(faculty)])
                    supervisors_of[r].add(c)
                    if coach_ids[c] not in chosen:
                        chosen.append(coach_ids[c])
                else:
                    chosen.append(f"F{faculty_counter + 1 + supervisor_draw[r, b, j] % 500:05d}")
            rotation_list.append(
                Rotation(
                    resident_id=f"R{r + 1:04d}",
                    start=b_start,
                    end=b_end,
                    site_id=site_ids[s],
                    service=services[res_services[r, b]],
                    supervisor_ids=tuple(chosen),
                )
            )

    # -- residents, with current coaches for most PGY2+ -------------------------
    res_names = _names(n_res, rng)
    current = np.full(n_res, -1)
    for r in np.flatnonzero((res_pgy >= 2) & (rng.random(n_res) < 0.7)):
        pool = np.flatnonzero(coach_prog == res_prog[r])
        current[r] = int(pool[int(rng.integers(len(pool)))])
    inactive = rng.random(n_res) < 0.01
    resident_list = [
        Resident(
            resident_id=f"R{r + 1:04d}",
            name=res_names[r],
            email=_email(res_names[r], r + 1, "residents.example.org"),
            program=program_names[res_prog[r]],
            pgy=int(res_pgy[r]),
            decision_panel=res_panel[r],
            current_coach_id=coach_ids[current[r]] if current[r] >= 0 else None,
            active=not inactive[r],
        )
        for r in range(n_res)
    ]

    # -- survey --------------------------------------------------------------------
    careers = tuple(dict.fromkeys((*services, *CAREER_EXTRAS)))
    questions = [
        Question(
            question_id="career",
            kind="multi",
            weight=2,
            text="Which career directions interest you?",
        ),
        Question(
            question_id="life",
            kind="multi",
            text="Which life experiences would you like your coach to share?",
        ),
        Question(question_id="research", kind="single", text="Your main scholarly interest"),
        Question(
            question_id="style",
            kind="scale",
            min=1,
            max=5,
            text="Coaching style: 1 = directive, 5 = facilitative",
        ),
        Question(
            question_id="language",
            kind="multi",
            weight=0.5,
            text="Languages you are comfortable speaking",
        ),
    ]
    answers: list[Answer] = []
    people = [(c.coach_id, False) for c in coach_list] + [
        (r.resident_id, True) for r in resident_list
    ]
    answers_survey = rng.random(len(people)) < 0.88
    for (person, is_resident), answered in zip(people, answers_survey, strict=True):
        if not answered:
            continue
        picks: dict[str, tuple[str, ...]] = {
            "career": _pick(rng, careers, 1, 3),
            "life": _pick(rng, LIFE_EXPERIENCES, 1, 2),
            "research": (RESEARCH[int(rng.integers(len(RESEARCH)))],),
            "style": (str(int(rng.integers(1, 6))),),
            "language": ("English", *_pick(rng, LANGUAGES[1:], 0, 1)),
        }
        for question in questions:
            if rng.random() < 0.08:
                continue  # skipped question
            importance = float(rng.integers(1, 4)) if is_resident else 1.0
            answers.append(
                Answer(
                    person_id=person,
                    question_id=question.question_id,
                    answer=picks[question.question_id],
                    importance=importance,
                )
            )

    # -- availability: coaches keep part of the protected half-day for their coachees
    #    and list one or two clinic-free windows; most residents list the half-day ---
    availability: list[AvailabilityWindow] = []
    for c in coach_list:
        begin = int(rng.integers(13, 15))
        availability.append(
            AvailabilityWindow(
                person_id=c.coach_id,
                weekday="wed",
                start=time(begin),
                end=time(begin + int(rng.integers(2, 4))),
            )
        )
        others = [0, 1, 3, 4]
        days = sorted(rng.choice(others, size=int(rng.integers(1, 3)), replace=False).tolist())
        for d in days:
            begin = int(rng.integers(8, 16))
            availability.append(
                AvailabilityWindow(
                    person_id=c.coach_id,
                    weekday=WEEKDAYS[d],
                    start=time(begin),
                    end=time(begin + int(rng.integers(1, 3))),
                )
            )
    for r in resident_list:
        if rng.random() < 0.75:
            weekday, half_day_start, half_day_end = PROTECTED_HALF_DAY
            availability.append(
                AvailabilityWindow(
                    person_id=r.resident_id, weekday=weekday, start=half_day_start, end=half_day_end
                )
            )
            if rng.random() < 0.5:
                d = int(rng.choice([0, 1, 3, 4]))
                availability.append(
                    AvailabilityWindow(
                        person_id=r.resident_id, weekday=WEEKDAYS[d], start=time(16), end=time(18)
                    )
                )

    # -- busy: conference weeks and one-off commitments ---------------------------
    busy: list[BusyInterval] = []
    for person, _ in people:
        if rng.random() >= 0.15:
            continue
        day = start + timedelta(days=int(rng.integers(0, (end - start).days - 7)))
        if rng.random() < 0.5:  # a week away
            busy.append(
                BusyInterval(
                    person_id=person,
                    start=datetime.combine(day, time(), tzinfo=zone),
                    end=datetime.combine(day + timedelta(days=7), time(), tzinfo=zone),
                )
            )
        else:
            hour = int(rng.integers(8, 17))
            busy.append(
                BusyInterval(
                    person_id=person,
                    start=datetime.combine(day, time(hour), tzinfo=zone),
                    end=datetime.combine(day, time(hour + 1), tzinfo=zone),
                )
            )

    # -- requests: a few forbids and prefers, rare requires that the rules allow ----
    requests: list[Request] = []
    used: set[int] = set()
    load = np.zeros(n_coach, dtype=np.int64)
    for r in np.flatnonzero(rng.random(n_res) < 0.04):
        pool = np.flatnonzero(coach_prog == res_prog[r])
        c = int(pool[int(rng.integers(len(pool)))])
        kind = ("forbid", "prefer", "require")[int(rng.choice(3, p=[0.45, 0.45, 0.10]))]
        if kind == "require":
            allowed = (
                c not in supervisors_of[r]
                and res_panel[r] not in coach_panels[c]
                and c not in used
                and load[c] < caps[c]
                and not inactive[r]
            )
            if not allowed:
                continue
            used.add(c)
            load[c] += 1
        reason = {
            "forbid": "personal conflict",
            "prefer": "asked for by the resident",
            "require": "continuing a longitudinal clinic",
        }[kind]
        requests.append(
            Request(resident_id=f"R{r + 1:04d}", coach_id=coach_ids[c], kind=kind, reason=reason)
        )

    if free_time == "narrow":
        availability, busy, rotation_list = _narrow(
            np.random.default_rng([seed, 1]), coach_list, resident_list, rotation_list, start, end
        )
    elif free_time != "typical":
        raise ValueError(f"free_time must be 'typical' or 'narrow', got {free_time!r}")
    return Program(
        name=name or f"Synthetic {size or 'custom'} program (seed {seed})",
        timezone="America/Toronto",
        start=start,
        end=end,
        policy=policy or Policy(),
        sites=tuple(site_list),
        coaches=tuple(coach_list),
        residents=tuple(resident_list),
        panels=tuple(panel_list),
        questions=tuple(questions),
        survey=tuple(answers),
        rotations=tuple(rotation_list),
        availability=tuple(availability),
        busy=tuple(busy),
        requests=tuple(requests),
    )


def _narrow(
    rng: np.random.Generator,
    coaches: Sequence[Coach],
    residents: Sequence[Resident],
    rotations: list[Rotation],
    start: date,
    end: date,
) -> tuple[list[AvailabilityWindow], list[BusyInterval], list[Rotation]]:
    """Availability, busy time and rotations of ``free_time="narrow"`` (see synthetic)."""
    zone = ZoneInfo("America/Toronto")
    availability = []
    for c in coaches:
        # an hour of the protected half-day, and/or an hour between clinics on another day
        wednesday = rng.random() < 0.85
        if wednesday:
            begin = int(rng.integers(13, 16))
            availability.append(
                AvailabilityWindow(
                    person_id=c.coach_id, weekday="wed", start=time(begin), end=time(begin + 1)
                )
            )
        if not wednesday or rng.random() < 0.5:
            weekday, begin = WEEKDAYS[int(rng.choice([0, 1, 3, 4]))], int(rng.integers(8, 17))
            availability.append(
                AvailabilityWindow(
                    person_id=c.coach_id, weekday=weekday, start=time(begin), end=time(begin + 1)
                )
            )
    for r in residents:
        half_day = rng.random() < 0.85
        if half_day:
            weekday, begin_at, end_at = PROTECTED_HALF_DAY
            availability.append(
                AvailabilityWindow(
                    person_id=r.resident_id, weekday=weekday, start=begin_at, end=end_at
                )
            )
        if not half_day or rng.random() < 0.3:
            availability.append(
                AvailabilityWindow(
                    person_id=r.resident_id,
                    weekday=WEEKDAYS[int(rng.choice([0, 1, 3, 4]))],
                    start=time(16),
                    end=time(18),
                )
            )
    busy = []
    for person in [c.coach_id for c in coaches] + [r.resident_id for r in residents]:
        if rng.random() >= 0.25:
            continue
        weeks = int(rng.integers(1, 3))
        day = start + timedelta(days=int(rng.integers(0, (end - start).days - 7 * weeks)))
        busy.append(
            BusyInterval(
                person_id=person,
                start=datetime.combine(day, time(), tzinfo=zone),
                end=datetime.combine(day + timedelta(days=7 * weeks), time(), tzinfo=zone),
            )
        )
    on_leave = {r.resident_id: int(rng.integers(13)) for r in residents if rng.random() < 0.125}
    kept: list[Rotation] = []
    block: dict[str, int] = {}
    for rotation in rotations:
        k = block[rotation.resident_id] = block.get(rotation.resident_id, -1) + 1
        if on_leave.get(rotation.resident_id) != k:
            kept.append(rotation)
    return availability, busy, kept


def _band_label(band: np.ndarray) -> str:
    """``[1, 2]`` -> ``"1-2"``; ``[3]`` -> ``"3"``."""
    low, high = int(band[0]), int(band[-1])
    return f"{low}" if low == high else f"{low}-{high}"


def _pick(rng: np.random.Generator, options: Sequence[str], low: int, high: int) -> tuple[str, ...]:
    count = int(rng.integers(low, high + 1))
    chosen = rng.choice(len(options), size=count, replace=False)
    return tuple(options[i] for i in sorted(chosen.tolist()))
