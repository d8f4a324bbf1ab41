"""What the plot functions share: an axes to draw on, and bars drawn one way."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

#: the report's and the notebooks' one colour
COLOUR = "#3b6ea5"


def axes(ax: Any, size: tuple[float, float] = (6.4, 2.6)) -> Any:
    """``ax``, or the axes of a new pyplot figure (notebooks show it)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(figsize=size)
    return new


def bars(
    ax: Any,
    labels: Sequence[Any],
    values: Sequence[float],
    title: str,
    xlabel: str,
    ylabel: str,
) -> Any:
    """Vertical bars with at most about nine tick labels."""
    positions = np.arange(len(labels))
    ax.bar(positions, values, color=COLOUR, width=0.8)
    step = max(1, -(-len(labels) // 9))
    ax.set_xticks(positions[::step], [str(x) for x in labels][::step])
    ax.set_title(title, loc="left", fontsize=11)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def inline_svg(
    plot: Callable[..., Any], result: Any, size: tuple[float, float] = (6.4, 2.6), **options: Any
) -> str:
    """One plot as inline SVG text, drawn without pyplot state; the same result draws
    the same bytes (fixed hash salt, no date in the metadata)."""
    import matplotlib
    from matplotlib.figure import Figure

    figure = Figure(figsize=size)
    plot(result, ax=figure.subplots(), **options)
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "coachmatch", "svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg") :]
