"""Plain-text and HTML renderings of (label, value) facts, for summaries and notebooks."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

__all__ = ["facts_html", "facts_text"]


def facts_text(facts: Sequence[tuple[str, str]]) -> str:
    """``label: value`` lines.

    Examples
    --------
    >>> print(facts_text([("status", "optimal"), ("matched", "60 residents")]))
    status: optimal
    matched: 60 residents
    """
    return "\n".join(f"{label}: {value}" for label, value in facts)


def facts_html(facts: Sequence[tuple[str, str]], css_class: str) -> str:
    """A two-column HTML table, every label and value escaped.

    Examples
    --------
    >>> "&lt;b&gt;" in facts_html([("name", "<b>")], "demo")
    True
    """
    rows = "".join(
        f"<tr><th style='text-align:left'>{escape(label)}</th>"
        f"<td style='text-align:left'>{escape(value)}</td></tr>"
        for label, value in facts
    )
    return f"<table class='{css_class}'>{rows}</table>"
