"""The program data model of SPEC §1–2: validated, immutable pydantic models.

A :class:`Program` holds everything a run needs: the horizon, the
:class:`Policy`, and one tuple per table of the program folder (``sites``,
``coaches``, ``residents``, ...). Field names are the CSV column names, and the
Program's field names are the file names without ``.csv``, so the folder, the
DataFrames and the models all speak the same words.

Every model is frozen. What-if analysis works on copies:
``program.with_policy(max_caseload=5)`` or ``program.replace(coaches=...)``
return a new, re-validated Program.

Cross-table rules (unknown references, duplicate ids, overlapping rotations,
...) live in :mod:`coachmatch.validation`; the Program validates itself with them,
and :mod:`coachmatch.io` uses the same checks to report file, line and column.
This module holds the models only: it imports neither the loaders nor the solvers.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import operator
import re
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from datetime import UTC, date, datetime, time
from functools import cached_property
from operator import attrgetter
from typing import Annotated, Any, Literal, Self, TypeVar
from zoneinfo import ZoneInfo, available_timezones

import numpy as np
import numpy.typing as npt
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from coachmatch._display import counted, facts_html, facts_text
from coachmatch.exceptions import ProgramError, pydantic_problems
from coachmatch.limits import (
    MAX_CADENCE_DAYS,
    MAX_CAPACITY,
    MAX_HORIZON_DAYS,
    MAX_SEED,
    MAX_TIME_LIMIT_S,
    MAX_WEIGHT,
)
from coachmatch.validation import ID_COLUMNS, find_problems

__all__ = [
    "HOST_NAME",
    "MAX_ID_BYTES",
    "TABLES",
    "WEEKDAYS",
    "AffinityScore",
    "Answer",
    "AvailabilityWindow",
    "BusyInterval",
    "Coach",
    "Panel",
    "Policy",
    "Program",
    "ProgramHeader",
    "ProgramIndex",
    "Question",
    "Request",
    "Resident",
    "Rotation",
    "Site",
    "TravelTime",
    "check_id",
]

T = TypeVar("T")

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
#: a DNS host name (RFC 1123): what may follow the ``@`` of a calendar UID
HOST_NAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ID_FORBIDDEN = re.compile(r"[;/\\\x00-\x1f\x7f]")
#: longest id, in UTF-8 bytes: ids name files (``<person_id>.ics``, meeting ids)
MAX_ID_BYTES = 100
#: ids that pass every check of :func:`check_id` at a glance (short, printable ASCII)
_PLAIN_ID = re.compile(rf"[A-Za-z0-9_.:@+-]{{1,{MAX_ID_BYTES}}}")


def check_id(value: str, max_bytes: int = MAX_ID_BYTES) -> str:
    """``value`` if it is a valid id, else ValueError saying why (SPEC §2, decisions).

    Examples
    --------
    >>> check_id("C0001")
    'C0001'
    >>> check_id("../x")
    Traceback (most recent call last):
    ...
    ValueError: an id must not contain ';', '/', '\\' or control characters
    """
    if len(value) <= max_bytes and _PLAIN_ID.fullmatch(value) and value not in (".", ".."):
        return value  # the common case at once: short, printable ASCII, no separators
    if value != value.strip():
        raise ValueError("an id must not start or end with spaces")
    if not value:
        raise ValueError("an id must not be empty")
    if _ID_FORBIDDEN.search(value):
        raise ValueError("an id must not contain ';', '/', '\\' or control characters")
    if len(value.encode("utf-8")) > max_bytes:
        raise ValueError(f"an id must be at most {max_bytes} bytes long")
    if value in (".", ".."):
        raise ValueError("an id must not be '.' or '..'")
    return value


def _split_list(value: Any) -> Any:
    """``"a; b;;c"`` -> ``("a", "b", "c")``; lists and tuples pass through stripped."""
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(";") if part.strip())
    if isinstance(value, list | tuple):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return value


_WEEKDAY_NAMES = {
    name: key
    for key, full in zip(
        WEEKDAYS,
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
        strict=True,
    )
    for name in (key, full)
}


def _weekday(value: Any) -> Any:
    """``"Wed"``, ``"wednesday"`` -> ``"wed"``; anything else is left for the Literal check."""
    if isinstance(value, str):
        return _WEEKDAY_NAMES.get(value.strip().lower(), value)
    return value


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _one_line(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("text must be one line without control characters (newline, tab, ...)")
    return value


def _email(value: str) -> str:
    if value and (value.count("@") != 1 or any(c.isspace() for c in value)):
        raise ValueError("expected an e-mail address like name@example.org")
    return value


def _clock(value: Any) -> Any:
    """Times are "HH:MM" text (or time objects): a number would be read as seconds."""
    if isinstance(value, time) or not isinstance(value, bool | int | float):
        return value
    raise ValueError('expected a time as "HH:MM" text, e.g. "08:00"')


Id = Annotated[str, AfterValidator(check_id)]
#: one line of text: names, addresses, services, reasons (a newline breaks calendars)
Line = Annotated[str, AfterValidator(_one_line)]
Email = Annotated[str, AfterValidator(_one_line), AfterValidator(_email)]
Clock = Annotated[time, BeforeValidator(_clock)]
IdList = Annotated[tuple[Id, ...], BeforeValidator(_split_list)]
TextList = Annotated[tuple[str, ...], BeforeValidator(_split_list)]
Weekday = Annotated[
    Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], BeforeValidator(_weekday)
]


class _Record(BaseModel):
    """Base of every row model: frozen, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


def _end_after_start(end: Any, info: ValidationInfo, *, strictly: bool) -> Any:
    start = info.data.get("start")
    if start is not None and end is not None and (end <= start if strictly else end < start):
        raise ValueError(
            f"end {end} is before start {start}"
            if end < start
            else f"end {end} is not after start {start}"
        )
    return end


class Site(_Record):
    """A hospital, clinic or office where people work and meet (``sites.csv``).

    Examples
    --------
    >>> Site(site_id="tgh", name="Toronto General Hospital", lat=43.659, lon=-79.388).name
    'Toronto General Hospital'
    """

    site_id: Id
    name: Line = Field(min_length=1)
    address: Line = ""
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180, validate_default=True)

    @field_validator("lon")
    @classmethod
    def _both_coordinates(cls, lon: float | None, info: ValidationInfo) -> float | None:
        if "lat" in info.data and (lon is None) != (info.data["lat"] is None):
            raise ValueError("give both lat and lon, or neither")
        return lon


class TravelTime(_Record):
    """One-way travel minutes between two sites (``travel.csv``), overriding coordinates."""

    from_site: Id
    to_site: Id
    minutes: int = Field(ge=0, le=24 * 60)


class Coach(_Record):
    """A faculty member who coaches up to a caseload cap (``coaches.csv``).

    ``capacity`` and ``min_load`` left empty (``None``) take the policy's
    ``max_caseload`` and ``min_caseload``; :meth:`Program.capacity` and
    :meth:`Program.min_load` give the values in force. An empty ``programs``
    means the coach coaches residents of any program.

    Examples
    --------
    >>> Coach(coach_id="C01", name="Dr. Ada Osei", site_id="tgh", programs="psych; neuro").programs
    ('psych', 'neuro')
    """

    coach_id: Id
    name: Line = Field(min_length=1)
    email: Email = ""
    site_id: Id
    capacity: int | None = Field(default=None, ge=0, le=MAX_CAPACITY)
    min_load: int | None = Field(default=None, ge=0, le=MAX_CAPACITY)
    committee_panels: IdList = ()
    programs: IdList = ()
    virtual_ok: bool = True
    active: bool = True


class Resident(_Record):
    """A learner who gets one coach (``residents.csv``).

    Examples
    --------
    >>> Resident(resident_id="R001", name="Sam Lee", pgy=2, current_coach_id="C01").active
    True
    """

    resident_id: Id
    name: Line = Field(min_length=1)
    email: Email = ""
    program: Line = ""
    pgy: int | None = Field(default=None, ge=0, le=100)
    decision_panel: Id | None = None
    current_coach_id: Id | None = None
    active: bool = True


class Rotation(_Record):
    """A resident's block at one site under its supervisors (``rotations.csv``).

    ``start`` and ``end`` are inclusive dates.

    Examples
    --------
    >>> from datetime import date
    >>> Rotation(resident_id="R001", start=date(2026, 7, 1), end=date(2026, 7, 28),
    ...          site_id="tgh", supervisor_ids="C03;C07").supervisor_ids
    ('C03', 'C07')
    """

    resident_id: Id
    start: date
    end: date
    site_id: Id
    service: Line = ""
    supervisor_ids: IdList = ()

    @field_validator("end")
    @classmethod
    def _end(cls, end: date, info: ValidationInfo) -> date:
        result: date = _end_after_start(end, info, strictly=False)
        return result


class Panel(_Record):
    """A competence-committee panel deciding residents' progression (``panels.csv``).

    Coaches listing the panel in ``committee_panels`` are members too; see
    :meth:`Program.panel_members`.
    """

    panel_id: Id
    name: Line = ""
    quorum: int | None = Field(default=None, ge=0, le=MAX_CAPACITY)
    members: IdList = ()


class Question(_Record):
    """A survey question (``questions.csv``); ``scale`` questions need ``min < max``."""

    question_id: Id
    kind: Literal["multi", "single", "scale"]
    weight: float = Field(default=1.0, ge=0, le=MAX_WEIGHT, allow_inf_nan=False)
    min: float | None = Field(default=None, ge=-1e9, le=1e9, allow_inf_nan=False)
    max: float | None = Field(
        default=None, ge=-1e9, le=1e9, allow_inf_nan=False, validate_default=True
    )
    text: Line = ""

    @field_validator("max")
    @classmethod
    def _range(cls, high: float | None, info: ValidationInfo) -> float | None:
        low = info.data.get("min")
        if info.data.get("kind") == "scale":
            if low is None and "min" in info.data:
                raise ValueError("a scale question needs both min and max")
            if high is None:
                raise ValueError("a scale question needs both min and max")
            if low is not None and high <= low:
                raise ValueError(f"max {high:g} must be greater than min {low:g}")
        return high


class Answer(_Record):
    """One person's answer to one question (a row of ``survey.csv``).

    ``answer`` holds the chosen values (several, ``;``-separated, for ``multi``
    questions). ``importance`` weighs the question for a resident (SPEC §3). A
    ``multi`` answer may also come as several rows, one per choice (SPEC 1.1);
    :meth:`Program.answers` merges them.
    """

    person_id: Id
    question_id: Id
    answer: Annotated[TextList, Field(min_length=1)]
    importance: float = Field(default=1.0, ge=0, le=MAX_WEIGHT, allow_inf_nan=False)


class AffinityScore(_Record):
    """A program's own affinity for one pair (a row of ``affinity.csv``, SPEC 1.1).

    It replaces the survey's affinity for that pair (a ``prefer`` bonus still
    applies), and the resident counts as having answered for fairness (O2).

    Examples
    --------
    >>> AffinityScore(resident_id="R001", coach_id="C01", affinity=73).affinity
    73
    """

    resident_id: Id
    coach_id: Id
    affinity: int = Field(ge=0, le=100)


class AvailabilityWindow(_Record):
    """A weekly window when a person can meet (``availability.csv``), local time."""

    person_id: Id
    weekday: Weekday
    start: Clock
    end: Clock

    @field_validator("end")
    @classmethod
    def _end(cls, end: time, info: ValidationInfo) -> time:
        result: time = _end_after_start(end, info, strictly=True)
        return result


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


#: An aware date-time kept in UTC: Python compares and subtracts two date-times
#: of the *same* zone by wall clock, ignoring the hour repeated when daylight
#: saving ends; in UTC both are exact.
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]


class BusyInterval(_Record):
    """A one-off time a person cannot meet (``busy.csv`` or ``busy/<person_id>.ics``).

    Times must be time-zone aware and are kept in UTC (the loaders attach the
    program's time zone to the local date-times of ``busy.csv``); use
    ``interval.start.astimezone(program.zone)`` for local time.

    Examples
    --------
    >>> from datetime import datetime
    >>> from zoneinfo import ZoneInfo
    >>> toronto = ZoneInfo("America/Toronto")
    >>> busy = BusyInterval(person_id="C1", start=datetime(2026, 11, 1, 1, 30, tzinfo=toronto),
    ...                     end=datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=toronto))
    >>> busy.end - busy.start  # the repeated hour at the end of daylight saving
    datetime.timedelta(seconds=3600)
    """

    person_id: Id
    start: UtcDatetime
    end: UtcDatetime

    @field_validator("end")
    @classmethod
    def _end(cls, end: datetime, info: ValidationInfo) -> datetime:
        result: datetime = _end_after_start(end, info, strictly=True)
        return result


class Request(_Record):
    """A ``require``, ``forbid``, ``prefer`` or ``change`` request (``requests.csv``).

    ``change`` (SPEC 1.1): the resident asks for a new coach. It forbids the pair with
    ``coach_id``, or with the resident's current coach when ``coach_id`` is empty, and
    the resident's current coach no longer counts for continuity (O1).

    Examples
    --------
    >>> Request(resident_id="R001", kind="change", reason="a fresh start").coach_id is None
    True
    """

    resident_id: Id
    coach_id: Id | None = None
    kind: Literal["require", "forbid", "prefer", "change"]
    reason: Line = ""


def _time_pair(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(value)
    return value


class Policy(BaseModel):
    """The ``[policy]`` table of ``program.toml``; every key optional (SPEC §2).

    Examples
    --------
    >>> Policy().max_caseload
    4
    >>> Policy(max_caseload=5, cadence_days=[42, 63]).cadence_days
    (42, 63)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_caseload: int = Field(default=4, ge=0, le=MAX_CAPACITY)
    min_caseload: int = Field(default=0, ge=0, le=MAX_CAPACITY)
    no_supervisor: bool = True
    not_own_decision: Literal["forbid", "recuse", "off"] = "forbid"
    keep_current: bool = True
    fairness: Literal["maxmin", "total"] = "maxmin"
    prefer_bonus: int = Field(default=20, ge=0, le=100)
    cadence_days: Annotated[tuple[int, int], BeforeValidator(_time_pair)] = (42, 56)
    first_meeting_within_days: int = Field(default=28, ge=1, le=MAX_CADENCE_DAYS)
    meeting_minutes: int = Field(default=30, ge=1, le=24 * 60)
    workday: Annotated[tuple[Clock, Clock], BeforeValidator(_time_pair)] = (time(8), time(18))
    virtual: Literal["never", "allowed", "only"] = "allowed"
    max_virtual_share: float = Field(default=0.5, ge=0, le=1)
    first_meeting_in_person: bool = True
    seed: int = Field(default=0, ge=0, le=MAX_SEED)
    time_limit_s: float = Field(default=30.0, gt=0, le=MAX_TIME_LIMIT_S, allow_inf_nan=False)
    must_meet: bool = True
    rematch_rounds: int = Field(default=3, ge=0, le=100)

    @field_validator("min_caseload")
    @classmethod
    def _caseloads(cls, low: int, info: ValidationInfo) -> int:
        high = info.data.get("max_caseload")
        if high is not None and low > high:
            raise ValueError(f"min_caseload {low} is greater than max_caseload {high}")
        return low

    @field_validator("cadence_days")
    @classmethod
    def _cadence(cls, value: tuple[int, int]) -> tuple[int, int]:
        low, high = value
        if low < 1 or high < low or high > MAX_CADENCE_DAYS:
            raise ValueError(
                "expected [shortest, longest] gap in days with 1 <= shortest <= longest "
                f"<= {MAX_CADENCE_DAYS}"
            )
        return value

    @field_validator("workday")
    @classmethod
    def _workday(cls, value: tuple[time, time]) -> tuple[time, time]:
        if value[1] <= value[0]:
            raise ValueError("expected [start, end] with start before end")
        return value


#: table name -> (row model, id column or None). Table names are file stems.
TABLES: dict[str, tuple[type[_Record], str | None]] = {
    "sites": (Site, ID_COLUMNS["sites"]),
    "travel": (TravelTime, None),
    "coaches": (Coach, ID_COLUMNS["coaches"]),
    "residents": (Resident, ID_COLUMNS["residents"]),
    "panels": (Panel, ID_COLUMNS["panels"]),
    "questions": (Question, ID_COLUMNS["questions"]),
    "survey": (Answer, None),
    "affinity": (AffinityScore, None),
    "rotations": (Rotation, None),
    "availability": (AvailabilityWindow, None),
    "busy": (BusyInterval, None),
    "requests": (Request, None),
}


# ---------------------------------------------------------------------------
# Program
# ---------------------------------------------------------------------------


class ProgramIndex:
    """Dense integer indexes of a Program for solvers (row number <-> id).

    Row numbers are positions in the Program's tuples (inactive people included);
    ``active_*`` masks select the people who take part in a run.

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> index = synthetic("small").index
    >>> index.coach[index.coach_ids[3]]
    3
    """

    def __init__(self, program: Program) -> None:
        self.resident_ids: tuple[str, ...] = tuple(r.resident_id for r in program.residents)
        self.coach_ids: tuple[str, ...] = tuple(c.coach_id for c in program.coaches)
        self.site_ids: tuple[str, ...] = tuple(s.site_id for s in program.sites)
        self.resident: dict[str, int] = {k: i for i, k in enumerate(self.resident_ids)}
        self.coach: dict[str, int] = {k: i for i, k in enumerate(self.coach_ids)}
        self.site: dict[str, int] = {k: i for i, k in enumerate(self.site_ids)}
        self.active_residents: npt.NDArray[np.bool_] = np.array(
            [r.active for r in program.residents], dtype=bool
        )
        self.active_coaches: npt.NDArray[np.bool_] = np.array(
            [c.active for c in program.coaches], dtype=bool
        )
        self.coach_site: npt.NDArray[np.int64] = np.array(
            [self.site[c.site_id] for c in program.coaches], dtype=np.int64
        )
        self.capacity: npt.NDArray[np.int64] = np.array(
            [program.capacity(c) for c in program.coaches], dtype=np.int64
        )
        self.min_load: npt.NDArray[np.int64] = np.array(
            [program.min_load(c) for c in program.coaches], dtype=np.int64
        )
        self._derived: dict[str, Any] = {}

    def derived(self, key: str, build: Callable[[], T]) -> T:
        """Data derived from the Program (a time grid, free time), built once.

        The Program is immutable, so anything computed from it alone can be kept
        with its indexes; ``key`` names it, ``build`` makes it the first time.
        """
        if key not in self._derived:
            self._derived[key] = build()
        value: T = self._derived[key]
        return value


#: set while building a Program whose cross-table rules were checked already (the
#: loaders check them with file locations first); see Program.model_validate
_ALREADY_CHECKED: ContextVar[bool] = ContextVar("coachmatch_already_checked", default=False)


class ProgramHeader(BaseModel):
    """The top of ``program.toml``: the program's name, time zone and horizon.

    Examples
    --------
    >>> ProgramHeader(name="Demo", timezone="America/Toronto",
    ...               start="2026-07-01", end="2027-06-30").end.isoformat()
    '2027-06-30'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Line = Field(min_length=1)
    timezone: str
    start: date
    end: date
    #: the right-hand side of every calendar UID (``<meeting_id>@<uid_domain>``); keep
    #: it from run to run. Empty: derived from the name (:attr:`Program.calendar_domain`)
    uid_domain: str | None = None

    @field_validator("uid_domain")
    @classmethod
    def _uid_domain(cls, value: str | None) -> str | None:
        if value is not None and not HOST_NAME.match(value):
            raise ValueError(
                "expected a host name (letters, digits, '-' and '.'), e.g. "
                "coaching.psychiatry.example.org"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        # known names only: ZoneInfo() would open a file named after the text
        if value not in _time_zones():
            close = closest(value[:64], sorted(_time_zones()))
            hint = f"; did you mean '{close}'?" if close else ""
            shown = value if len(value) <= 64 else value[:61] + "..."
            raise ValueError(f"unknown time zone '{shown}'{hint}")
        return value

    @field_validator("end")
    @classmethod
    def _horizon(cls, end: date, info: ValidationInfo) -> date:
        result: date = _end_after_start(end, info, strictly=False)
        start = info.data.get("start")
        if start is not None and (end - start).days + 1 > MAX_HORIZON_DAYS:
            raise ValueError(
                f"the horizon {start} to {end} is {(end - start).days + 1} days; at most "
                f"{MAX_HORIZON_DAYS} (five years) are planned at once"
            )
        return result


class Program(ProgramHeader):
    """A whole coaching program: horizon, policy and every table of SPEC §2.

    Build one with :func:`coachmatch.load_program`, :meth:`from_frames`,
    :meth:`model_validate_json`, or directly from row models. Construction checks
    every cross-table rule and raises :class:`~coachmatch.ProgramError` listing
    all problems.

    Examples
    --------
    >>> from datetime import date
    >>> program = Program(
    ...     name="Demo", timezone="America/Toronto", start=date(2026, 7, 1), end=date(2027, 6, 30),
    ...     sites=[Site(site_id="tgh", name="Toronto General")],
    ...     coaches=[Coach(coach_id="C1", name="Dr. A", site_id="tgh")],
    ...     residents=[Resident(resident_id="R1", name="B")])
    >>> program.with_policy(max_caseload=5).capacity(program.coaches[0])
    5
    """

    policy: Policy = Policy()
    sites: tuple[Site, ...]
    travel: tuple[TravelTime, ...] = ()
    coaches: tuple[Coach, ...]
    residents: tuple[Resident, ...]
    panels: tuple[Panel, ...] = ()
    questions: tuple[Question, ...] = ()
    survey: tuple[Answer, ...] = ()
    affinity: tuple[AffinityScore, ...] = ()
    rotations: tuple[Rotation, ...] = ()
    availability: tuple[AvailabilityWindow, ...] = ()
    busy: tuple[BusyInterval, ...] = ()
    requests: tuple[Request, ...] = ()

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as error:
            raise _program_error(error, data) from None

    def __getstate__(self) -> dict[Any, Any]:
        """Pickled without the indexes and what is cached with them (free time, time
        grids, eligibility): they are rebuilt where needed, and sending a Program to
        a worker stays cheap."""
        state: dict[Any, Any] = super().__getstate__()
        state["__dict__"] = {k: v for k, v in state["__dict__"].items() if k != "index"}
        return state

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Self:
        """Validate a mapping into a Program; problems raise :class:`ProgramError`."""
        context = kwargs.get("context")
        checked = isinstance(context, dict) and bool(context.get("checked"))
        # pydantic runs a custom __init__ from validate_python without the context:
        # say "already checked" through a context variable that __init__ cannot lose
        token = _ALREADY_CHECKED.set(True) if checked else None
        try:
            return super().model_validate(obj, **kwargs)
        except ValidationError as error:
            raise _program_error(error, obj) from None
        finally:
            if token is not None:
                _ALREADY_CHECKED.reset(token)

    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, **kwargs: Any) -> Self:
        """Validate JSON (from :meth:`model_dump_json`); problems raise :class:`ProgramError`.

        Examples
        --------
        >>> from coachmatch.datasets import synthetic
        >>> program = synthetic("small")
        >>> Program.model_validate_json(program.model_dump_json()) == program
        True
        """
        try:
            return super().model_validate_json(json_data, **kwargs)
        except ValidationError as error:
            raise _program_error(error, None) from None

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Self:
        if _ALREADY_CHECKED.get() or (
            isinstance(info.context, dict) and info.context.get("checked")
        ):
            return self
        findings = find_problems(self.tables(), self.policy)
        if findings:
            raise ProgramError([f.to_problem() for f in findings], f"program '{self.name}'")
        return self

    # -- access -----------------------------------------------------------

    def tables(self) -> dict[str, tuple[Any, ...]]:
        """The tables by name (``"coaches"`` -> tuple of :class:`Coach`), in file order."""
        return {name: getattr(self, name) for name in TABLES}

    @property
    def zone(self) -> ZoneInfo:
        """The program's time zone."""
        return ZoneInfo(self.timezone)

    @property
    def calendar_domain(self) -> str:
        """The calendars' UID domain: ``uid_domain``, else one derived from the program's
        name (``toronto-psychiatry.coachmatch.invalid``), so that two programs' events
        never share UIDs in a shared calendar.

        Examples
        --------
        >>> from coachmatch.datasets import synthetic
        >>> synthetic("small").calendar_domain
        'synthetic-small-program-seed-0.coachmatch.invalid'
        """
        if self.uid_domain:
            return self.uid_domain
        slug = re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")[:48].strip("-")
        if not slug:
            slug = "p" + hashlib.sha256(self.name.encode()).hexdigest()[:12]
        return f"{slug}.coachmatch.invalid"

    @cached_property
    def index(self) -> ProgramIndex:
        """Dense integer indexes for solvers, built once per Program."""
        return ProgramIndex(self)

    def capacity(self, coach: Coach) -> int:
        """The caseload cap in force for ``coach`` (its own, else the policy's)."""
        return self.policy.max_caseload if coach.capacity is None else coach.capacity

    def min_load(self, coach: Coach) -> int:
        """The minimum caseload in force for ``coach`` (its own, else the policy's)."""
        return self.policy.min_caseload if coach.min_load is None else coach.min_load

    def answers(self) -> tuple[Answer, ...]:
        """The survey with a ``multi`` answer given as several rows merged into one.

        The choices keep the order of their first appearance; single and scale
        questions have one row per person already (validation sees to it).

        Examples
        --------
        >>> from coachmatch.datasets import synthetic
        >>> program = synthetic("small")
        >>> program.answers() == program.survey  # one row per answer already
        True
        """
        merged: tuple[Answer, ...] = self.index.derived(
            "answers",
            lambda: _merged_answers(
                self.survey,
                column(self, "survey", "person_id"),
                column(self, "survey", "question_id"),
            ),
        )
        return merged

    def respondents(self) -> frozenset[str]:
        """Residents who answered the survey: at least one answer row, or a row of
        ``affinity.csv`` (SPEC 1.1, O2 counts only them).

        Examples
        --------
        >>> from coachmatch.datasets import synthetic
        >>> len(synthetic("small").respondents())
        53
        """

        def build() -> frozenset[str]:
            residents = {r.resident_id for r in self.residents}
            answered = set(column(self, "survey", "person_id"))
            answered.update(map(attrgetter("resident_id"), self.affinity))
            return frozenset(answered & residents)

        found: frozenset[str] = self.index.derived("respondents", build)  # asked per stage
        return found

    def panel_members(self) -> dict[str, tuple[str, ...]]:
        """Members of each panel: the listed members plus coaches naming it, sorted."""
        members: dict[str, set[str]] = {p.panel_id: set(p.members) for p in self.panels}
        for coach in self.coaches:
            for panel in coach.committee_panels:
                members.setdefault(panel, set()).add(coach.coach_id)
        return {panel: tuple(sorted(ids)) for panel, ids in members.items()}

    # -- what-if copies ---------------------------------------------------

    def replace(self, **changes: Any) -> Program:
        """A re-validated copy with some fields replaced.

        Examples
        --------
        >>> from coachmatch.datasets import synthetic
        >>> program = synthetic("small")
        >>> extra = program.coaches[0].model_copy(update={"coach_id": "C-new"})
        >>> len(program.replace(coaches=program.coaches + (extra,)).coaches)
        21
        """
        data = {name: getattr(self, name) for name in type(self).model_fields}
        unknown = set(changes) - set(data)
        if unknown:
            raise TypeError(f"Program has no field {sorted(unknown)[0]!r}")
        data.update(changes)
        return type(self).model_validate(data)

    def with_policy(self, **changes: Any) -> Program:
        """A copy whose policy has some keys changed, for what-if analysis.

        A misspelt key is an error with a "did you mean"; changing ``max_caseload``
        or ``min_caseload`` warns (:class:`~coachmatch.ProgramWarning`) when coaches'
        own ``capacity``/``min_load`` shadow it (then :meth:`with_caps` is meant).

        Examples
        --------
        >>> from coachmatch.datasets import synthetic
        >>> synthetic("small").with_policy(cadence_days=(35, 49)).policy.cadence_days
        (35, 49)
        """
        from coachmatch import editing

        return editing.with_policy(self, changes)

    def with_caps(self, cap: int, *, coaches: Iterable[str] | None = None) -> Program:
        """A copy where every coach's caseload cap is ``cap`` (their own values included).

        Parameters
        ----------
        cap : int
        coaches : iterable of str, optional
            Only these coaches; default every coach (and the policy's
            ``max_caseload`` too).

        Examples
        --------
        >>> from coachmatch.datasets import synthetic
        >>> program = synthetic("small").with_caps(5)
        >>> {program.capacity(c) for c in program.coaches}
        {5}
        """
        from coachmatch import editing

        return editing.with_caps(self, cap, coaches)

    def with_min_loads(self, load: int, *, coaches: Iterable[str] | None = None) -> Program:
        """A copy where every coach's minimum caseload is ``load``.

        Examples
        --------
        >>> from coachmatch.datasets import synthetic
        >>> program = synthetic("small").with_min_loads(1)
        >>> {program.min_load(c) for c in program.coaches}
        {1}
        """
        from coachmatch import editing

        return editing.with_min_loads(self, load, coaches)

    def extend(self, **tables: Any) -> Program:
        """A copy with rows added to tables: ``program.extend(requests=frame)``.

        Each value is a DataFrame with the folder's columns, or row models. Problems
        are located by frame (``added coaches row 2, column site_id``).

        Examples
        --------
        >>> from coachmatch import Request
        >>> from coachmatch.datasets import synthetic
        >>> program = synthetic("small")
        >>> ask = Request(resident_id="R0001", coach_id="C0002", kind="forbid")
        >>> len(program.extend(requests=[ask]).requests) - len(program.requests)
        1
        """
        from coachmatch import editing

        return editing.extend(self, **tables)

    def add_coaches(
        self, coaches: Any, *, survey: Any = None, availability: Any = None, busy: Any = None
    ) -> Program:
        """A copy with coaches added from a DataFrame (``coaches.csv`` columns), with
        their survey answers and availability when given; without them, a
        :class:`~coachmatch.ProgramWarning` says what they are taken to be.

        Examples
        --------
        >>> import pandas as pd
        >>> from coachmatch.datasets import synthetic
        >>> program = synthetic("small")
        >>> new = pd.DataFrame({"coach_id": ["N1", "N2"], "name": ["Dr. N", "Dr. M"],
        ...                     "site_id": [program.sites[0].site_id] * 2})
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as said:
        ...     warnings.simplefilter("always")
        ...     bigger = program.add_coaches(new)
        >>> len(bigger.coaches), "answered no survey question" in str(said[0].message)
        (22, True)
        """
        from coachmatch import editing

        return editing.add_coaches(
            self, coaches, survey=survey, availability=availability, busy=busy
        )

    def add_residents(
        self,
        residents: Any,
        *,
        survey: Any = None,
        availability: Any = None,
        rotations: Any = None,
        busy: Any = None,
    ) -> Program:
        """A copy with residents added (``residents.csv`` columns), with their survey
        answers, availability and rotations when given (warned about otherwise).

        Examples
        --------
        >>> import pandas as pd
        >>> from coachmatch.datasets import synthetic
        >>> program = synthetic("small")
        >>> new = pd.DataFrame({"resident_id": ["N1"], "name": ["B. New"]})
        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     len(program.add_residents(new).residents)
        61
        """
        from coachmatch import editing

        return editing.add_residents(
            self,
            residents,
            survey=survey,
            availability=availability,
            rotations=rotations,
            busy=busy,
        )

    def deactivate(self, *people: str) -> Program:
        """A copy where these coaches and residents are inactive (they stay in the tables).

        Examples
        --------
        >>> from coachmatch.datasets import synthetic
        >>> program = synthetic("small").deactivate("C0001", "R0001")
        >>> program.coaches[0].active, program.residents[0].active
        (False, False)
        """
        from coachmatch import editing

        return editing.deactivate(self, people)

    def with_rotations(self, rotations: Any) -> Program:
        """A copy where the rotations of every resident named in ``rotations`` (a
        DataFrame with ``rotations.csv`` columns, or Rotation rows) are replaced by them.

        Examples
        --------
        >>> from coachmatch.datasets import synthetic
        >>> program = synthetic("small")
        >>> first = program.rotations[0]
        >>> moved = first.model_copy(update={"site_id": program.sites[-1].site_id})
        >>> edited = program.with_rotations([moved])
        >>> [r.site_id for r in edited.rotations if r.resident_id == first.resident_id]
        ... # doctest: +ELLIPSIS
        [...]
        """
        from coachmatch import editing

        return editing.with_rotations(self, rotations)

    def with_affinity(self, scores: Any) -> Program:
        """A copy with the program's own affinity for some pairs (SPEC 1.1
        ``affinity.csv``): for program software that already scores pairs.

        ``scores`` is a DataFrame, either long (resident_id, coach_id, affinity) or a
        matrix labelled by resident ids (index) and coach ids (columns), empty cells
        (NaN) meaning "no score of the program's". The given pairs' scores replace
        any earlier ones; a resident with a score counts as having answered for
        fairness (O2). Every cell is checked at once (ids, whole numbers 0-100, one
        score per pair), problems located by row and column.

        Examples
        --------
        >>> import pandas as pd
        >>> from coachmatch.affinity import affinity_matrix
        >>> from coachmatch.datasets import synthetic
        >>> program = synthetic("small")
        >>> matrix = pd.DataFrame(50, index=["R0001", "R0002"], columns=["C0001", "C0002"])
        >>> scored = program.with_affinity(matrix)
        >>> int(affinity_matrix(scored)[0, 0]), len(scored.affinity)
        (50, 4)
        """
        from coachmatch import editing

        return editing.with_affinity(self, scores)

    def add_requests(self, requests: Any) -> Program:
        """A copy with requests added (a DataFrame with ``requests.csv`` columns, or
        Request rows).

        Examples
        --------
        >>> import pandas as pd
        >>> from coachmatch.datasets import synthetic
        >>> program = synthetic("small")
        >>> asks = pd.DataFrame({"resident_id": ["R0001"], "kind": ["change"]})
        >>> program.add_requests(asks).requests[-1].kind
        'change'
        """
        from coachmatch import editing

        return editing.add_requests(self, requests)

    # -- display ------------------------------------------------------------

    def summary(self) -> str:
        """A short plain-text summary: counts, horizon and policy."""
        return facts_text(self._facts())

    def _facts(self) -> list[tuple[str, str]]:
        active_r = sum(r.active for r in self.residents)
        active_c = sum(c.active for c in self.coaches)
        capacity = sum(self.capacity(c) for c in self.coaches if c.active)
        programs = sorted({r.program for r in self.residents if r.program})
        days = (self.end - self.start).days + 1
        p = self.policy
        changed = {k: v for k, v in p.model_dump().items() if v != Policy.model_fields[k].default}
        policy = ", ".join(f"{k}={_show(v)}" for k, v in changed.items()) or "defaults"
        return [
            ("program", self.name),
            ("horizon", f"{self.start} to {self.end} ({days} days, {self.timezone})"),
            (
                "residents",
                f"{active_r} active of {len(self.residents)}"
                + (f" in {counted(len(programs), 'program')}" if programs else ""),
            ),
            ("coaches", f"{active_c} active of {len(self.coaches)}, total capacity {capacity}"),
            ("sites", str(len(self.sites))),
            ("rotations", str(len(self.rotations))),
            ("panels", str(len(self.panel_members()))),
            ("survey", self._survey_fact()),
            (
                "availability",
                f"{len(self.availability)} weekly windows, {len(self.busy)} busy intervals",
            ),
            ("requests", str(len(self.requests))),
            ("policy", policy),
            ("rules in force", self._rules()),
        ]

    def _rules(self) -> str:
        """The policy as the rules it switches on, in SPEC's words."""
        p = self.policy
        active = [c for c in self.coaches if c.active]
        own = sum(c.capacity is not None for c in active)
        caps = f"caseload at most {p.max_caseload}" + (
            f" ({own} of {len(active)} coaches have their own cap)" if own else ""
        )
        if p.min_caseload:
            caps += f", at least {p.min_caseload}"
        low, high = p.cadence_days
        virtual = {
            "never": "in person only",
            "allowed": f"virtual up to {p.max_virtual_share:.0%}"
            + (", first meeting in person" if p.first_meeting_in_person else ""),
            "only": "virtual only",
        }[p.virtual]
        return "; ".join(
            [
                "R2 no supervisor " + ("on" if p.no_supervisor else "off"),
                f"R3 not own decision: {p.not_own_decision}",
                caps,
                "continuity first" if p.keep_current else "no continuity",
                f"fairness {p.fairness}",
                "pairs must be able to meet" if p.must_meet else "pairs need not meet",
                f"meetings every {low}-{high} days (first within "
                f"{p.first_meeting_within_days}), {p.meeting_minutes} min, {virtual}",
            ]
        )

    def _survey_fact(self) -> str:
        active = {r.resident_id for r in self.residents if r.active}
        answered = len(self.respondents() & active)
        text = (
            f"{len(self.questions)} questions, {len(self.answers())} answers; "
            f"{answered} of {len(active)} active residents answered"
        )
        if self.affinity:
            text += f"; {len(self.affinity)} program affinities"
        return text

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return (
            f"Program(name={self.name!r}, residents={len(self.residents)}, "
            f"coaches={len(self.coaches)}, sites={len(self.sites)}, "
            f"start={self.start}, end={self.end})"
        )

    def _repr_html_(self) -> str:
        return facts_html(self._facts(), "coachmatch-program")


#: the folder loader's columns of a Program's large tables, by ``id(program)``: (the
#: Program, weakly; its tables' columns); an entry goes when its Program does
_LOADED_COLUMNS: dict[int, tuple[weakref.ref[Program], dict[str, dict[str, list[Any]]]]] = {}

#: the tables whose loader columns are kept (the ones read field by field later)
KEPT_COLUMNS = ("rotations", "survey", "availability")


def keep_columns(
    program: Program, tables: Mapping[str, tuple[Sequence[Any], Mapping[str, list[Any]]]]
) -> None:
    """Remember the columns the folder loader made ``program``'s row models from, for
    :func:`column`. ``tables`` maps a table to (its row models, their fields as lists in
    row order, the very values the models hold); a table is kept only when the
    Program's rows are those models, in that order.

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> copies = [r.model_copy() for r in program.rotations]  # not the Program's rows
    >>> keep_columns(program, {"rotations": (copies, {"site_id": ["x"] * len(copies)})})
    >>> list(column(program, "rotations", "site_id")) == [r.site_id for r in program.rotations]
    True
    """
    kept: dict[str, dict[str, list[Any]]] = {}
    for table in KEPT_COLUMNS:
        if table not in tables:
            continue
        models, values = tables[table]
        rows = getattr(program, table)
        if len(models) == len(rows) and all(map(operator.is_, rows, models)):
            kept[table] = {field: v for field, v in values.items() if len(v) == len(rows)}
    if kept:
        key = id(program)
        _LOADED_COLUMNS[key] = (weakref.ref(program), kept)
        weakref.finalize(program, _LOADED_COLUMNS.pop, key, None)


def column(program: Program, table: str, field: str) -> Iterable[Any]:
    """One field of every row of one of ``program``'s tables, in row order: the folder
    loader's column when it kept one (no pass over the row objects), else read from the
    rows.

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> list(column(program, "rotations", "site_id"))[:2] == [
    ...     r.site_id for r in program.rotations[:2]]
    True
    """
    kept = _LOADED_COLUMNS.get(id(program))
    if kept is not None and kept[0]() is program:
        values = kept[1].get(table, {}).get(field)
        if values is not None:
            return values
    return map(attrgetter(field), getattr(program, table))


def _merged_answers(
    survey: Sequence[Answer], people: Iterable[str], questions: Iterable[str]
) -> tuple[Answer, ...]:
    """Rows of one person and question merged, in the order of their first rows
    (linear in the rows: choices are collected once, then each answer built once);
    ``people`` and ``questions`` are the rows' ``person_id`` and ``question_id``."""
    # a string per row, not a tuple: tuples are objects the cyclic collector tracks, and
    # making tens of thousands of them sets off collections that walk every row of the
    # Program. Equal rows give equal strings; should different rows ever give one (an
    # id holding the separator), the rows are merged exactly below
    if len(set(map("\x00".join, zip(people, questions, strict=True)))) == len(survey):
        return tuple(survey)  # one row per answer already (the usual case), checked at once
    rows: dict[tuple[str, str], list[Answer]] = {}
    for a in survey:
        rows.setdefault((a.person_id, a.question_id), []).append(a)
    merged = []
    for group in rows.values():
        if len(group) == 1:
            merged.append(group[0])
        else:
            choices = tuple(dict.fromkeys(v for a in group for v in a.answer))
            merged.append(group[0].model_copy(update={"answer": choices}))
    return tuple(merged)


def _program_error(error: ValidationError, data: Any) -> ProgramError:
    name = data.get("name") if isinstance(data, Mapping) else None
    source = f"program '{name}'" if isinstance(name, str) and name else "the program"
    return ProgramError(pydantic_problems(error, "program", None, tables=True), source)


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return str(value)


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def closest(word: str, choices: Sequence[str]) -> str | None:
    """The choice most like ``word`` (for 'did you mean' hints), or None."""
    match = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return match[0] if match else None
