"""CSV cells a spreadsheet will not run (OWASP "CSV injection").

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
read by Excel, LibreOffice and Google Sheets as a formula. Such cells get a leading
apostrophe, which spreadsheets show as text and never evaluate; numbers stay numbers
(only text cells are touched). A cell that already starts with an apostrophe followed
by one of those characters gets one more, so :func:`restore` undoes the escape exactly
when coachmatch reads its own output back (``--previous``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["neutralize", "restore", "safe_frame"]

_RISKY = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: str) -> str:
    """The cell as a spreadsheet shows it but never runs it.

    Examples
    --------
    >>> neutralize('=HYPERLINK("x")'), neutralize("Dr. Lee"), restore(neutralize("-3"))
    ('\\'=HYPERLINK("x")', 'Dr. Lee', '-3')
    """
    if value.startswith(_RISKY) or (value.startswith("'") and value[1:].startswith(_RISKY)):
        return "'" + value
    return value


def restore(value: str) -> str:
    """Undo :func:`neutralize`.

    Examples
    --------
    >>> restore("'=1+1"), restore("'plain")
    ('=1+1', "'plain")
    """
    if value.startswith("'") and (
        value[1:].startswith(_RISKY) or (value[1:].startswith("'") and value[2:].startswith(_RISKY))
    ):
        return value[1:]
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells are neutralized (numeric columns untouched).

    Examples
    --------
    >>> safe_frame(pd.DataFrame({"name": ["@x", "y"], "n": [-1, 2]})).to_dict("list")
    {'name': ["'@x", 'y'], 'n': [-1, 2]}
    """
    out = frame.copy()
    for column in out.columns:
        if not pd.api.types.is_numeric_dtype(out[column]):
            out[column] = out[column].map(_cell)
    return out


def _cell(value: Any) -> Any:
    return neutralize(value) if isinstance(value, str) else value
