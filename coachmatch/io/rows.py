"""Turn rows of cells (from a CSV file or a DataFrame) into row models, with locations.

Both loaders, the folder one and the DataFrame one, hand their rows to
:func:`parse_table` and their parsed tables to :func:`assemble`, so a problem reads
the same whichever way the data came in; only the location differs
(``coaches.csv line 4`` or ``coaches row 3``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from coachmatch.exceptions import Problem, ProgramError, pydantic_problems
from coachmatch.models import KEPT_COLUMNS, TABLES, Policy, Program, closest, keep_columns
from coachmatch.validation import find_problems

__all__ = ["ParsedTable", "RawTable", "assemble", "parse_row", "parse_table", "unknown_columns"]


@dataclass
class RawTable:
    """Cells of one table as read: a header and rows keyed by column name.

    ``rows`` holds ``(line, cells)`` where ``line`` is the 1-based line (or row)
    where the row starts and ``cells`` maps column name to the raw cell value.
    """

    table: str
    file: str
    columns: list[str]
    rows: list[tuple[int, dict[str, Any]]]
    header_line: int = 1


@dataclass
class ParsedTable:
    """Row models of one table with where each came from."""

    models: list[BaseModel] = field(default_factory=list)
    locations: list[tuple[str, int]] = field(default_factory=list)
    failed_ids: set[str] = field(default_factory=set)
    #: False when the table could not be read at all (then references into it
    #: cannot be checked, and are not reported)
    complete: bool = True
    #: the models' values by field, one per model, when a column reader has them
    #: (the cross-table checks then need not take them from the models again)
    columns: dict[str, list[Any]] | None = None

    def extend(self, other: ParsedTable) -> None:
        self.columns = None
        self.models.extend(other.models)
        self.locations.extend(other.locations)
        self.failed_ids |= other.failed_ids


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, float) and math.isnan(value)


def parse_table(raw: RawTable, zone: ZoneInfo | None) -> tuple[ParsedTable, list[Problem]]:
    """Validate each row of ``raw`` into the table's row model.

    Unknown columns are reported as warnings (see :func:`unknown_column_warnings`)
    by the caller and ignored here; a missing required column stops the table,
    as every row would fail on it.
    """
    model, _ = TABLES[raw.table]
    fields = model.model_fields
    required = [name for name, f in fields.items() if f.is_required()]
    problems: list[Problem] = []
    seen: set[str] = set()
    for name in raw.columns:
        if name in seen and name in fields:
            problems.append(
                Problem(
                    raw.file,
                    raw.header_line,
                    name,
                    f"column '{name}' appears twice",
                    name,
                    "each column once",
                )
            )
        seen.add(name)
    missing = [name for name in required if name not in seen]
    for name in missing:
        problems.append(
            Problem(
                raw.file,
                raw.header_line,
                name,
                f"missing required column '{name}'",
                None,
                "columns " + ", ".join(required),
            )
        )
    parsed = ParsedTable(complete=not missing)
    if missing:
        return parsed, problems
    for line, cells in raw.rows:
        parse_row(raw, line, cells, zone, parsed, problems)
    return parsed, problems


def parse_row(
    raw: RawTable,
    line: int,
    cells: Mapping[str, Any],
    zone: ZoneInfo | None,
    parsed: ParsedTable,
    problems: list[Problem],
) -> None:
    """Validate one row of ``raw`` into ``parsed``, or its problems into ``problems``.

    A row whose cells are all empty is skipped, as spreadsheets leave them at the end.
    """
    model, id_column = TABLES[raw.table]
    fields = model.model_fields
    values = {
        k: v
        for k, v in cells.items()
        if k in fields and (v.strip() if type(v) is str else not _is_empty(v))
    }
    if not values:
        return
    if raw.table == "busy":
        # with program.toml broken the zone is unknown (and reported there): the
        # rows are still checked, in UTC, so that good times are not called bad
        for key in ("start", "end"):
            if key in values:
                values[key] = _localize(values[key], zone or ZoneInfo("UTC"))
    try:
        row = model.model_validate(values)
    except ValidationError as error:
        problems.extend(pydantic_problems(error, raw.file, line, cells))
        if id_column and isinstance(values.get(id_column), str):
            parsed.failed_ids.add(values[id_column].strip())
        return
    parsed.models.append(row)
    parsed.locations.append((raw.file, line))


def _localize(value: Any, zone: ZoneInfo) -> Any:
    """A naive local date-time (string or datetime) gets the program's time zone."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            return value
    if isinstance(value, datetime):
        if hasattr(value, "to_pydatetime"):  # pandas.Timestamp
            value = value.to_pydatetime()
        return value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)
    return value


def unknown_columns(raw: RawTable) -> list[str]:
    """Warnings for columns the table does not know, naming the closest known one."""
    model, _ = TABLES[raw.table]
    known = list(model.model_fields)
    notes = []
    for name in raw.columns:
        if name in known or not name:
            continue
        close = closest(name, known)
        hint = f"; did you mean '{close}'?" if close else f"; known columns: {', '.join(known)}"
        notes.append(
            f"{raw.file} line {raw.header_line}, column {name}: unknown column ignored{hint}"
        )
    return notes


def assemble(
    meta: Mapping[str, Any],
    parsed: Mapping[str, ParsedTable],
    problems: list[Problem],
    source: str,
    file_order: Sequence[str],
) -> Program:
    """Run the cross-table checks and build the Program, or raise every problem.

    Parameters
    ----------
    meta : mapping
        ``name``, ``timezone``, ``start``, ``end`` and ``policy`` as validated so
        far (a key is absent when its value was bad).
    parsed : mapping of str to ParsedTable
        Row models per table.
    problems : list of Problem
        What reading and row parsing found already.
    source : str
        Names the input in the error ("program folder 'x'").
    file_order : sequence of str
        Files in the order problems should be listed.
    """
    policy = meta.get("policy")
    tables = {name: table.models for name, table in parsed.items()}
    failed = {name: table.failed_ids for name, table in parsed.items()}
    failed["people"] = failed.get("coaches", set()) | failed.get("residents", set())
    unreadable = {name for name, table in parsed.items() if not table.complete}
    if unreadable & {"coaches", "residents"}:
        unreadable.add("people")
    found = list(problems)
    columns = {name: table.columns for name, table in parsed.items() if table.columns is not None}
    policy = policy if isinstance(policy, Policy) else Policy()
    for finding in find_problems(tables, policy, columns):
        if finding.refers_to in unreadable:
            continue  # that table is reported as unreadable; its ids are unknown
        if finding.refers_to and finding.value in failed.get(finding.refers_to, set()):
            continue  # the referenced row is already reported as broken
        file, line = parsed[finding.table].locations[finding.row]
        found.append(
            Problem(file, line, finding.column, finding.message, finding.value, finding.expected)
        )
    if found or not {"name", "timezone", "start", "end", "policy"} <= set(meta):
        rank = {name: k for k, name in enumerate(file_order)}
        found.sort(key=lambda p: (rank.get(p.file, len(rank)), p.file, p.line or 0))
        raise ProgramError(found, source)
    data = {**meta, **tables}
    program = Program.model_validate(data, context={"checked": True})
    # the columns the rows were made from, for the steps that read a field of every row
    keep_columns(
        program,
        {
            name: (table.models, table.columns)
            for name, table in parsed.items()
            if table.columns is not None and name in KEPT_COLUMNS
        },
    )
    return program
