"""Read a program table column by column, at file speed (issue 13, item 4).

:func:`read_columns` is the folder loader's fast path for the large tables
(``coaches.csv``, ``residents.csv``, ``rotations.csv``, ``survey.csv``, ...). It
splits the text into cells exactly as the ``csv`` module reads them (at once when no
cell is quoted, with ``csv.reader`` otherwise), then judges each *column* by its
distinct values: one regular expression over all of them decides that every cell is
plainly valid (an id of printable ASCII, a date written ``YYYY-MM-DD``, a whole number
within the field's bounds, ...), each distinct value is converted once, and the row
models are built from the converted columns without per-row validation.

It never decides that a cell is wrong. A row holding any cell it cannot vouch for is
handed, with the same cells and line, to the row loader
(:func:`coachmatch.io.rows.parse_row`), which validates it with the row model and
reports its problems; so the Program and every problem are the row loader's, only
faster when the data are clean. Anything unusual about the file as a whole (not
UTF-8, unreadable CSV, a short row or one with extra cells, a record spanning lines,
a missing or repeated column) makes :func:`read_columns` return ``None``, and the file
is read row by row. ``tests/test_columns.py`` checks that both loaders agree (models,
their fields set, locations, problems, warnings) on random tables with odd and
hostile cells, on the bad-input suite, on mutated example folders and on synthetic
programs.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from itertools import chain, repeat
from operator import itemgetter
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from annotated_types import Ge, Le
from pydantic import BaseModel

from coachmatch.exceptions import Problem, decode_text
from coachmatch.io.rows import ParsedTable, RawTable, parse_row
from coachmatch.models import _WEEKDAY_NAMES, MAX_ID_BYTES, TABLES, _split_list, check_id

__all__ = ["FAST_TABLES", "read_columns"]

#: the value of each distinct non-empty cell of a column that is plainly valid;
#: ``None`` when every one is, and is its own value
Known = dict[str, Any] | None


class _Field(NamedTuple):
    """What a column's conversion may need: the field's bounds, the program's zone."""

    low: float | None
    high: float | None
    zone: ZoneInfo


#: how to read one column: the known values of its distinct cells, given the field
Kind = Callable[[set[str], _Field], Known]


#: ids as check_id accepts them, one a line, in printable ASCII (so that characters are
#: bytes) and without surrounding spaces (the cells are stripped)
_IDS = re.compile(rf"(?:[ -.0-:<-\[\]-~]{{1,{MAX_ID_BYTES}}}\n)*")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
_EMAIL = r"[^\s@\x00-\x1f\x7f]*@[^\s@\x00-\x1f\x7f]*"
_EMAILS = re.compile(rf"(?:{_EMAIL}\n)*")
_EMAIL_ONE = re.compile(_EMAIL)
_INT = re.compile(r"0|[1-9][0-9]{0,8}")
_FLOAT = re.compile(r"-?(?:0|[1-9][0-9]{0,8})(?:\.[0-9]{1,12})?")
_DATE = re.compile(r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])")
_CLOCK = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]")
_LOCAL_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2})?")
#: what pydantic reads as a boolean (lower case)
_BOOLS = {
    **dict.fromkeys(("1", "on", "t", "true", "y", "yes"), True),
    **dict.fromkeys(("0", "off", "f", "false", "n", "no"), False),
}
_DOTS = {".", ".."}


def _joined(distinct: set[str]) -> str:
    """The cells one per line (no cell holds a line break: each record is one line)."""
    return "\n".join(distinct) + "\n"


def _is_id(value: str) -> bool:
    try:
        check_id(value)
    except ValueError:
        return False
    return True


def _ids(distinct: set[str], *_: Any) -> Known:
    if _IDS.fullmatch(_joined(distinct)) and not distinct & _DOTS:
        return None
    return {cell: cell for cell in distinct if _is_id(cell)}


def _id_lists(distinct: set[str], *_: Any) -> Known:
    lists = {cell: tuple(cell.split(";")) for cell in distinct}
    parts = set(chain.from_iterable(lists.values()))
    # split at ";" is what _split_list gives when no part is empty or needs stripping
    if "" not in parts and not _edge_spaces(parts) and _ids(parts) is None:
        return lists
    known = {cell: _split_list(cell) for cell in distinct}
    return {cell: value for cell, value in known.items() if all(map(_is_id, value))}


def _text_lists(distinct: set[str], *_: Any) -> Known:
    known = {cell: _split_list(cell) if ";" in cell else (cell,) for cell in distinct}
    return {cell: value for cell, value in known.items() if value}  # at least one answer


def _lines(distinct: set[str], *_: Any) -> Known:
    if not _CONTROL.search(_joined(distinct)):
        return None
    return {cell: cell for cell in distinct if not _CONTROL.search(cell)}


def _emails(distinct: set[str], *_: Any) -> Known:
    if _EMAILS.fullmatch(_joined(distinct)):
        return None
    return {cell: cell for cell in distinct if _EMAIL_ONE.fullmatch(cell)}


def _numbers(pattern: re.Pattern[str], kind: type[int] | type[float]) -> Kind:
    def known(distinct: set[str], field: _Field) -> Known:
        low, high = field.low, field.high
        values = {cell: kind(cell) for cell in distinct if pattern.fullmatch(cell)}
        return {
            cell: value
            for cell, value in values.items()
            if (low is None or value >= low) and (high is None or value <= high)
        }

    return known


def _each(
    convert: Callable[[str], Any],
) -> Kind:
    def known(distinct: set[str], *_: Any) -> Known:
        values = {cell: convert(cell) for cell in distinct}
        return {cell: value for cell, value in values.items() if value is not None}

    return known


def _date(cell: str) -> date | None:
    if not _DATE.fullmatch(cell):
        return None
    try:
        return date.fromisoformat(cell)
    except ValueError:  # 2026-02-30
        return None


def _local_times(distinct: set[str], field: _Field) -> Known:
    """Local date-times written ``YYYY-MM-DDTHH:MM[:SS]`` in the program's zone, in UTC
    (as the row loader attaches the zone, and the model keeps UTC)."""
    known = {}
    for cell in distinct:
        if _LOCAL_TIME.fullmatch(cell):
            try:
                local = datetime.fromisoformat(cell)
            except ValueError:  # 2026-02-30T10:00
                continue
            known[cell] = local.replace(tzinfo=field.zone).astimezone(UTC)
    return known


def _clock(cell: str) -> time | None:
    return time(int(cell[:2]), int(cell[3:])) if _CLOCK.fullmatch(cell) else None


def _bool(cell: str) -> bool | None:
    return _BOOLS.get(cell.lower())


def _weekday(cell: str) -> str | None:
    return _WEEKDAY_NAMES.get(cell.lower())


def _literal(*choices: str) -> Kind:
    return _each(lambda cell: cell if cell in choices else None)


ID: Kind = _ids
ID_LIST: Kind = _id_lists
TEXT_LIST: Kind = _text_lists
LINE: Kind = _lines
EMAIL: Kind = _emails
INT: Kind = _numbers(_INT, int)
FLOAT: Kind = _numbers(_FLOAT, float)
DATE: Kind = _each(_date)
CLOCK: Kind = _each(_clock)
BOOL: Kind = _each(_bool)
WEEKDAY: Kind = _each(_weekday)
LOCAL_TIME: Kind = _local_times


def _ordered(*, strictly: bool) -> Callable[[dict[str, list[Any]], set[int]], set[int]]:
    """Rows (not already bad) whose ``end`` is before ``start`` (or equal, ``strictly``)."""

    def check(values: dict[str, list[Any]], bad: set[int]) -> set[int]:
        pairs = enumerate(zip(values["start"], values["end"], strict=True))
        if strictly:
            return {k for k, (start, end) in pairs if k not in bad and end <= start}
        return {k for k, (start, end) in pairs if k not in bad and end < start}

    return check


@dataclass(frozen=True)
class _Spec:
    """The kind of every field of a table's row model, and the rows' own check."""

    kinds: dict[str, Kind]
    rows_check: Callable[[dict[str, list[Any]], set[int]], set[int]] | None = None


#: the tables read column by column; every field of the row model has a kind
FAST_TABLES: dict[str, _Spec] = {
    "coaches": _Spec(
        {
            "coach_id": ID,
            "name": LINE,
            "email": EMAIL,
            "site_id": ID,
            "capacity": INT,
            "min_load": INT,
            "committee_panels": ID_LIST,
            "programs": ID_LIST,
            "virtual_ok": BOOL,
            "active": BOOL,
        }
    ),
    "residents": _Spec(
        {
            "resident_id": ID,
            "name": LINE,
            "email": EMAIL,
            "program": LINE,
            "pgy": INT,
            "decision_panel": ID,
            "current_coach_id": ID,
            "active": BOOL,
        }
    ),
    "travel": _Spec({"from_site": ID, "to_site": ID, "minutes": INT}),
    "panels": _Spec({"panel_id": ID, "name": LINE, "quorum": INT, "members": ID_LIST}),
    "survey": _Spec({"person_id": ID, "question_id": ID, "answer": TEXT_LIST, "importance": FLOAT}),
    "affinity": _Spec({"resident_id": ID, "coach_id": ID, "affinity": INT}),
    "rotations": _Spec(
        {
            "resident_id": ID,
            "start": DATE,
            "end": DATE,
            "site_id": ID,
            "service": LINE,
            "supervisor_ids": ID_LIST,
        },
        _ordered(strictly=False),
    ),
    "availability": _Spec(
        {"person_id": ID, "weekday": WEEKDAY, "start": CLOCK, "end": CLOCK},
        _ordered(strictly=True),
    ),
    "busy": _Spec(
        {"person_id": ID, "start": LOCAL_TIME, "end": LOCAL_TIME},
        _ordered(strictly=True),
    ),
    "requests": _Spec(
        {
            "resident_id": ID,
            "coach_id": ID,
            "kind": _literal("require", "forbid", "prefer", "change"),
            "reason": LINE,
        }
    ),
}


def _bounds(model: type[BaseModel], name: str) -> tuple[float | None, float | None]:
    low = high = None
    for item in model.model_fields[name].metadata:
        if isinstance(item, Ge):
            low = item.ge
        elif isinstance(item, Le):
            high = item.le
    return low, high  # type: ignore[return-value]


def _split(text: str) -> tuple[list[str], list[list[str]]] | None:
    """Header and columns of a CSV text without quotes, as the ``csv`` module reads it.

    Without a double quote (or a NUL, or a carriage return outside CRLF) a record is
    a line and a cell is what lies between commas, so the text splits at once;
    every line must have the header's number of cells. Otherwise None.
    """
    if '"' in text or "\x00" in text or text.count("\r") != text.count("\r\n"):
        return None
    lines = (text.replace("\r\n", "\n") if "\r" in text else text).split("\n")
    if lines[-1] == "":
        lines.pop()
    if not lines:
        return None
    header = lines[0].split(",")
    width = len(header)
    body = lines[1:]
    if body and set(map(str.count, body, repeat(","))) != {width - 1}:
        return None
    cells = ",".join(body).split(",") if body else []
    return header, [cells[k::width] for k in range(width)]


def _read(text: str) -> tuple[list[str], list[list[str]]] | None:
    """Header and columns as the ``csv`` module reads them, when each record is a line.

    None when a record spans lines, a row has fewer cells than the header (but
    none: a blank line) or extra cells that are not empty, or the text is not
    readable CSV (the row loader then reads the file, and reports or quotes it).
    """
    split = _split(text)
    if split is not None:
        return split
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None or reader.line_num != 1:
            return None
        records = list(reader)
    except csv.Error:
        return None
    # a record is at least one line: as many lines as records means one line each
    if reader.line_num != len(records) + 1:
        return None
    width = len(header)
    if any(len(record) != width for record in records):
        if any(
            0 < len(record) < width or any(map(str.strip, record[width:])) for record in records
        ):
            return None  # the row loader reports extra cells, and quotes short rows as read
        blank = [""] * width  # an empty line, skipped as a blank row
        records = [record[:width] if record else blank for record in records]
    if not records:
        return header, [[] for _ in header]
    return header, [list(column) for column in zip(*records, strict=True)]


_FIRST, _LAST = itemgetter(slice(None, 1)), itemgetter(slice(-1, None))
#: what ``str.strip`` removes from ASCII text
_ASCII_SPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"


def _edge_spaces(distinct: set[str]) -> bool:
    """Whether a value may begin or end with what ``str.strip`` removes."""
    edges = "".join(map(_FIRST, distinct)) + "".join(map(_LAST, distinct))
    return not edges.isascii() or any(space in edges for space in _ASCII_SPACE)


def _stripped(cells: list[str], distinct: set[str]) -> tuple[list[str], set[str]]:
    """The cells and their distinct values as ``str.strip`` leaves them (as read_csv does)."""
    if not _edge_spaces(distinct):
        return cells, distinct
    cells = [cell.strip() for cell in cells]
    return cells, set(cells)


def _make(
    model: type[BaseModel],
    rows: list[dict[str, Any]],
    fields_sets: Iterable[set[str]],
    parsed: ParsedTable,
) -> None:
    """Append a model per row to ``parsed``: what ``model_construct`` does, in fewer steps."""
    new, set_attribute, append = model.__new__, object.__setattr__, parsed.models.append
    for row, fields_set in zip(rows, fields_sets, strict=True):
        item = new(model)
        set_attribute(item, "__dict__", row)
        set_attribute(item, "__pydantic_fields_set__", fields_set)
        set_attribute(item, "__pydantic_extra__", None)
        set_attribute(item, "__pydantic_private__", None)
        append(item)


def read_columns(
    data: bytes, file: str, table: str, zone: ZoneInfo | None
) -> tuple[RawTable, ParsedTable, list[Problem]] | None:
    """Read one program table column by column, or ``None`` to read it row by row.

    Parameters
    ----------
    data : bytes
        The file's content.
    file : str
        Its name in problems (``"rotations.csv"``).
    table : str
        The table (``"rotations"``); tables outside :data:`FAST_TABLES` give None.
    zone : ZoneInfo or None
        The program's time zone, for the rows handed to the row loader.

    Returns
    -------
    (RawTable, ParsedTable, list of Problem) or None
        The header (rows not kept: for the unknown-column warnings), the row models
        with their locations, and the problems of the rows the row loader validated;
        ``None`` when the file as a whole needs the row loader.

    Examples
    --------
    >>> raw, parsed, problems = read_columns(
    ...     b"resident_id,start,end,site_id\\nR1,2026-07-01,2026-07-28,tgh\\n",
    ...     "rotations.csv", "rotations", None)
    >>> parsed.models[0].end, parsed.locations, problems
    (datetime.date(2026, 7, 28), [('rotations.csv', 2)], [])
    """
    spec = FAST_TABLES.get(table)
    if spec is None:
        return None
    text, _ = decode_text(data, file)
    if text is None:
        return None
    read = _read(text)
    if read is None:
        return None
    header, columns = read
    names = [cell.strip() for cell in header]
    model, _ = TABLES[table]
    fields = model.model_fields
    present = [name for name in names if name in fields]
    required = {name for name, info in fields.items() if info.is_required()}
    if not any(names) or len(set(present)) != len(present) or not required <= set(present):
        return None  # the row loader reports the header
    raw = RawTable(table, file, names, [])
    here = zone or ZoneInfo("UTC")  # as the row loader: UTC while program.toml is broken
    n = len(columns[0])
    given = {name: columns[names.index(name)] for name in present}
    values: dict[str, list[Any]] = {}
    bad: set[int] = set()
    empty: dict[str, set[int]] = {}
    for name in present:
        cells, distinct = _stripped(given[name], set(given[name]))
        given[name] = cells
        if "" in distinct:
            distinct.discard("")
            empty[name] = {k for k, cell in enumerate(cells) if not cell}
            if name in required:
                bad |= empty[name]
        known = spec.kinds[name](distinct, _Field(*_bounds(model, name), here))
        if known is None:
            values[name] = list(cells)
        else:
            values[name] = list(map(known.get, cells))
            if len(known) < len(distinct):
                bad |= {k for k, cell in enumerate(cells) if cell and cell not in known}
        for k in empty.get(name, ()):
            values[name][k] = fields[name].default
    if spec.rows_check is not None:
        bad |= spec.rows_check(values, bad)
    # every field in the model's order; a column the file leaves out takes the default
    values = {
        name: values[name] if name in values else [info.default] * n
        for name, info in fields.items()
    }
    rows = list(map(dict, map(zip, repeat(tuple(values)), zip(*values.values(), strict=True))))
    # which cells of a row are empty, as bits (one per column with an empty cell); the
    # fields set of a row is the columns it fills: one set per pattern, shared as
    # model_construct(_fields_set=) allows; a row with every cell empty is blank
    pattern = [0] * n
    for bit, rows_empty in enumerate(empty.values()):
        for k in rows_empty:
            pattern[k] |= 1 << bit
    blank = set.intersection(*empty.values()) if len(empty) == len(given) else set()
    fields_sets: dict[int, set[str]] = {}
    for code in set(pattern):
        holes = {name for bit, name in enumerate(empty) if code >> bit & 1}
        fields_sets[code] = {name for name in given if name not in holes}
    parsed = ParsedTable()
    problems: list[Problem] = []
    unusual = sorted(blank | bad)
    if not unusual:
        parsed.columns = values
    done = 0  # rows before it are made
    for k in [*unusual, n]:
        _make(model, rows[done:k], map(fields_sets.__getitem__, pattern[done:k]), parsed)
        parsed.locations.extend(zip(repeat(file), range(done + 2, k + 2)))
        if k < n and k not in blank:
            row = {name: column[k].strip() for name, column in zip(names, columns, strict=True)}
            parse_row(raw, k + 2, row, zone, parsed, problems)
        done = k + 1  # a blank row is skipped, as spreadsheets leave them at the end
    return raw, parsed, problems
