"""A run's tables as one Excel workbook, for program administrators.

Sheets: ``pairs`` (names, sites, affinity, kept), ``caseloads``, and with a schedule
``meetings`` (local times: Excel has no time zones), ``per_coach``, ``per_pair`` and
``unplanned``; ``unmatched`` and ``low_fit`` when they have rows. Text cells that a
spreadsheet would run as a formula are neutralized as in the CSV files. The workbook is
written to a temporary file beside the target and moved into place, so a failure
leaves no half-written file. Needs ``openpyxl`` (``pip install "coachmatch[excel]"``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from coachmatch.io.safe import safe_frame
from coachmatch.results import Matching, Schedule

__all__ = ["to_excel"]


def _local(frame: pd.DataFrame, zone: str) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = out[column].dt.tz_convert(zone).dt.tz_localize(None)
    return out


def sheets(matching: Matching, schedule: Schedule | None = None) -> dict[str, pd.DataFrame]:
    """The tables :func:`to_excel` writes, by sheet name."""
    zone = matching.program.timezone
    found = {"pairs": matching.pairs, "caseloads": matching.caseloads}
    if schedule is not None:
        names = {r.resident_id: r.name for r in schedule.program.residents}
        coaches = {c.coach_id: c.name for c in schedule.program.coaches}
        meetings = schedule.meetings.copy()
        meetings.insert(3, "resident_name", meetings["resident_id"].map(names))
        meetings.insert(5, "coach_name", meetings["coach_id"].map(coaches))
        found["meetings"] = _local(meetings, zone)
        found["per_coach"] = schedule.per_coach()
        found["per_pair"] = _local(schedule.per_pair(), zone)
        found["unplanned"] = schedule.unplanned
    if len(matching.unmatched):
        found["unmatched"] = matching.unmatched
    low = matching.low_fit()
    if len(low):
        found["low_fit"] = low
    return found


def to_excel(
    path: str | os.PathLike[str], matching: Matching, schedule: Schedule | None = None
) -> Path:
    """Write the matching's (and schedule's) tables to one ``.xlsx`` workbook.

    Parameters
    ----------
    path : path
        The workbook to write (replaced if it exists).
    matching : Matching
    schedule : Schedule, optional

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import coachmatch, tempfile, pathlib
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> matching = coachmatch.match(program)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     written = to_excel(pathlib.Path(folder) / "run.xlsx", matching)
    ...     sorted(pd.read_excel(written, sheet_name=None))[:2]
    ['caseloads', 'low_fit']
    """
    target = Path(path)
    tables = sheets(matching, schedule)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".xlsx", dir=target.parent
    )
    os.close(handle)
    try:
        with pd.ExcelWriter(temporary, engine="openpyxl") as writer:
            for name, table in tables.items():
                safe_frame(table).to_excel(writer, sheet_name=name, index=False)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
