"""Editing a Program for a what-if scenario: validated copies, the original untouched.

Every function here returns a new :class:`~coachmatch.Program`, checked like a folder
(all problems at once, located by frame name, row and column), and never changes the
one it was given. :class:`~coachmatch.Program` exposes each as a method
(``program.with_caps(5)``, ``program.add_coaches(frame)``, ...); the module holds the
work so that the data model stays small.

What a notebook user would otherwise trip over is said out loud: a policy default that
coaches' own values shadow, people added without survey answers or availability
(:class:`~coachmatch.ProgramWarning`), a misspelt key or id ("did you mean").
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from pydantic import BaseModel, ValidationError

from coachmatch._display import counted, did_you_mean, listed
from coachmatch.exceptions import Problem, ProgramError, ProgramWarning
from coachmatch.limits import MAX_CAPACITY

if TYPE_CHECKING:
    from coachmatch.models import Program

__all__ = [
    "add_coaches",
    "add_requests",
    "add_residents",
    "deactivate",
    "extend",
    "with_affinity",
    "with_caps",
    "with_min_loads",
    "with_policy",
    "with_rotations",
]


def with_policy(program: Program, changes: Mapping[str, Any]) -> Program:
    """The program with some policy keys changed (see :meth:`Program.with_policy`)."""
    from coachmatch.exceptions import pydantic_problems
    from coachmatch.models import Policy, closest

    problems = []
    for key in changes:
        if key not in Policy.model_fields:
            close = closest(key, list(Policy.model_fields))
            problems.append(
                Problem(
                    "policy",
                    None,
                    key,
                    "unknown policy key" + (f"; did you mean '{close}'?" if close else ""),
                    key,
                    "a key of SPEC §2 [policy]",
                )
            )
    if problems:
        raise ProgramError(problems, "with_policy")
    try:
        policy = Policy.model_validate({**program.policy.model_dump(), **changes})
    except ValidationError as error:
        raise ProgramError(
            pydantic_problems(error, "policy", None, dict(changes)), "with_policy"
        ) from None
    edited = program.replace(policy=policy)
    _warn_shadowed(program, changes)
    return edited


def _warn_shadowed(program: Program, changes: Mapping[str, Any]) -> None:
    """A policy default that coaches' own values override changes less than it seems."""
    for key, field, setter in (
        ("max_caseload", "capacity", "with_caps"),
        ("min_caseload", "min_load", "with_min_loads"),
    ):
        if key not in changes or changes[key] == getattr(program.policy, key):
            continue
        active = [c for c in program.coaches if c.active]
        own = [c.coach_id for c in active if getattr(c, field) is not None]
        if own:
            warnings.warn(
                f"{key}={changes[key]} applies only to the "
                f"{len(active) - len(own)} of {len(active)} active coaches without a "
                f"{field} of their own; {counted(len(own), 'coach')} "
                f"{'keeps' if len(own) == 1 else 'keep'} theirs "
                f"({listed(own)}). program.{setter}({changes[key]}) sets every coach's.",
                ProgramWarning,
                stacklevel=4,
            )


def _check_count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_CAPACITY:
        raise ValueError(
            f"The {name!r} parameter must be an int in [0, {MAX_CAPACITY}]. Got {value!r} instead."
        )
    return value


def _each_coach(
    program: Program, field: str, value: int, coaches: Iterable[str] | None
) -> tuple[Any, ...]:
    """The coaches with ``field`` set to ``value`` for those named (all when None)."""
    known = program.index.coach
    if coaches is None:
        chosen = set(known)
    else:
        chosen = set()
        for coach_id in [coaches] if isinstance(coaches, str) else coaches:
            if coach_id not in known:
                raise KeyError(f"unknown coach {coach_id!r}" + did_you_mean(coach_id, list(known)))
            chosen.add(coach_id)
    return tuple(
        c.model_copy(update={field: value}) if c.coach_id in chosen else c for c in program.coaches
    )


def with_caps(program: Program, cap: int, coaches: Iterable[str] | None = None) -> Program:
    """Every coach's caseload cap set to ``cap`` (see :meth:`Program.with_caps`)."""
    cap = _check_count("cap", cap)
    edited = _each_coach(program, "capacity", cap, coaches)
    policy = program.policy
    if coaches is None:
        policy = policy.model_copy(
            update={"max_caseload": max(cap, 1), "min_caseload": min(policy.min_caseload, cap)}
        )
    return program.replace(coaches=edited, policy=policy)


def with_min_loads(program: Program, load: int, coaches: Iterable[str] | None = None) -> Program:
    """Every coach's minimum caseload set to ``load`` (see :meth:`Program.with_min_loads`)."""
    load = _check_count("load", load)
    edited = _each_coach(program, "min_load", load, coaches)
    policy = program.policy
    if coaches is None and load <= policy.max_caseload:
        policy = policy.model_copy(update={"min_caseload": load})
    return program.replace(coaches=edited, policy=policy)


def _rows(
    table: str, given: Any, zone: ZoneInfo
) -> tuple[list[BaseModel], list[Problem], list[tuple[str, int]]]:
    """Rows of one table from a DataFrame, a mapping of columns, or row models (busy
    times without a zone are in the program's, as in the folder)."""
    from coachmatch.io.frames import _raw_table
    from coachmatch.io.rows import parse_table, unknown_columns
    from coachmatch.models import TABLES

    model, _ = TABLES[table]
    if isinstance(given, model):
        given = [given]
    if isinstance(given, list | tuple) and all(isinstance(row, model) for row in given):
        return list(given), [], [(f"added {table}", k) for k in range(1, len(given) + 1)]
    if isinstance(given, list | tuple) and any(isinstance(row, BaseModel) for row in given):
        raise TypeError(f"{table} rows must all be {model.__name__} (or give a DataFrame)")
    raw = _raw_table(table, given)
    raw.file = f"added {table}"
    for note in unknown_columns(raw):
        warnings.warn(note, ProgramWarning, stacklevel=4)
    parsed, problems = parse_table(raw, zone)
    return parsed.models, problems, parsed.locations


def extend(program: Program, **added: Any) -> Program:
    """The program with rows added to some tables (see :meth:`Program.extend`)."""
    from coachmatch.io.rows import ParsedTable, assemble
    from coachmatch.models import TABLES

    unknown = sorted(set(added) - set(TABLES))
    if unknown:
        raise TypeError(f"unknown table {unknown[0]!r}" + did_you_mean(unknown[0], list(TABLES)))
    zone = program.zone
    parsed: dict[str, ParsedTable] = {}
    problems: list[Problem] = []
    for table, rows in program.tables().items():
        parsed[table] = ParsedTable(
            models=list(rows), locations=[(table, k) for k in range(1, len(rows) + 1)]
        )
    for table, given in added.items():
        if given is None:
            continue
        models, found, locations = _rows(table, given, zone)
        problems.extend(found)
        parsed[table].models.extend(models)
        parsed[table].locations.extend(locations)
    meta = {
        "name": program.name,
        "timezone": program.timezone,
        "start": program.start,
        "end": program.end,
        "uid_domain": program.uid_domain,
        "policy": program.policy,
    }
    order = ("program", *(f"added {t}" for t in added), *TABLES)
    return assemble(meta, parsed, problems, f"the edit of program '{program.name}'", order)


def _warn_bare(program: Program, people: Sequence[str], kind: str) -> None:
    """New people with no survey answers or no availability: said, not assumed."""
    if not people:
        return
    answered = {a.person_id for a in program.survey}
    if kind == "resident":
        answered |= {s.resident_id for s in program.affinity}
    silent = [p for p in people if p not in answered]
    if silent and (program.questions or program.affinity):
        effect = (
            "their affinity is 0 with every coach"
            if kind == "resident"
            else "they share nothing with any resident (affinity 0)"
        )
        warnings.warn(
            f"{counted(len(silent), 'added ' + kind)} answered no survey question "
            f"({listed(silent)}): {effect}; pass survey=... to add their answers",
            ProgramWarning,
            stacklevel=4,
        )
    windows = {w.person_id for w in program.availability}
    bare = [p for p in people if p not in windows]
    if bare and windows:
        low, high = program.policy.workday
        warnings.warn(
            f"{counted(len(bare), 'added ' + kind)} have no availability windows "
            f"({listed(bare)}): they are taken as free on weekdays "
            f"{low:%H:%M}-{high:%H:%M} (policy workday), unlike the others; pass "
            "availability=... to add theirs",
            ProgramWarning,
            stacklevel=4,
        )


def add_coaches(
    program: Program,
    coaches: Any,
    *,
    survey: Any = None,
    availability: Any = None,
    busy: Any = None,
) -> Program:
    """The program with coaches added (see :meth:`Program.add_coaches`)."""
    edited = extend(program, coaches=coaches, survey=survey, availability=availability, busy=busy)
    before = {c.coach_id for c in program.coaches}
    _warn_bare(edited, [c.coach_id for c in edited.coaches if c.coach_id not in before], "coach")
    return edited


def add_residents(
    program: Program,
    residents: Any,
    *,
    survey: Any = None,
    availability: Any = None,
    rotations: Any = None,
    busy: Any = None,
) -> Program:
    """The program with residents added (see :meth:`Program.add_residents`)."""
    edited = extend(
        program,
        residents=residents,
        survey=survey,
        availability=availability,
        rotations=rotations,
        busy=busy,
    )
    before = {r.resident_id for r in program.residents}
    _warn_bare(
        edited, [r.resident_id for r in edited.residents if r.resident_id not in before], "resident"
    )
    return edited


def deactivate(program: Program, people: Iterable[str]) -> Program:
    """Coaches and residents made inactive (see :meth:`Program.deactivate`)."""
    index = program.index
    wanted = [people] if isinstance(people, str) else list(people)
    known = [*index.coach, *index.resident]
    for person in wanted:
        if person not in index.coach and person not in index.resident:
            raise KeyError(f"unknown coach or resident {person!r}" + did_you_mean(person, known))
    gone = set(wanted)
    return program.replace(
        coaches=tuple(
            c.model_copy(update={"active": False}) if c.coach_id in gone else c
            for c in program.coaches
        ),
        residents=tuple(
            r.model_copy(update={"active": False}) if r.resident_id in gone else r
            for r in program.residents
        ),
    )


def with_rotations(program: Program, rotations: Any) -> Program:
    """The named residents' rotations replaced (see :meth:`Program.with_rotations`)."""
    models, problems, _ = _rows("rotations", rotations, program.zone)
    if problems:
        raise ProgramError(problems, f"the edit of program '{program.name}'")
    named = {getattr(r, "resident_id") for r in models}  # noqa: B009
    kept = tuple(r for r in program.rotations if r.resident_id not in named)
    return extend(program.replace(rotations=kept), rotations=models)


def add_requests(program: Program, requests: Any) -> Program:
    """Requests added (see :meth:`Program.add_requests`)."""
    return extend(program, requests=requests)


#: problems listed at most for one scores table (a wrong matrix could have millions)
_MAX_LISTED = 50


def _score_frame(scores: Any) -> tuple[pd.DataFrame, bool]:
    """Scores as a long frame (resident_id, coach_id, affinity, row, column), and whether
    they came as a labelled matrix."""
    if not isinstance(scores, pd.DataFrame):
        raise TypeError(
            "scores must be a DataFrame: long (resident_id, coach_id, affinity) or a "
            "matrix labelled by resident ids (index) and coach ids (columns)"
        )
    if {"resident_id", "coach_id", "affinity"} <= set(map(str, scores.columns)):
        long = scores[["resident_id", "coach_id", "affinity"]].reset_index(drop=True)
        long = long.assign(row=np.arange(1, len(long) + 1), column="affinity")
        return long, False
    values = scores.to_numpy()
    rows, cols = np.nonzero(~pd.isna(values))
    long = pd.DataFrame(
        {
            "resident_id": np.asarray(scores.index.astype(str))[rows],
            "coach_id": np.asarray(scores.columns.astype(str))[cols],
            "affinity": values[rows, cols],
            "row": rows + 1,
            "column": np.asarray(scores.columns.astype(str))[cols],
        }
    )
    return long, True


def _scores(residents: list[str], coaches: list[str], values: list[int]) -> list[Any]:
    """AffinityScore rows from values checked already, without per-row validation.

    ``model_construct`` costs ~6 µs a row (it walks the fields each time); a whole
    faculty's matrix is millions of rows, so the instances are filled directly with
    the state pydantic gives a constructed model (all fields set, no extras).
    """
    from coachmatch.models import AffinityScore

    fields = set(AffinityScore.model_fields)
    new = object.__new__
    put = object.__setattr__
    made = []
    for r, c, a in zip(residents, coaches, values, strict=True):
        row = new(AffinityScore)
        put(row, "__dict__", {"resident_id": r, "coach_id": c, "affinity": a})
        put(row, "__pydantic_fields_set__", fields)
        put(row, "__pydantic_extra__", None)
        put(row, "__pydantic_private__", None)
        made.append(row)
    return made


def with_affinity(program: Program, scores: Any) -> Program:
    """The program with its own affinity for some pairs (see :meth:`Program.with_affinity`)."""
    from coachmatch.models import Program

    long, matrix = _score_frame(scores)
    index = program.index
    problems: list[Problem] = []
    where = "affinity matrix" if matrix else "affinity scores"
    residents = long["resident_id"].astype(str).to_numpy()
    coaches = long["coach_id"].astype(str).to_numpy()
    for ids, known, label in (
        (residents, index.resident_ids, "resident"),
        (coaches, index.coach_ids, "coach"),
    ):
        unknown = sorted(set(pd.unique(ids).tolist()) - set(known))
        for name in unknown[:_MAX_LISTED]:
            problems.append(
                Problem(
                    where,
                    None,
                    f"{label}_id",
                    f"unknown {label} '{name}'" + did_you_mean(name, known),
                    name,
                    f"a {label} id of the program",
                )
            )
    numbers = pd.to_numeric(long["affinity"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(numbers) | (numbers < 0) | (numbers > 100) | (numbers != np.round(numbers))
    for k in np.flatnonzero(bad)[:_MAX_LISTED]:
        problems.append(
            Problem(
                where,
                int(long["row"].iloc[k]),
                str(long["column"].iloc[k]),
                "affinity must be a whole number from 0 to 100",
                str(long["affinity"].iloc[k]),
                "0-100",
            )
        )
    if matrix:  # a pair repeats only where a label does
        labels = scores.index.astype(str).duplicated()[long["row"].to_numpy() - 1]
        repeated = (
            labels
            | scores.columns.astype(str).duplicated()[
                scores.columns.astype(str).get_indexer(long["column"].to_numpy())
            ]
        )
    else:
        repeated = pd.MultiIndex.from_arrays([residents, coaches]).duplicated()
    for k in np.flatnonzero(repeated)[:_MAX_LISTED]:
        problems.append(
            Problem(
                where,
                int(long["row"].iloc[k]),
                "coach_id",
                f"duplicate pair ({residents[k]}, {coaches[k]})",
                coaches[k],
                "one score per pair",
            )
        )
    if problems:
        hidden = int(bad.sum()) + int(repeated.sum()) - sum(p.line is not None for p in problems)
        if hidden > 0:
            problems.append(Problem(where, None, None, f"and {hidden} more like these", None, ""))
        raise ProgramError(problems, f"the affinity scores for program '{program.name}'")
    kept: list[Any] = []
    if program.affinity:
        given = set(zip(residents.tolist(), coaches.tolist(), strict=True))
        kept = [s for s in program.affinity if (s.resident_id, s.coach_id) not in given]
    made = _scores(residents.tolist(), coaches.tolist(), numbers.astype(np.int64).tolist())
    data = {name: getattr(program, name) for name in type(program).model_fields}
    data["affinity"] = (*kept, *made)
    # every row checked above (ids known, 0-100, one per pair): skip the row-by-row pass
    return Program.model_validate(data, context={"checked": True})
