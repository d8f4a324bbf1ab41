"""Meetings across the year, in the program's local time."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from coachmatch.plotting._axes import axes, bars
from coachmatch.results import Schedule


def plot_meetings(
    schedule: Schedule, ax: Any = None, *, per: Literal["month", "week"] = "month"
) -> Any:
    """Bars: meetings held (not cancelled) per month or per week of the horizon.

    Months and weeks are those of the program's time zone (a meeting at 20:00 on
    31 January in Toronto counts in January).

    Parameters
    ----------
    schedule : Schedule
    ax : matplotlib.axes.Axes, optional
    per : {"month", "week"}, default "month"

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import coachmatch
    >>> from matplotlib.figure import Figure
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> plan = coachmatch.schedule(program, coachmatch.match(program))
    >>> ax = plot_meetings(plan, ax=Figure().subplots())
    >>> int(sum(p.get_height() for p in ax.patches)) == len(plan.scheduled)
    True
    """
    if per not in ("month", "week"):
        raise ValueError(f"The 'per' parameter must be 'month' or 'week'. Got {per!r} instead.")
    program = schedule.program
    days = schedule.scheduled["start"].map(lambda t: t.tz_convert(program.timezone).date())
    start = pd.Timestamp(program.start)
    if per == "week":
        edges = pd.date_range(
            start - pd.Timedelta(days=program.start.weekday()), pd.Timestamp(program.end), freq="7D"
        )
        labels = [w.strftime("%b %d") for w in edges]
        title, xlabel = "Meetings per week", "week starting"
    else:
        edges = pd.date_range(start.replace(day=1), pd.Timestamp(program.end), freq="MS")
        labels = [m.strftime("%b %Y") for m in edges]
        title, xlabel = "Meetings per month", "month"
    slot = np.searchsorted(edges.date, days.to_numpy(), side="right") - 1
    counts = np.bincount(slot, minlength=len(edges)) if len(days) else np.zeros(len(edges))
    return bars(axes(ax), labels, counts.tolist(), title, xlabel, "meetings")
