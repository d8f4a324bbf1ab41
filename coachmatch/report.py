"""``report.html``: one self-contained page a program director can read (SPEC §6).

Headline figures, the caseload, affinity and travel distributions, meetings per week
across the year, every pair with its reason, and every warning. Plots are inline SVG
drawn with matplotlib (no pyplot state, fixed hash salt and no date in the metadata,
so the same run draws the same bytes); the page loads nothing from the network.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from coachmatch.constraints.r5_requests import required as required_pairs
from coachmatch.explaining import FAR_BELOW
from coachmatch.models import Program
from coachmatch.plotting import plot_affinity, plot_caseloads, plot_meetings, plot_travel
from coachmatch.plotting._axes import inline_svg
from coachmatch.results import Matching, Schedule

__all__ = ["FAR_BELOW", "headline", "report_html", "warnings"]


def headline(program: Program, matching: Matching, plan: Schedule) -> dict[str, str]:
    """The headline figures, as the report shows them.

    Examples
    --------
    >>> import coachmatch
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> matching = coachmatch.match(program)
    >>> headline(program, matching, coachmatch.schedule(program, matching))["Residents"]
    '60'
    """
    pairs = matching.pairs
    affinity = pairs["affinity"].to_numpy() if len(pairs) else np.zeros(0)
    smallest = matching.levels.get("min_affinity")
    bound = plan.travel_lower_bound
    if bound is None:
        floor = "–"
    elif bound:
        floor = f"{bound:,} ({plan.travel_total / bound:.3f}×)"
    else:
        floor = "0"
    return {
        "Residents": f"{sum(r.active for r in program.residents)}",
        "Coaches": f"{sum(c.active for c in program.coaches)}",
        "Pairs": f"{len(pairs)}",
        "Kept pairs": f"{int(pairs['kept'].sum()) if len(pairs) else 0}",
        "Unmatched": f"{len(matching.unmatched)}",
        "Affinity min / mean": (
            f"{'–' if smallest is None else smallest} / {affinity.mean():.1f}"
            if len(affinity)
            else "–"
        ),
        "Answered the survey": f"{matching.respondents}",
        "Pairs planned": f"{plan.pairs_asked - len(plan.unplanned)} of {plan.pairs_asked}",
        "Meetings": f"{len(plan.scheduled)}",
        "Travel (min)": f"{plan.travel_total:,}",
        "Travel lower bound": floor,
    }


def _drawn(plot: Callable[..., Any], result: Any, **options: Any) -> str:
    """One of :mod:`coachmatch.plotting`'s figures as inline SVG (no pyplot state)."""
    return inline_svg(plot, result, **options)


def warnings(
    program: Program,
    matching: Matching,
    plan: Schedule,
    rounds: Sequence[str] = (),
    notes: Sequence[str] = (),
) -> list[str]:
    """Everything a program director must know is not as it should be, as sentences.

    Unmatched residents; pairs left without meetings, with their reasons; residents
    who answered no survey; pairs made although they cannot meet (``must_meet =
    false``); kept pairs far below the resident's best allowed coach (continuity
    outranked fit); a schedule not proven best; re-planning changes; recusals; and the
    batch run's own ``notes`` (people who left, invitations that could not be made).
    Empty only when none of these exists.

    Examples
    --------
    >>> import coachmatch
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> matching = coachmatch.match(program)
    >>> notes = warnings(program, matching, coachmatch.schedule(program, matching))
    >>> any("answered no survey" in note for note in notes)
    True
    """
    found = matching.warnings()
    found += plan.warnings(rounds=len(rounds))
    return found + list(notes)


def _reason(row: Mapping[Any, Any], program: Program, required: set[tuple[str, str]]) -> str:
    resident = program.residents[program.index.resident[row["resident_id"]]]
    pair = (row["resident_id"], row["coach_id"])
    if row["kept"]:
        why = "continues with their current coach"
    elif pair in required:
        why = "required by a request"
    elif resident.current_coach_id:
        why = f"new coach; current coach {resident.current_coach_id} not kept"
    else:
        why = "new pair"
    return f"{why}; affinity {row['affinity']}"


def _table(frame: pd.DataFrame, element_id: str) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f'<table id="{element_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;
max-width:60rem;color:#1d2733;line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;
border-bottom:1px solid #d8dee6}
.sub{color:#56657a;margin-top:0}
#headline{display:grid;grid-template-columns:repeat(auto-fill,minmax(11rem,1fr));gap:.8rem;
margin:1.2rem 0}
#headline div{background:#f3f6fa;border-radius:6px;padding:.6rem .8rem}
#headline dt{font-size:.8rem;color:#56657a}#headline dd{margin:0;font-size:1.25rem;
font-weight:600}
table{border-collapse:collapse;width:100%;font-size:.85rem}
th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #e6eaf0}
th{background:#f3f6fa;position:sticky;top:0}
.warning{background:#fff4e0;border-left:4px solid #e0a030;padding:.4rem .8rem;margin:.3rem 0}
figure{margin:1rem 0}svg{max-width:100%;height:auto}
"""

_SCRIPT = """
window.addEventListener("error", function () { document.body.dataset.errors = "yes"; });
window.addEventListener("load", function () {
  var ok = document.querySelectorAll("figure svg").length === 4 &&
           document.getElementById("headline") !== null;
  document.body.dataset.ready = ok ? "yes" : "incomplete";
});
"""


def report_html(
    program: Program,
    matching: Matching,
    plan: Schedule,
    *,
    title_note: str = "",
    rounds: Sequence[str] = (),
    notes: Sequence[str] = (),
) -> str:
    """The report page as text (UTF-8 HTML, self-contained).

    Parameters
    ----------
    program, matching, plan
        The run's inputs and results.
    title_note : str
        A line under the title (for example the as-of date).
    rounds : sequence of str
        The batch run's re-matching rounds, a sentence each.
    notes : sequence of str
        More warnings from the batch run (people who left, invitations not made).

    Examples
    --------
    >>> import coachmatch
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> matching = coachmatch.match(program)
    >>> page = report_html(program, matching, coachmatch.schedule(program, matching))
    >>> page.startswith("<!DOCTYPE html>"), "http" in page.split("<body")[0]
    (True, False)
    """
    figures = headline(program, matching, plan)
    cards = "".join(
        f'<div><dt>{html.escape(k)}</dt><dd data-figure="{html.escape(k)}">'
        f"{html.escape(v)}</dd></div>"
        for k, v in figures.items()
    )
    caseload_svg = _drawn(plot_caseloads, matching)
    affinity_svg = _drawn(plot_affinity, matching)
    travel_svg = _drawn(plot_travel, plan)
    weekly_svg = _drawn(plot_meetings, plan, per="week")
    required = set(required_pairs(program))
    # each pair's planned meetings and travel, looked up in a dict (not a frame per row)
    per_pair = {
        (r, c): (int(meetings), int(travel))
        for r, c, meetings, travel in plan.per_pair()[
            ["resident_id", "coach_id", "meetings", "travel_minutes"]
        ].itertuples(index=False, name=None)
    }
    names = {r.resident_id: r.name for r in program.residents}
    coach_names = {c.coach_id: c.name for c in program.coaches}
    unplanned = {(r, c): why for r, c, why in plan.unplanned.itertuples(index=False, name=None)}
    rows = []
    for row in matching.pairs.to_dict("records"):
        key = (row["resident_id"], row["coach_id"])
        meetings, travel = per_pair.get(key, (0, 0))
        why = _reason(row, program, required)
        if key in unplanned:
            why += f"; not planned: {unplanned[key]}"
        rows.append(
            {
                "Resident": f"{row['resident_id']} {names[row['resident_id']]}",
                "Coach": f"{row['coach_id']} {coach_names[row['coach_id']]}",
                "Affinity": row["affinity"],
                "Meetings": meetings,
                "Travel (min)": travel,
                "Reason": why,
            }
        )
    listed = warnings(program, matching, plan, rounds, notes)
    warning_html = "".join(f'<p class="warning">{html.escape(w)}</p>' for w in listed) or (
        "<p>None: every active resident has a coach, every pair has a full year of "
        "meetings, everyone answered the survey and no kept pair is far below its best fit.</p>"
    )
    rounds_html = "".join(f"<li>{html.escape(r)}</li>" for r in rounds)
    rounds_html = f'<h2>Re-matching</h2><ol id="rounds">{rounds_html}</ol>' if rounds_html else ""
    note = f'<p class="sub">{html.escape(title_note)}</p>' if title_note else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(program.name)}: coaching report</title>
<style>{_STYLE}</style>
<script>{_SCRIPT}</script>
</head>
<body>
<h1>{html.escape(program.name)}: coaching report</h1>
<p class="sub">Horizon {program.start} to {program.end}; matching {matching.status},
schedule {plan.status}.</p>
{note}
<dl id="headline">{cards}</dl>
<h2>Warnings</h2>
<div id="warnings">{warning_html}</div>
{rounds_html}
<h2>Caseloads and fit</h2>
<figure id="caseloads">{caseload_svg}</figure>
<figure id="affinity">{affinity_svg}</figure>
<h2>Meetings and travel</h2>
<figure id="travel">{travel_svg}</figure>
<figure id="weekly">{weekly_svg}</figure>
<h2>Pairs</h2>
{_table(pd.DataFrame(rows), "pairs")}
</body>
</html>
"""
