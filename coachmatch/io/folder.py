"""Read and write the program folder of SPEC §2.

:func:`load_program` reads every file, collects every problem (file, line,
column, value, expectation) and raises one :class:`~coachmatch.ProgramError`;
:func:`write_program` writes a folder that loads back equal, atomically.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import os
import re
import tomllib
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, TypeAdapter, ValidationError

from coachmatch.calendar.busy import busy_from_ics
from coachmatch.exceptions import Problem, ProgramWarning, decode_text, pydantic_problems
from coachmatch.io.columns import read_columns
from coachmatch.io.output import atomic_folder
from coachmatch.io.reading import inside, read_file
from coachmatch.io.rows import ParsedTable, RawTable, assemble, parse_table, unknown_columns
from coachmatch.models import TABLES, Policy, Program, ProgramHeader, check_id, closest

__all__ = ["atomic_folder", "load_program", "write_program"]

REQUIRED_FILES = ("program.toml", "sites.csv", "coaches.csv", "residents.csv")
FILE_ORDER = ("program.toml", *(f"{name}.csv" for name in TABLES))
_HEADER_KEYS = tuple(ProgramHeader.model_fields)
_DATE = TypeAdapter(date)


def load_program(folder: str | os.PathLike[str]) -> Program:
    """Read a program folder (SPEC §2) into a validated :class:`~coachmatch.Program`.

    Parameters
    ----------
    folder : str or path-like
        Holds ``program.toml``, ``sites.csv``, ``coaches.csv``, ``residents.csv``
        and any optional files (``rotations.csv``, ``survey.csv``, ``busy/*.ics``, ...).

    Returns
    -------
    Program

    Raises
    ------
    ProgramError
        Listing every problem found, each with file, line and column.
    FileNotFoundError
        When ``folder`` is not a folder.

    Warns
    -----
    ProgramWarning
        For unknown columns (naming the closest known one), which are ignored.

    Examples
    --------
    >>> program = load_program("examples/toronto-psychiatry")  # doctest: +SKIP
    >>> print(program)  # doctest: +SKIP
    program: Toronto Psychiatry Residency (synthetic example)
    ...
    """
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"program folder '{root}' does not exist or is not a folder")
    with _collector_paused():
        return _load(root)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a program is read.

    Reading makes a few hundred thousand objects and no reference cycles; each
    collection the allocations would trigger walks every object alive (a previous
    program in a notebook included) and frees nothing. The pause is process-wide (the
    collector has no other switch) and lasts only the read.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _load(root: Path) -> Program:
    problems: list[Problem] = []
    present = {name: os.path.lexists(root / name) for name in FILE_ORDER}
    for name in REQUIRED_FILES:
        if not present[name]:
            problems.append(
                Problem(
                    name, None, None, "required file is missing", None, f"a file {name} in {root}"
                )
            )
    contents: dict[str, bytes] = {}
    for name in FILE_ORDER:
        if present[name]:
            data, problem = read_file(root / name, root, name)
            if problem is not None:
                problems.append(problem)
            else:
                contents[name] = data or b""
    meta: dict[str, Any] = {}
    if "program.toml" in contents:
        meta, meta_problems = _read_toml(contents["program.toml"])
        problems.extend(meta_problems)
    zone = ZoneInfo(meta["timezone"]) if "timezone" in meta else None
    parsed: dict[str, ParsedTable] = {}
    for table in TABLES:
        name = f"{table}.csv"
        parsed[table] = ParsedTable(complete=name in contents or not present[name])
        if name not in contents:
            continue
        by_columns = read_columns(contents[name], name, table, zone)
        if by_columns is None:  # the file as a whole needs the row loader
            raw, read_problems = read_csv(contents[name], name, table)
            problems.extend(read_problems)
            if raw is None:
                parsed[table].complete = False
                continue
            parsed[table], row_problems = parse_table(raw, zone)
        else:
            raw, parsed[table], row_problems = by_columns
        for note in unknown_columns(raw):
            # the caller of load_program (this runs in _load, under it)
            warnings.warn(note, ProgramWarning, stacklevel=3)
        problems.extend(row_problems)
    problems.extend(_read_busy_calendars(root, meta, parsed))
    return assemble(meta, parsed, problems, f"program folder '{root}'", FILE_ORDER)


def _read_busy_calendars(
    root: Path, meta: dict[str, Any], parsed: dict[str, ParsedTable]
) -> list[Problem]:
    folder = root / "busy"
    if not os.path.lexists(folder):
        return []
    if not inside(folder, root) or not folder.is_dir():
        what = "a link out of the program folder" if folder.is_dir() else "not a folder"
        return [Problem("busy", None, None, f"is {what}", None, "a folder of .ics files")]
    # with coaches.csv or residents.csv unreadable, no person id is known for sure:
    # saying every calendar names an unknown person would only bury the real problem
    people_known = parsed["coaches"].complete and parsed["residents"].complete
    people = (
        {
            getattr(m, key)
            for table, key in (("coaches", "coach_id"), ("residents", "resident_id"))
            for m in parsed[table].models
        }
        | parsed["coaches"].failed_ids
        | parsed["residents"].failed_ids
    )
    failed = parsed["coaches"].failed_ids | parsed["residents"].failed_ids
    problems: list[Problem] = []
    for path in sorted(folder.glob("*.ics")):
        file = f"busy/{path.name}"
        if path.stem in failed:
            continue  # the person's own row is broken, and reported
        try:
            check_id(path.stem)
        except ValueError as error:
            problems.append(
                Problem(
                    file,
                    None,
                    None,
                    f"the file name is not a person id: {error}",
                    path.stem,
                    "a file named <coach_id or resident_id>.ics",
                )
            )
            continue
        if path.stem not in people:
            if people_known:
                problems.append(
                    Problem(
                        file,
                        None,
                        None,
                        f"unknown person '{path.stem}'",
                        path.stem,
                        "a file named <coach_id or resident_id>.ics",
                    )
                )
            continue
        data, problem = read_file(path, root, file)
        if problem is not None:
            problems.append(problem)
            continue
        if not {"timezone", "start", "end"} <= set(meta):
            continue  # program.toml is broken and reported; the horizon is unknown
        busy, ics_problems = busy_from_ics(
            data or b"",
            path.stem,
            file,
            ZoneInfo(meta["timezone"]),
            meta["start"],
            meta["end"],
        )
        problems.extend(ics_problems)
        parsed["busy"].extend(ParsedTable(list(busy), [(file, 1)] * len(busy)))
    return problems


def read_csv(
    data: bytes, file: str, table: str, required: Sequence[str] | None = None
) -> tuple[RawTable | None, list[Problem]]:
    """Split CSV bytes into a :class:`RawTable` of string cells, tracking lines.

    A row's line is where it starts (quoted cells may span lines). Rows with more
    cells than the header are problems; rows with fewer take the rest as empty,
    as some spreadsheet exports trim trailing empty cells. ``required`` names the
    columns an empty file should have had (default: the program table's).
    """
    text, problem = decode_text(data, file)
    if text is None:
        return None, [problem] if problem else []
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[Problem] = []
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            if required is None:
                model, _ = TABLES[table]
                required = [n for n, f in model.model_fields.items() if f.is_required()]
            return None, [
                Problem(
                    file,
                    1,
                    None,
                    "the file is empty",
                    None,
                    "a header row with columns " + ", ".join(required),
                )
            ]
        columns = [cell.strip() for cell in header]
        rows: list[tuple[int, dict[str, Any]]] = []
        line = reader.line_num + 1
        for record in reader:
            if len(record) > len(columns) and any(c.strip() for c in record[len(columns) :]):
                problems.append(
                    Problem(
                        file,
                        line,
                        None,
                        f"row has {len(record)} cells but the header has {len(columns)}",
                        None,
                        f"{len(columns)} cells (quote cells that hold commas)",
                    )
                )
            else:
                rows.append((line, dict(zip(columns, map(str.strip, record), strict=False))))
            line = reader.line_num + 1
    except csv.Error as error:
        problems.append(
            Problem(
                file,
                reader.line_num,
                None,
                f"unreadable CSV: {error}",
                None,
                "comma-separated values with double-quoted cells",
            )
        )
        return None, problems
    return RawTable(table, file, columns, rows), problems


_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")
_TOML_END = re.compile(r"\s*\(at end of document\)")


def _key_lines(text: str) -> dict[str, int]:
    """Line of each ``key =`` in the TOML text, as ``key`` or ``policy.key``."""
    lines: dict[str, int] = {}
    section = ""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped.strip("[] \t")
            lines.setdefault(section, number)
            continue
        match = re.match(r'^"?([A-Za-z0-9_-]+)"?\s*=', stripped)
        if match:
            key = f"{section}.{match.group(1)}" if section else match.group(1)
            lines.setdefault(key, number)
    return lines


def _read_toml(data: bytes) -> tuple[dict[str, Any], list[Problem]]:
    file = "program.toml"
    text, problem = decode_text(data, file)
    if text is None:
        return {}, [problem] if problem else []
    try:
        parsed = tomllib.loads(text)
    except RecursionError:
        return {}, [
            Problem(
                file,
                None,
                None,
                "malformed TOML: arrays or tables nested too deeply",
                None,
                'key = value lines, e.g. timezone = "America/Toronto"',
            )
        ]
    except tomllib.TOMLDecodeError as error:
        position = _TOML_POSITION.search(str(error))
        line, column = (int(position.group(1)), position.group(2)) if position else (None, None)
        if position is None and "end of document" in str(error):
            line = max(len(text.splitlines()), 1)
        message = _TOML_END.sub("", _TOML_POSITION.sub("", str(error))).strip()
        return {}, [
            Problem(
                file,
                line,
                column,
                f"malformed TOML: {message}",
                None,
                'key = value lines, e.g. timezone = "America/Toronto"',
            )
        ]
    meta, problems = parse_meta(parsed, file, _key_lines(text))
    return meta, problems


def parse_meta(
    data: dict[str, Any], file: str, key_lines: dict[str, int] | None = None
) -> tuple[dict[str, Any], list[Problem]]:
    """Validate the contents of ``program.toml`` (header keys and ``[policy]``).

    Returns the valid parts (``name``, ``timezone``, ``start``, ``end``, ``policy``)
    and the problems, each at the line of its key.
    """
    lines = key_lines or {}
    problems: list[Problem] = []
    meta: dict[str, Any] = {}
    for key in data:
        if key not in (*_HEADER_KEYS, "policy"):
            close = closest(key, [*_HEADER_KEYS, "policy"])
            problems.append(
                Problem(
                    file,
                    lines.get(key),
                    key,
                    "unknown key" + (f"; did you mean '{close}'?" if close else ""),
                    key,
                    "one of " + ", ".join([*_HEADER_KEYS, "[policy]"]),
                )
            )
    header = {k: data[k] for k in _HEADER_KEYS if k in data}
    try:
        meta.update(dict(ProgramHeader.model_validate(header)))
    except ValidationError as error:
        bad = {str(e["loc"][0]) for e in error.errors() if e["loc"]}
        problems.extend(pydantic_problems(error, file, None, header, lines))
        # keep the good keys, so that later checks (busy calendars) can still run
        for key, value in header.items():
            if key not in bad:
                meta[key] = _DATE.validate_python(value) if key in ("start", "end") else value
    policy = data.get("policy", {})
    if isinstance(policy, Policy):
        meta["policy"] = policy
    elif not isinstance(policy, dict):
        problems.append(
            Problem(
                file,
                lines.get("policy"),
                "policy",
                "policy must be a table",
                str(policy),
                "a [policy] section",
            )
        )
    else:
        policy_lines = {k.removeprefix("policy."): v for k, v in lines.items()}
        for key in policy:
            if key not in Policy.model_fields:
                close = closest(key, list(Policy.model_fields))
                problems.append(
                    Problem(
                        file,
                        policy_lines.get(key),
                        key,
                        "unknown policy key" + (f"; did you mean '{close}'?" if close else ""),
                        key,
                        "a key of SPEC §2 [policy]",
                    )
                )
        known = {k: v for k, v in policy.items() if k in Policy.model_fields}
        try:
            meta["policy"] = Policy.model_validate(known)
        except ValidationError as error:
            problems.extend(
                pydantic_problems(error, file, lines.get("policy"), known, policy_lines)
            )
    return meta, problems


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------


def format_cell(value: Any, zone: ZoneInfo | None = None) -> str:
    """One model value as a CSV cell of the program folder format.

    Examples
    --------
    >>> format_cell(("a", "b")), format_cell(True), format_cell(None), format_cell(2.0)
    ('a;b', 'true', '', '2')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return ";".join(format_cell(v, zone) for v in value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        local = value.astimezone(zone) if zone is not None else value
        spec = "minutes" if local.second == 0 and not local.microsecond else "seconds"
        naive = local.replace(tzinfo=None, fold=0)
        # local wall time when it reads back as the same instant, else keep the UTC offset
        if zone is not None and naive.replace(tzinfo=zone).utcoffset() == local.utcoffset():
            return naive.isoformat(timespec=spec)
        return local.isoformat(timespec=spec)
    if isinstance(value, time):
        return value.isoformat(timespec="minutes" if value.second == 0 else "seconds")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def table_rows(
    rows: Sequence[BaseModel], model: type[BaseModel], zone: ZoneInfo | None
) -> Iterable[list[str]]:
    """Header then one list of cells per row, in the model's column order."""
    columns = list(model.model_fields)
    yield columns
    for row in rows:
        yield [format_cell(getattr(row, column), zone) for column in columns]


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, time):
        return json.dumps(value.strftime("%H:%M"))
    if isinstance(value, date):
        return value.isoformat()
    return json.dumps(str(value), ensure_ascii=False)


def program_toml(program: Program) -> str:
    """The ``program.toml`` text for a program, every policy key written out."""
    lines = [
        f"{key} = {_toml_value(getattr(program, key))}"
        for key in _HEADER_KEYS
        if getattr(program, key) is not None
    ]
    lines += ["", "[policy]"]
    lines += [f"{key} = {_toml_value(value)}" for key, value in program.policy]
    return "\n".join(lines) + "\n"


def write_program(
    program: Program, folder: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write ``program`` as a program folder that :func:`load_program` reads back equal.

    The folder is written beside its final place and moved there only when
    complete, so a failure never leaves a half-written folder. Busy time from
    ``busy/*.ics`` files is written to ``busy.csv``; optional tables that are
    empty are left out.

    Parameters
    ----------
    program : Program
    folder : str or path-like
        Where to write; must not exist unless ``overwrite``.
    overwrite : bool, default False
        Replace an existing folder (its old content is removed only after the
        new one is complete).

    Returns
    -------
    pathlib.Path
        The folder written.

    Examples
    --------
    >>> import tempfile
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     load_program(write_program(program, f"{tmp}/small")) == program
    True
    """
    target = Path(folder)
    if target.exists() and not overwrite:
        raise FileExistsError(f"'{target}' exists; pass overwrite=True to replace it")
    with atomic_folder(target) as staging:
        (staging / "program.toml").write_text(program_toml(program), encoding="utf-8", newline="\n")
        zone = program.zone
        for table, rows in program.tables().items():
            if not rows and table not in ("sites", "coaches", "residents"):
                continue
            model, _ = TABLES[table]
            with open(staging / f"{table}.csv", "w", encoding="utf-8", newline="") as handle:
                csv.writer(handle, lineterminator="\n").writerows(table_rows(rows, model, zone))
    return target
