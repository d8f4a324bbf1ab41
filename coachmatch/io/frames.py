"""Programs to and from pandas DataFrames with the columns of the program folder.

Program software and notebooks hold their data in frames: :func:`from_frames` builds
a validated Program from them and :func:`to_frames` gives them back. Problems are
located by frame name, 1-based row position and column (``coaches row 3, column
capacity``).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from coachmatch.exceptions import Problem, ProgramWarning
from coachmatch.io.folder import parse_meta
from coachmatch.io.rows import ParsedTable, RawTable, assemble, parse_table, unknown_columns
from coachmatch.models import TABLES, Program

__all__ = ["from_frames", "to_frames"]

_REQUIRED = ("sites", "coaches", "residents")


def _cell(value: Any) -> Any:
    """A frame cell as a plain Python value; every kind of missing becomes None."""
    if pd.api.types.is_scalar(value) and pd.isna(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, list | tuple | str):
        try:
            return value.item()  # numpy scalar -> Python scalar
        except (ValueError, AttributeError):
            return value
    return value


def _raw_table(table: str, frame: Any) -> RawTable:
    df = frame if isinstance(frame, pd.DataFrame) else pd.DataFrame(frame)
    columns = [str(c).strip() for c in df.columns]
    rows = []
    for position, record in enumerate(df.itertuples(index=False, name=None), start=1):
        rows.append((position, {c: _cell(v) for c, v in zip(columns, record, strict=True)}))
    return RawTable(table, table, columns, rows, header_line=0)


def from_frames(meta: Mapping[str, Any], **frames: Any) -> Program:
    """Build a Program from DataFrames with the columns of the program folder.

    Parameters
    ----------
    meta : mapping
        The contents of ``program.toml``: ``name``, ``timezone``, ``start``,
        ``end`` and optionally ``policy`` (a mapping or :class:`~coachmatch.Policy`).
    **frames : pandas.DataFrame
        One per table, named like the files without ``.csv`` (``sites``,
        ``coaches``, ``residents``, ``rotations``, ...). List cells may be
        Python lists or ``;``-separated strings; empty cells (NaN, None or
        ``""``) take the defaults.

    Returns
    -------
    Program

    Raises
    ------
    ProgramError
        Listing every problem, located by frame name, row and column.

    Examples
    --------
    >>> import pandas as pd
    >>> program = from_frames(
    ...     {"name": "Demo", "timezone": "America/Toronto", "start": "2026-07-01",
    ...      "end": "2027-06-30", "policy": {"max_caseload": 5}},
    ...     sites=pd.DataFrame({"site_id": ["tgh"], "name": ["Toronto General"]}),
    ...     coaches=pd.DataFrame({"coach_id": ["C1"], "name": ["Dr. A"], "site_id": ["tgh"]}),
    ...     residents=pd.DataFrame({"resident_id": ["R1"], "name": ["B. Chen"]}))
    >>> program.capacity(program.coaches[0])
    5
    >>> from coachmatch.datasets import synthetic
    >>> frames = to_frames(synthetic("small"))
    >>> from_frames(frames.pop("program"), **frames) == synthetic("small")
    True
    """
    unknown = sorted(set(frames) - set(TABLES))
    if unknown:
        raise TypeError(f"unknown table {unknown[0]!r}; expected one of {', '.join(TABLES)}")
    if not isinstance(meta, Mapping):
        raise TypeError("meta must be a mapping with name, timezone, start, end and policy")
    meta_values, problems = parse_meta(dict(meta), "program")
    zone = ZoneInfo(meta_values["timezone"]) if "timezone" in meta_values else None
    for key in ("name", "timezone", "start", "end"):
        if key not in meta:
            problems.append(
                Problem("program", None, key, "missing value", None, f"a value for {key}")
            )
    for table in _REQUIRED:
        if table not in frames:
            problems.append(
                Problem(
                    table,
                    None,
                    None,
                    "required frame is missing",
                    None,
                    f"a DataFrame named {table}",
                )
            )
    parsed: dict[str, ParsedTable] = {table: ParsedTable() for table in TABLES}
    for table, frame in frames.items():
        raw = _raw_table(table, frame)
        for note in unknown_columns(raw):
            warnings.warn(note, ProgramWarning, stacklevel=3)
        parsed[table], row_problems = parse_table(raw, zone)
        problems.extend(row_problems)
    return assemble(meta_values, parsed, problems, "the program frames", ("program", *TABLES))


def to_frames(program: Program) -> dict[str, Any]:
    """One DataFrame per table plus ``"program"``: the ``program.toml`` contents as a dict.

    Columns are those of the folder format. List cells are ``;``-joined strings;
    dates are ``datetime64``; busy times are time-zone-aware timestamps in the
    program's zone; optional whole numbers use the nullable ``Int64`` dtype.

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> frames = to_frames(synthetic("small"))
    >>> frames["coaches"].columns[:4].tolist()
    ['coach_id', 'name', 'email', 'site_id']
    """
    out: dict[str, Any] = {
        "program": {
            "name": program.name,
            "timezone": program.timezone,
            "start": program.start,
            "end": program.end,
            **({"uid_domain": program.uid_domain} if program.uid_domain else {}),
            "policy": program.policy.model_dump(),
        },
    }
    zone = program.zone
    for table, rows in program.tables().items():
        model, _ = TABLES[table]
        columns = list(model.model_fields)
        data: dict[str, list[Any]] = {c: [] for c in columns}
        for row in rows:
            for c in columns:
                value = getattr(row, c)
                data[c].append(";".join(value) if isinstance(value, tuple) else value)
        frame = pd.DataFrame(data, columns=columns)
        for c in columns:
            annotation = model.model_fields[c].annotation
            if table == "busy" and c in ("start", "end"):
                frame[c] = pd.to_datetime(frame[c], utc=True).dt.tz_convert(zone)
            elif annotation is date:
                frame[c] = pd.to_datetime(frame[c])
            elif annotation == int | None:
                frame[c] = frame[c].astype("Int64")
        out[table] = frame
    return out
