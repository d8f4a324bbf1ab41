"""The distribution of the pairs' affinity."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from coachmatch.plotting._axes import axes, bars
from coachmatch.results import Matching


def plot_affinity(matching: Matching, ax: Any = None, *, respondents_only: bool = False) -> Any:
    """Bars: residents per affinity band (0-10, 10-20, ..., 90-100).

    Parameters
    ----------
    matching : Matching
    ax : matplotlib.axes.Axes, optional
    respondents_only : bool, default False
        Only residents who answered the survey (those O2 is about).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import coachmatch
    >>> from matplotlib.figure import Figure
    >>> from coachmatch.datasets import synthetic
    >>> ax = plot_affinity(coachmatch.match(synthetic("small")), ax=Figure().subplots())
    >>> int(sum(p.get_height() for p in ax.patches))
    60
    """
    pairs = matching.pairs
    if respondents_only:
        pairs = pairs[pairs["resident_id"].isin(matching.program.respondents())]
    counts, edges = np.histogram(
        pairs["affinity"].to_numpy(dtype=float), bins=np.arange(0, 101, 10)
    )
    labels = [f"{int(a)}–{int(b)}" for a, b in itertools.pairwise(edges)]
    return bars(
        axes(ax),
        labels,
        counts.tolist(),
        "Affinity of each pair" + (" (survey respondents)" if respondents_only else ""),
        "affinity (0–100)",
        "residents",
    )
