"""How many coaches have each caseload."""

from __future__ import annotations

from typing import Any

from coachmatch.plotting._axes import axes, bars
from coachmatch.results import Matching


def plot_caseloads(matching: Matching, ax: Any = None) -> Any:
    """Bars: how many active coaches have 0, 1, 2, ... coachees.

    Parameters
    ----------
    matching : Matching
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure's axes when omitted.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import coachmatch
    >>> from matplotlib.figure import Figure
    >>> from coachmatch.datasets import synthetic
    >>> ax = plot_caseloads(coachmatch.match(synthetic("small")), ax=Figure().subplots())
    >>> ax.get_xlabel()
    'coachees per coach'
    """
    loads = matching.caseloads["caseload"]
    top = int(loads.max()) if len(loads) else 0
    counts = loads.value_counts()
    return bars(
        axes(ax),
        list(range(top + 1)),
        [int(counts.get(k, 0)) for k in range(top + 1)],
        "Caseload distribution",
        "coachees per coach",
        "coaches",
    )
