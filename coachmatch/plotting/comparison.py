"""Scenarios side by side on one figure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from coachmatch._display import did_you_mean
from coachmatch.plotting._axes import COLOUR, axes

if TYPE_CHECKING:
    from coachmatch.scenarios import Comparison


def plot_comparison(comparison: Comparison, column: str = "min_affinity", ax: Any = None) -> Any:
    """Horizontal bars: one column of a :class:`~coachmatch.Comparison`, per scenario.

    Scenarios with no matching (infeasible) show no bar and say so in their label.

    Parameters
    ----------
    comparison : Comparison
    column : str, default "min_affinity"
        Any numeric column of ``comparison.table``.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import coachmatch
    >>> from matplotlib.figure import Figure
    >>> from coachmatch.datasets import synthetic
    >>> from coachmatch.scenarios import InlineExecutor
    >>> both = coachmatch.compare(synthetic("small"),
    ...     [coachmatch.Scenario("caps 5", lambda p: p.with_caps(5))], executor=InlineExecutor())
    >>> plot_comparison(both, "kept", ax=Figure().subplots()).get_xlabel()
    'kept'
    """
    table = comparison.table
    if column not in table.columns:
        known = [str(c) for c in table.columns]
        raise KeyError(f"no column {column!r} in the comparison" + did_you_mean(column, known))
    ax = axes(ax, size=(6.4, 0.45 * len(table) + 1))
    values = pd.to_numeric(table[column]).astype("Float64").to_numpy(dtype=float, na_value=0.0)
    labels = [
        f"{name} (infeasible)" if status == "infeasible" else str(name)
        for name, status in zip(table.index, table["status"], strict=True)
    ]
    positions = list(range(len(table)))[::-1]
    ax.barh(positions, values, color=COLOUR)
    ax.set_yticks(positions, labels)
    ax.set_xlabel(column)
    ax.set_title(f"{column} by scenario", loc="left", fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    return ax
