"""Plain-text and HTML renderings of (label, value) facts, for summaries and notebooks."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

__all__ = ["counted", "did_you_mean", "facts_html", "facts_text", "listed"]


def counted(n: int, noun: str) -> str:
    """``n`` and the noun, plural when it is not 1.

    Examples
    --------
    >>> counted(1, "coach"), counted(3, "coach"), counted(0, "resident")
    ('1 coach', '3 coaches', '0 residents')
    """
    if n == 1:
        return f"{n} {noun}"
    return f"{n} {noun}{'es' if noun.endswith('ch') else 's'}"


def listed(ids: Sequence[str], limit: int = 8) -> str:
    """The first ``limit`` ids, then how many more.

    Examples
    --------
    >>> listed(["a", "b", "c"], limit=2)
    'a, b and 1 more'
    """
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def did_you_mean(value: str, known: Sequence[str]) -> str:
    """``"; did you mean 'x'?"`` with the known value most like ``value``, or ``""``.

    Examples
    --------
    >>> did_you_mean("C01", ["C1", "R9"]), did_you_mean("zzz", ["C1"])
    ("; did you mean 'C1'?", '')
    """
    import difflib

    close = difflib.get_close_matches(str(value), list(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


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
