"""Travel over the year, per resident or per site."""

from __future__ import annotations

import itertools
from typing import Any, Literal

import numpy as np

from coachmatch.plotting._axes import axes, bars
from coachmatch.results import Schedule


def plot_travel(
    schedule: Schedule, ax: Any = None, *, by: Literal["resident", "site"] = "resident"
) -> Any:
    """Travel minutes over the year.

    Parameters
    ----------
    schedule : Schedule
    ax : matplotlib.axes.Axes, optional
    by : {"resident", "site"}, default "resident"
        ``"resident"``: a histogram of each resident's yearly travel.
        ``"site"``: the total travel to meetings held at each site.

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
    >>> plot_travel(plan, ax=Figure().subplots(), by="site").get_ylabel()
    'minutes'
    """
    if by not in ("resident", "site"):
        raise ValueError(f"The 'by' parameter must be 'resident' or 'site'. Got {by!r} instead.")
    scheduled = schedule.scheduled
    ax = axes(ax)
    if by == "site":
        per_site = scheduled.groupby("site_id", sort=True)["travel_minutes"].sum()
        return bars(
            ax,
            per_site.index.tolist(),
            per_site.tolist(),
            "Travel to meetings at each site",
            "site",
            "minutes",
        )
    per_resident = scheduled.groupby("resident_id")["travel_minutes"].sum()
    most = max(int(per_resident.max()) if len(per_resident) else 0, 1)
    step = max(10, int(np.ceil(most / 10 / 10.0)) * 10)
    counts, edges = np.histogram(
        per_resident.to_numpy(dtype=float), bins=np.arange(0, most + step + 1, step)
    )
    labels = [f"{int(a)}–{int(b)}" for a, b in itertools.pairwise(edges)]
    return bars(
        ax, labels, counts.tolist(), "Travel per resident over the year", "minutes", "residents"
    )
