"""Every exception and warning coachmatch raises, in one place.

Input problems are collected, not raised one at a time: a :class:`ProgramError`
carries every :class:`Problem` found in a program folder (or set of DataFrames),
each naming the file, line, column, the bad value and what was expected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

__all__ = [
    "InfeasibleError",
    "OutputFolderError",
    "Problem",
    "ProgramError",
    "ProgramWarning",
    "decode_text",
    "pydantic_problems",
]


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a program's input.

    Attributes
    ----------
    file : str
        Where the problem is: a file of the program folder (``"residents.csv"``,
        ``"busy/C01.ics"``) or, for DataFrame input, the frame's name.
    line : int or None
        1-based line of the file (for a CSV, the line where the row starts); for
        DataFrame input, the 1-based row position. ``None`` for the whole file.
    column : str or None
        Column (CSV), key (TOML) or property (iCalendar) name; ``None`` for the
        whole row or file.
    message : str
        What is wrong, in a program administrator's words.
    value : str or None
        The offending value as written, when there is one.
    expected : str or None
        What would have been accepted.
    """

    file: str
    line: int | None
    column: str | None
    message: str
    value: str | None = None
    expected: str | None = None

    @property
    def location(self) -> str:
        """``"residents.csv line 14, column current_coach_id"``."""
        unit = "line" if "." in self.file else "row"
        where = self.file
        if self.line is not None:
            where += f" {unit} {self.line}"
        if self.column is not None:
            where += f", column {self.column}"
        return where

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class ProgramError(ValueError):
    """A program's input is invalid; :attr:`problems` lists everything found.

    Examples
    --------
    >>> err = ProgramError([Problem("residents.csv", 14, "current_coach_id",
    ...                             "unknown coach 'C99'", "C99", "a coach_id of coaches.csv")])
    >>> print(err)
    1 problem in the program:
      residents.csv line 14, column current_coach_id: unknown coach 'C99'
    """

    def __init__(self, problems: Iterable[Problem], source: str = "the program") -> None:
        self.problems: list[Problem] = list(problems)
        self.source = source
        super().__init__(self._render())

    def _render(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in {self.source}:"
        return "\n  ".join([head, *(str(p) for p in self.problems)])


class ProgramWarning(UserWarning):
    """Something in the input looks unintended but does not stop the run.

    Examples: an unknown column (likely a typo of a known one) or a coach's
    ``importance`` cell, which only residents' answers use.
    """


def _show(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    return str(value)


def _expected(error: ErrorDetails, column: str) -> str:
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    phrases = {
        "missing": f"a value for {column}",
        "int_parsing": "a whole number",
        "int_from_float": "a whole number",
        "int_type": "a whole number",
        "float_parsing": "a number",
        "float_type": "a number",
        "finite_number": "a finite number",
        "bool_parsing": "true or false",
        "bool_type": "true or false",
        "date_parsing": "a date YYYY-MM-DD",
        "date_from_datetime_parsing": "a date YYYY-MM-DD",
        "date_from_datetime_inexact": "a date YYYY-MM-DD",
        "date_type": "a date YYYY-MM-DD",
        "time_parsing": "a time HH:MM",
        "time_type": "a time HH:MM",
        "datetime_parsing": "a date-time YYYY-MM-DDTHH:MM",
        "datetime_from_date_parsing": "a date-time YYYY-MM-DDTHH:MM",
        "datetime_type": "a date-time YYYY-MM-DDTHH:MM",
        "timezone_aware": "a date-time YYYY-MM-DDTHH:MM",
        "string_too_short": "a non-empty value",
        "too_short": "at least one value",
        "string_type": "text",
    }
    if kind in phrases:
        return phrases[kind]
    if kind == "literal_error":
        return f"one of {ctx.get('expected', '')}"
    bounds = {
        "greater_than_equal": ">=",
        "greater_than": ">",
        "less_than_equal": "<=",
        "less_than": "<",
    }
    if kind in bounds:
        limit = next(iter(ctx.values()), "")
        return f"a number {bounds[kind]} {limit}"
    return error["msg"]


def pydantic_problems(
    error: ValidationError,
    file: str,
    line: int | None,
    cells: Mapping[str, Any] | None = None,
    column_line: Mapping[str, int] | None = None,
    *,
    tables: bool = False,
) -> list[Problem]:
    """Translate a pydantic ValidationError into located :class:`Problem` objects.

    Parameters
    ----------
    error : pydantic.ValidationError
        From validating one row (``loc`` is the column) or a whole Program
        (``loc`` is ``(table, row, column)`` or ``(field,)``).
    file : str
        The file (or frame) the row came from; for a whole Program, the
        program's name, and each table becomes the file.
    line : int or None
        The row's line; ignored for table locations.
    cells : mapping, optional
        The row's raw cells, to quote the value as written.
    column_line : mapping of str to int, optional
        A line per field (for TOML keys); otherwise every problem is at ``line``.
    tables : bool, default False
        The error is a whole Program's: ``loc`` starts with a table and a row.
        Otherwise ``loc`` starts with a column, and a number after it is the
        position of a value inside a list cell.

    Examples
    --------
    >>> from pydantic import BaseModel, ValidationError
    >>> class Row(BaseModel):
    ...     pgy: int
    >>> try:
    ...     Row.model_validate({"pgy": "two"})
    ... except ValidationError as err:
    ...     print(pydantic_problems(err, "residents.csv", 3)[0])
    residents.csv line 3, column pgy: expected a whole number, got 'two'
    """
    problems: list[Problem] = []
    for err in error.errors():
        inner = (err.get("ctx") or {}).get("error")
        if isinstance(inner, ProgramError):
            problems.extend(inner.problems)
            continue
        loc = err["loc"]
        where_file, where_line = file, line
        if tables and len(loc) >= 2 and isinstance(loc[1], int):  # (table, row, column)
            where_file, where_line, loc = str(loc[0]), loc[1] + 1, loc[2:]
        # a number after the column is a value's position inside a list cell
        column = ".".join(str(part) for part in loc if not isinstance(part, int)) or None
        raw = (cells or {}).get(column, err.get("input")) if column else None
        value = None if raw is None or isinstance(raw, dict) else _show(raw)
        where_line = (column_line or {}).get(column or "", where_line)
        if err["type"] in ("value_error", "assertion_error"):
            message = str(err["msg"]).removeprefix("Value error, ")
            expected = None
        elif err["type"] == "missing":
            message, expected = "missing value", _expected(err, column or "")
        else:
            expected = _expected(err, column or "")
            message = f"expected {expected}, got '{value}'"
        problems.append(Problem(where_file, where_line, column, message, value, expected))
    return problems


def decode_text(data: bytes, file: str) -> tuple[str | None, Problem | None]:
    """Decode UTF-8 (with or without a byte-order mark), or say where it is not UTF-8.

    Examples
    --------
    >>> decode_text(b"id,name\\nR1,Ren\\xe9e\\n", "residents.csv")[1].location
    'residents.csv line 2, column 7'
    """
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        line_start = data.rfind(b"\n", 0, error.start) + 1
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - line_start + 1
        byte = f"0x{data[error.start]:02x}"
        return None, Problem(
            file,
            line,
            str(column),
            f"not UTF-8: byte {byte}",
            byte,
            "UTF-8 text (in Excel: save as 'CSV UTF-8')",
        )


class InfeasibleError(ValueError):
    """No matching (or schedule) satisfies the hard rules; :attr:`reasons` says why.

    Each reason is a sentence a program administrator can act on: residents with
    no allowed coach and the rule excluding each coach, a capacity shortfall with
    numbers, minimum loads that cannot be met, requests that contradict the rules.

    Examples
    --------
    >>> err = InfeasibleError(["total capacity 40 is 2 short of 42 residents"])
    >>> print(err)
    no matching satisfies the rules:
      - total capacity 40 is 2 short of 42 residents
    """

    def __init__(self, reasons: Iterable[str], what: str = "matching") -> None:
        self.reasons: list[str] = list(reasons)
        lines = "\n".join(f"  - {reason}" for reason in self.reasons)
        super().__init__(f"no {what} satisfies the rules:\n{lines}")


class OutputFolderError(ValueError):
    """A run folder coachmatch must not write: an input folder or a parent of one, a
    symbolic link, a file, or a non-empty folder that coachmatch did not write.

    Examples
    --------
    >>> isinstance(OutputFolderError("x"), ValueError)
    True
    """
