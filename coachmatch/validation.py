"""Cross-table checks of a program (SPEC §2): references, duplicates, answers, overlaps.

These rules span rows and tables — an unknown site, a duplicate id, a survey answer
outside its scale, two rotations of one resident at once — so they cannot live in
one row model. :func:`find_problems` reports them by table and 0-based row; the
loaders in :mod:`coachmatch.io` turn rows into file lines, and
:class:`~coachmatch.Program` validates itself with the same function, so a program
built in Python is checked exactly as a folder is.

This module works on the row models' attributes only and imports none of them at
run time: :mod:`coachmatch.models` imports it, never the other way round.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter, eq, gt, not_, or_
from typing import TYPE_CHECKING, Any

import numpy as np

from coachmatch.exceptions import Problem

if TYPE_CHECKING:
    from datetime import date

    from coachmatch.models import Answer, Policy, Question, Rotation

__all__ = ["ID_COLUMNS", "TABLE_NAMES", "Finding", "find_problems"]

#: the program's tables (file stems), in the order problems are reported
TABLE_NAMES: tuple[str, ...] = (
    "sites",
    "travel",
    "coaches",
    "residents",
    "panels",
    "questions",
    "survey",
    "affinity",
    "rotations",
    "availability",
    "busy",
    "requests",
)

#: the id column of each table that has one
ID_COLUMNS: dict[str, str] = {
    "sites": "site_id",
    "coaches": "coach_id",
    "residents": "resident_id",
    "panels": "panel_id",
    "questions": "question_id",
}


@dataclass(frozen=True)
class Finding:
    """A cross-table problem at row ``row`` (0-based) of ``table``.

    ``refers_to`` names the table an unknown reference points into, so a loader
    can drop findings about ids whose own rows failed to parse.
    """

    table: str
    row: int
    column: str | None
    message: str
    value: str | None = None
    expected: str | None = None
    refers_to: str | None = None

    def to_problem(self) -> Problem:
        return Problem(
            self.table, self.row + 1, self.column, self.message, self.value, self.expected
        )


_NOUN = {
    "sites": "site",
    "coaches": "coach",
    "residents": "resident",
    "panels": "panel",
    "questions": "question",
    "people": "person",
}


def find_problems(
    tables: Mapping[str, Sequence[Any]],
    policy: Policy,
    columns: Mapping[str, Mapping[str, list[Any]]] | None = None,
) -> list[Finding]:
    """Every cross-table problem of a program's tables, in table and row order.

    Parameters
    ----------
    tables : mapping of str to sequence of row models
        Keys are the names in :data:`TABLE_NAMES`; missing keys are empty tables.
    policy : Policy
        Used for caseload defaults.
    columns : mapping of str to mapping of str to list, optional
        For some tables, each field's values in row order, as a column reader has
        them (they must be the rows' own values); the rest are taken from the rows.

    Returns
    -------
    list of Finding
        Empty when the tables are consistent.

    Examples
    --------
    >>> from coachmatch.models import Coach, Policy
    >>> coaches = [Coach(coach_id="C1", name="A", site_id="nowhere")]
    >>> [f.message for f in find_problems({"coaches": coaches}, Policy())]
    ["unknown site 'nowhere'"]
    """
    get: dict[str, Sequence[Any]] = {name: tables.get(name, ()) for name in TABLE_NAMES}
    found: list[Finding] = []
    ids: dict[str, set[str]] = {}
    for table, id_column in ID_COLUMNS.items():
        seen: dict[str, int] = {}
        for i, row in enumerate(get[table]):
            key = getattr(row, id_column)
            if key in seen:
                found.append(
                    Finding(
                        table,
                        i,
                        id_column,
                        f"duplicate {id_column} '{key}' (first at row {seen[key] + 1})",
                        key,
                        "an id used once",
                    )
                )
            else:
                seen[key] = i
        ids[table] = set(seen)
    for i, resident in enumerate(get["residents"]):
        if resident.resident_id in ids["coaches"]:
            found.append(
                Finding(
                    "residents",
                    i,
                    "resident_id",
                    f"'{resident.resident_id}' is also a coach_id; a person id "
                    "must name one person",
                    resident.resident_id,
                    "an id not used in coaches.csv",
                )
            )
    ids["people"] = ids["coaches"] | ids["residents"]
    found.extend(_case_twins(get))

    def ref(table: str, i: int, column: str, value: str | None, target: str) -> None:
        if value is not None and value not in ids[target]:
            found.append(_unknown(table, i, column, value, target))

    taken: dict[tuple[str, str], list[Any]] = {}

    def column(table: str, name: str) -> list[Any]:
        """The values of one column of a table, taken once."""
        if (table, name) not in taken:
            given = (columns or {}).get(table)
            taken[table, name] = (
                given[name] if given is not None else list(map(attrgetter(name), get[table]))
            )
        return taken[table, name]

    def refs(table: str, name: str, target: str) -> None:
        """``ref`` for every row of ``table`` at once (rows in order)."""
        values = column(table, name)
        unknown = set(values) - ids[target] - {None}
        if unknown:
            found.extend(
                _unknown(table, i, name, value, target)
                for i, value in enumerate(values)
                if value in unknown
            )

    check_panels = bool(get["panels"])
    for i, t in enumerate(get["travel"]):
        ref("travel", i, "from_site", t.from_site, "sites")
        ref("travel", i, "to_site", t.to_site, "sites")
    _duplicate_keys(found, "travel", get["travel"], ("from_site", "to_site"))
    for i, c in enumerate(get["coaches"]):
        ref("coaches", i, "site_id", c.site_id, "sites")
        if check_panels:
            for panel in c.committee_panels:
                ref("coaches", i, "committee_panels", panel, "panels")
        capacity = policy.max_caseload if c.capacity is None else c.capacity
        min_load = policy.min_caseload if c.min_load is None else c.min_load
        if min_load > capacity:
            found.append(
                Finding(
                    "coaches",
                    i,
                    "min_load" if c.min_load is not None else "capacity",
                    f"min_load {min_load} is greater than capacity {capacity}",
                    str(min_load),
                    f"a min_load of at most {capacity}",
                )
            )
    for i, r in enumerate(get["residents"]):
        ref("residents", i, "current_coach_id", r.current_coach_id, "coaches")
        if check_panels:
            ref("residents", i, "decision_panel", r.decision_panel, "panels")
    # findings of one row keep their order through the final (stable) sort by row,
    # so the large tables are checked a column at a time
    questions = {q.question_id: q for q in get["questions"]}
    refs("survey", "person_id", "people")
    refs("survey", "question_id", "questions")
    one_answer = {key: q for key, q in questions.items() if q.kind != "multi"}
    numbers: dict[str, float] = {}
    for i, a in enumerate(get["survey"]):
        q = one_answer.get(a.question_id)
        if q is None or (len(a.answer) == 1 and (q.kind == "single" or _on_scale(a, q, numbers))):
            continue
        found.extend(_answer_problems(i, a, q))
    found.extend(
        _survey_rows(
            get["survey"], questions, column("survey", "person_id"), column("survey", "question_id")
        )
    )
    refs("affinity", "resident_id", "residents")
    refs("affinity", "coach_id", "coaches")
    _duplicate_keys(found, "affinity", get["affinity"], ("resident_id", "coach_id"))
    refs("rotations", "resident_id", "residents")
    refs("rotations", "site_id", "sites")
    rotations = get["rotations"]
    found.extend(
        _overlapping_rotations(
            rotations,
            column("rotations", "resident_id"),
            column("rotations", "start"),
            column("rotations", "end"),
        )
    )
    refs("availability", "person_id", "people")
    refs("busy", "person_id", "people")
    for i, req in enumerate(get["requests"]):
        ref("requests", i, "resident_id", req.resident_id, "residents")
        ref("requests", i, "coach_id", req.coach_id, "coaches")
        if req.coach_id is None and req.kind != "change":
            found.append(
                Finding(
                    "requests",
                    i,
                    "coach_id",
                    f"a {req.kind} request needs a coach",
                    None,
                    "a coach_id (only a change request may leave it empty: the current coach)",
                )
            )
    _duplicate_keys(found, "requests", get["requests"], ("resident_id", "coach_id"))
    order = {name: k for k, name in enumerate(TABLE_NAMES)}
    found.sort(key=lambda f: (order[f.table], f.row))
    return found


def _unknown(table: str, i: int, column: str, value: str, target: str) -> Finding:
    return Finding(
        table,
        i,
        column,
        f"unknown {_NOUN[target]} '{value}'",
        value,
        f"an id of {target}",
        refers_to=target,
    )


def _case_twins(get: Mapping[str, Sequence[Any]]) -> Iterator[Finding]:
    """Person ids that differ only in letter case: each names a file (calendars), and
    macOS and Windows file systems would take the two for one."""
    first: dict[str, tuple[str, int, str]] = {}
    for table in ("coaches", "residents"):
        column = ID_COLUMNS[table]
        for i, row in enumerate(get[table]):
            value = getattr(row, column)
            key = value.casefold()
            if key not in first:
                first[key] = (table, i, value)
                continue
            other_table, k, other = first[key]
            if other != value:  # an exact repeat is a duplicate, reported as such
                yield Finding(
                    table,
                    i,
                    column,
                    f"'{value}' differs from '{other}' ({other_table}.csv row {k + 1}) only "
                    "in letter case; ids name files, and many file systems ignore case",
                    value,
                    "ids that differ in more than letter case",
                )


def _duplicate_keys(
    found: list[Finding], table: str, rows: Sequence[Any], columns: tuple[str, str]
) -> None:
    seen: dict[tuple[str, str], int] = {}
    for i, row in enumerate(rows):
        key = (getattr(row, columns[0]), getattr(row, columns[1]))
        if key in seen:
            shown = "(empty)" if key[1] is None else f"'{key[1]}'"
            found.append(
                Finding(
                    table,
                    i,
                    columns[1],
                    f"a second row for {columns[0]} '{key[0]}' and {columns[1]} "
                    f"{shown} (first at row {seen[key] + 1})",
                    key[1],
                    "one row per pair",
                )
            )
        else:
            seen[key] = i


def _survey_rows(
    answers: Sequence[Answer],
    questions: Mapping[str, Question],
    persons: list[str],
    question_ids: list[str],
) -> Iterator[Finding]:
    """Several rows for one person and question: merged for ``multi`` (SPEC 1.1, a survey
    tool's long export), an error for ``single`` and ``scale``; merged rows must agree on
    the importance, which belongs to the question, not to one choice."""
    keys = list(zip(persons, question_ids, strict=True))
    # each key's first row: written last when the rows are taken backwards
    first = dict(zip(reversed(keys), range(len(keys) - 1, -1, -1), strict=True))
    if len(first) == len(keys):
        return
    for i in [i for i, key in enumerate(keys) if first[key] != i]:
        a = answers[i]
        k = first[keys[i]]
        question = questions.get(a.question_id)
        if question is None:
            continue  # the unknown question is reported already
        if question.kind != "multi":
            yield Finding(
                "survey",
                i,
                "question_id",
                f"a second row for person_id '{a.person_id}' and question '{a.question_id}' "
                f"(first at row {k + 1}); question '{a.question_id}' is '{question.kind}' "
                "and takes one answer",
                a.question_id,
                "one row per person for a single or scale question",
            )
        elif a.importance != answers[k].importance:
            yield Finding(
                "survey",
                i,
                "importance",
                f"importance {a.importance:g} differs from {answers[k].importance:g} given "
                f"for the same person and question at row {k + 1}",
                f"{a.importance:g}",
                "the same importance on every row of one multi answer",
            )


def _on_scale(a: Answer, q: Question, numbers: dict[str, float]) -> bool:
    """Whether a one-value answer is a number on the scale of ``q`` (numbers cached)."""
    cell = a.answer[0]
    x = numbers.get(cell)
    if x is None:
        try:
            x = float(cell)
        except ValueError:
            x = math.nan
        numbers[cell] = x
    assert q.min is not None and q.max is not None
    return q.min <= x <= q.max


def _answer_problems(i: int, a: Answer, q: Question | None) -> Iterator[Finding]:
    if q is None:
        return
    cell = ";".join(a.answer)
    if q.kind in ("single", "scale") and len(a.answer) > 1:
        yield Finding(
            "survey",
            i,
            "answer",
            f"question '{q.question_id}' is '{q.kind}' and takes one answer, got {len(a.answer)}",
            cell,
            "one value",
        )
    elif q.kind == "scale":
        assert q.min is not None and q.max is not None
        try:
            x = float(a.answer[0])
        except ValueError:
            x = math.nan
        if not math.isfinite(x):
            yield Finding(
                "survey",
                i,
                "answer",
                f"'{cell}' is not a number",
                cell,
                f"a number from {q.min:g} to {q.max:g}",
            )
        elif not q.min <= x <= q.max:
            yield Finding(
                "survey",
                i,
                "answer",
                f"{cell} is outside the scale of question '{q.question_id}'",
                cell,
                f"a number from {q.min:g} to {q.max:g}",
            )


def _overlapping_rotations(
    rotations: Sequence[Rotation],
    residents: list[str] | None = None,
    starts: list[date] | None = None,
    ends: list[date] | None = None,
) -> Iterator[Finding]:
    """Each rotation starting before an earlier one of the same resident has ended.

    Rotations are taken per resident by (start, end), ties in row order, and each is
    compared with the one ending latest before it (the first such, on a tie).
    ``residents``, ``starts`` and ``ends`` are the rotations' columns, when taken already.
    """
    n = len(rotations)
    if n < 2:
        return
    residents = residents or list(map(attrgetter("resident_id"), rotations))
    starts = starts or list(map(attrgetter("start"), rotations))
    ends = ends or list(map(attrgetter("end"), rotations))
    # as rotations are usually written, each resident's in a block in date order:
    # then none overlaps if each starts after the one before it has ended
    same = list(map(eq, residents[1:], residents))
    if same.count(False) + 1 == len(set(residents)) and all(
        map(or_, map(gt, starts[1:], ends), map(not_, same))
    ):
        return
    days = {day: day.toordinal() for day in {*starts, *ends}}
    codes = {resident: k for k, resident in enumerate(dict.fromkeys(residents))}
    who = np.fromiter(map(codes.__getitem__, residents), np.int64, n)
    start = np.fromiter(map(days.__getitem__, starts), np.int64, n)
    end = np.fromiter(map(days.__getitem__, ends), np.int64, n)
    order = np.lexsort((np.arange(n), end, start, who))
    who, start, end = who[order], start[order], end[order]
    first = np.ones(n, dtype=bool)
    first[1:] = who[1:] != who[:-1]
    # the latest end so far, per resident: shifted by resident so that a running
    # maximum over all rows never carries one resident's end into the next
    group = np.cumsum(first) - 1
    span = int(end.max()) - int(min(start.min(), end.min())) + 1
    latest_end = np.maximum.accumulate(end + group * span) - group * span
    # and where it was first reached (a later equal end does not replace it)
    new_latest = first.copy()
    new_latest[1:] |= end[1:] > latest_end[:-1]
    latest = np.maximum.accumulate(np.where(new_latest, np.arange(n), 0))
    for i in np.flatnonzero(~first[1:] & (start[1:] <= latest_end[:-1])) + 1:
        k, before = int(order[i]), int(order[latest[i - 1]])
        here, earlier = rotations[k], rotations[before]
        yield Finding(
            "rotations",
            k,
            "start",
            f"rotation {here.start}..{here.end} of resident '{here.resident_id}' "
            f"overlaps rotation {earlier.start}..{earlier.end} "
            f"(row {before + 1})",
            str(here.start),
            f"a start after {earlier.end}",
        )
