"""Results: :class:`Matching` (SPEC §4) as DataFrames, explanations and summaries."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from html import escape

import pandas as pd

from coachmatch._display import facts_html, facts_text, listed
from coachmatch.affinity import explain_affinity
from coachmatch.constraints import exclusions
from coachmatch.models import Program

__all__ = ["LEVELS", "Matching", "PruningProof", "Schedule"]

#: objective levels of SPEC §4, in priority order
LEVELS = ("continuity", "min_affinity", "total_affinity", "sum_sq_caseload")


@dataclass(frozen=True)
class PruningProof:
    """How an exact solve on a pruned arc set was proven optimal on all arcs.

    Attributes
    ----------
    arcs : int
        Allowed pairs open to the solve (the full problem). On the pool path, where R7
        is judged only for the pairs the proof needs, the pairs R2-R6 allow less those
        R7 was seen to rule out: the proof covers them all, a superset.
    solved_on : int
        Pairs in the pruned network of the solve that was proven.
    k : int
        Each resident's and each coach's best pairs kept at that solve.
    attempts : int
        Pruned solves run (an infeasible or unproven one grows the set).
    checked : int
        Pairs outside the last solve whose reduced cost the proof checked: all
        non-negative when ``gap`` is 0; else each beyond the gap (an empty pair above
        it, or a matched pair below its negative), so no optimum changes it.
    gap : int
        0 when the last pruned solve left out no pair of negative reduced cost. Else
        the sum of those costs' magnitudes: the last solve then ran on the pairs (and
        network arcs) whose reduced cost lies within this gap of 0, and ``solved_on``
        counts those pairs; a pair further from it cannot change its flow in any
        optimum (reduced-cost fixing, :mod:`coachmatch.solver.pruning`).
    """

    arcs: int
    solved_on: int
    k: int
    attempts: int
    checked: int
    gap: int = 0


@dataclass(frozen=True)
class Matching:
    """A coach for every resident, the objective levels reached and how sure they are.

    Attributes
    ----------
    status : {"optimal", "feasible"}
        ``"optimal"`` when every optimized level is proven optimal; otherwise
        ``bound`` holds the best bound of each unproven level.
    levels : dict
        ``continuity`` (residents keeping their current coach), ``min_affinity``
        (smallest affinity of a matched resident who answered the survey; SPEC 1.1),
        ``total_affinity`` and ``sum_sq_caseload``; None where there is nothing to
        measure.
    optimized : tuple of str
        The levels the policy asked to optimize, in priority order.
    pairs : pandas.DataFrame
        resident_id, coach_id, resident_name, coach_name, site_id (the coach's home
        site), affinity, kept, best_affinity (the highest affinity among the
        resident's allowed coaches) — one row per matched resident, in the program's
        resident order.
    caseloads : pandas.DataFrame
        coach_id, coach_name, site_id, caseload, capacity, min_load for every active
        coach.
    recusals : pandas.DataFrame
        resident_id, coach_id, panel_id: coaches who recuse from their coachee's
        decision (``not_own_decision = "recuse"``).
    unmatched : pandas.DataFrame
        resident_id, reason (only with ``allow_unmatched``).
    method : str
        ``"flow"`` or ``"cpsat"``.
    runtime : float
        Wall-clock seconds.
    cannot_meet : pandas.DataFrame
        resident_id, coach_id, reason: pairs made although, alone, they have no
        meeting plan (only with ``must_meet = false``; SPEC 1.1 R7).
    respondents : int
        Active residents who answered the survey (or have a program affinity);
        ``min_affinity`` (O2) is the smallest affinity among them.
    as_of : datetime.date or None
        A re-plan's date, from which R7 judged the pairs.
    proof : PruningProof or None
        When the flow path solved on a pruned set of pairs (large pools): how many, and
        that reduced costs proved the answer optimal on every allowed pair; None when
        it solved on all of them.
    """

    program: Program = field(repr=False)
    status: str
    levels: dict[str, int | None]
    optimized: tuple[str, ...]
    pairs: pd.DataFrame = field(repr=False)
    caseloads: pd.DataFrame = field(repr=False)
    recusals: pd.DataFrame = field(repr=False)
    unmatched: pd.DataFrame = field(repr=False)
    method: str
    runtime: float
    bound: dict[str, float] = field(default_factory=dict)
    cannot_meet: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["resident_id", "coach_id", "reason"]),
        repr=False,
    )
    respondents: int = 0
    as_of: date | None = None
    proof: PruningProof | None = None

    def to_frame(self) -> pd.DataFrame:
        """The pairs (a copy)."""
        return self.pairs.copy()

    def coach_of(self, resident_id: str) -> str | None:
        """The resident's coach, or None when unmatched."""
        rows = self.pairs.loc[self.pairs["resident_id"] == resident_id, "coach_id"]
        return str(rows.iloc[0]) if len(rows) else None

    def summary(self) -> str:
        """A short plain-text summary: status, levels and counts."""
        return facts_text(self._facts())

    def _facts(self) -> list[tuple[str, str]]:
        n = len(self.pairs)
        kept = int(self.pairs["kept"].sum()) if n else 0
        mean = f"{self.pairs['affinity'].mean():.1f}" if n else "-"
        loads = self.caseloads["caseload"]
        facts = [
            ("status", self.status + self._bounds()),
            ("method", f"{self.method}, {self.runtime:.2f} s" + self._proof()),
            (
                "matched",
                f"{n} residents with {int((loads > 0).sum())} of {len(loads)} coaches"
                + (f"; {len(self.unmatched)} unmatched" if len(self.unmatched) else ""),
            ),
            ("continuity", f"{kept} kept their current coach"),
            ("affinity", self._affinity_fact(mean)),
            (
                "caseloads",
                ", ".join(f"{k}: {v}" for k, v in sorted(loads.value_counts().items()))
                + " (caseload: coaches)",
            ),
            ("sum of squared caseloads", str(self.levels["sum_sq_caseload"])),
        ]
        if len(self.recusals):
            facts.append(("recusals", str(len(self.recusals))))
        if len(self.cannot_meet):
            facts.append(
                (
                    "cannot meet",
                    f"{len(self.cannot_meet)} pairs have no meeting plan even alone "
                    "(allowed by must_meet = false)",
                )
            )
        return facts

    def _affinity_fact(self, mean: str) -> str:
        active = sum(r.active for r in self.program.residents)
        silent = active - self.respondents
        smallest = self.levels["min_affinity"]
        if self.respondents == 0:
            low = "min - (nobody answered the survey)"
        else:
            low = f"min {smallest} among the {self.respondents} who answered the survey"
            if silent:
                low += f" ({silent} answered none)"
        return f"{low}, mean {mean}, total {self.levels['total_affinity']}"

    def _proof(self) -> str:
        if self.proof is None:
            return ""
        return (
            f"; solved on {self.proof.solved_on:,} of {self.proof.arcs:,} pairs the rules "
            "leave open, "
            "proven optimal on all of them by reduced costs"
        )

    def _bounds(self) -> str:
        """``" (total_affinity <= 187400; min_affinity not proven)"``, or ``""``."""
        parts = []
        for level, bound in self.bound.items():
            if math.isnan(bound):
                parts.append(f"{level} not proven")
            else:
                parts.append(f"{level} {'>=' if level == 'sum_sq_caseload' else '<='} {bound:g}")
        return f" ({'; '.join(parts)})" if parts else ""

    def explain(self, resident_id: str) -> str:
        """Why this resident has this coach: the fit, kept or new, and every other coach.

        For each other active coach: the rule that excludes them, or how their fit
        compares and whether they are full.

        Examples
        --------
        >>> import coachmatch
        >>> from coachmatch.datasets import synthetic
        >>> matching = coachmatch.match(synthetic("small"))
        >>> print(matching.explain("R0001"))  # doctest: +ELLIPSIS
        R0001 ... is coached by C...
        """
        program = self.program
        frame = self.explain_frame(resident_id)
        resident = program.residents[program.index.resident[resident_id]]
        coach_id = self.coach_of(resident_id)
        lines = []
        if coach_id is None:
            why = self.unmatched.loc[self.unmatched["resident_id"] == resident_id, "reason"]
            lines.append(
                f"{resident_id} ({resident.name}) is unmatched: "
                + (str(why.iloc[0]) if len(why) else "inactive")
            )
            mine = None
        else:
            kept = resident.current_coach_id == coach_id
            fit = explain_affinity(program, resident_id, coach_id)
            lines.append(
                f"{resident_id} ({resident.name}) is coached by {coach_id} "
                f"({'kept, current coach' if kept else 'new'}); {fit}"
            )
            if resident.current_coach_id and not kept:
                lines.append(
                    f"current coach {resident.current_coach_id} is not kept: "
                    + (
                        "; ".join(
                            exclusions(
                                program, resident_id, resident.current_coach_id, as_of=self.as_of
                            )
                        )
                        or "keeping them would lower a higher-priority level"
                    )
                )
            mine = fit.affinity
        rows = {str(row["coach_id"]): row for row in frame.to_dict("records")}
        for coach in program.coaches:
            row = rows[coach.coach_id]
            if not coach.active or row["chosen"]:
                continue
            if row["reason"]:
                lines.append(f"  {coach.coach_id}: excluded — {row['reason']}")
                continue
            score = int(row["affinity"])
            compare = ""
            if mine is not None:
                compare = (
                    f", {mine - score} lower"
                    if score < mine
                    else f", {score - mine} higher"
                    if score > mine
                    else ", equal"
                )
            full = " (full)" if row["full"] else ""
            lines.append(f"  {coach.coach_id}: allowed, affinity {score}{compare}{full}")
        return "\n".join(lines)

    def explain_frame(self, resident_id: str) -> pd.DataFrame:
        """Every coach for one resident as a table: allowed or the rule that excludes
        them, affinity with its question-by-question similarities, caseload
        (see :func:`coachmatch.explaining.explain_frame`).

        Examples
        --------
        >>> import coachmatch
        >>> from coachmatch.datasets import synthetic
        >>> frame = coachmatch.match(synthetic("small")).explain_frame("R0001")
        >>> list(frame.columns[:5])
        ['coach_id', 'coach_name', 'site_id', 'chosen', 'allowed']
        """
        from coachmatch.explaining import explain_frame

        return explain_frame(self, resident_id)

    def low_fit(self, *, below: int = 25) -> pd.DataFrame:
        """Residents far below their best allowed coach (or who answered no survey
        question), with the cause (see :func:`coachmatch.explaining.low_fit`).

        Examples
        --------
        >>> import coachmatch
        >>> from coachmatch.datasets import synthetic
        >>> table = coachmatch.match(synthetic("small")).low_fit()
        >>> set(table["cause"].str.len() > 0)  # doctest: +ELLIPSIS
        {...}
        """
        from coachmatch.explaining import low_fit

        return low_fit(self, below=below)

    def diff(self, before: Matching) -> pd.DataFrame:
        """Who moved from ``before`` to this matching, from whom to whom, and why
        (see :func:`coachmatch.rematching.diff`).

        Examples
        --------
        >>> import coachmatch
        >>> from coachmatch.datasets import synthetic
        >>> program = synthetic("small")
        >>> first = coachmatch.match(program)
        >>> len(first.diff(first))
        0
        """
        from coachmatch.rematching import diff

        return diff(before, self)

    def warnings(self) -> list[str]:
        """What a program director must know about this matching, as sentences:
        unmatched residents, residents who answered no survey, pairs made although
        they cannot meet, kept pairs far below the resident's best allowed coach, and
        recusals. Empty only when none of these exists.

        Examples
        --------
        >>> import coachmatch
        >>> from coachmatch.datasets import synthetic
        >>> notes = coachmatch.match(synthetic("small")).warnings()
        >>> any("answered no survey" in note for note in notes)
        True
        """
        from coachmatch.explaining import FAR_BELOW

        program = self.program
        found = [f"{r} is unmatched: {why}" for r, why in self.unmatched.itertuples(index=False)]
        active = [r.resident_id for r in program.residents if r.active]
        answered = program.respondents()
        silent = [r for r in active if r not in answered]
        if silent:
            found.append(
                f"{len(silent)} active residents answered no survey question ({listed(silent)}): "
                "their affinity is 0 with every coach, and fairness (O2) leaves them out."
            )
        for r, c, why in self.cannot_meet.itertuples(index=False, name=None):
            found.append(f"{r} and {c} are paired only because must_meet = false: {why}")
        pairs = self.pairs
        if len(pairs):
            far = pairs[pairs["kept"] & (pairs["best_affinity"] - pairs["affinity"] >= FAR_BELOW)]
            for r, c, score, best in far[
                ["resident_id", "coach_id", "affinity", "best_affinity"]
            ].itertuples(index=False, name=None):
                found.append(
                    f"{r} keeps their current coach {c} at affinity {score}, although an "
                    f"allowed coach would fit at {best}: continuity (O1) outranks fit."
                )
        if len(self.recusals):
            found.append(
                f"{len(self.recusals)} coaches must recuse from their coachee's committee "
                "decision (recusals.csv)."
            )
        return found

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        kept = int(self.pairs["kept"].sum()) if len(self.pairs) else 0
        return (
            f"<Matching {self.status}: {len(self.pairs)} residents matched, "
            f"{len(self.unmatched)} unmatched, {kept} kept, "
            f"min_affinity={self.levels['min_affinity']}, "
            f"total_affinity={self.levels['total_affinity']}, "
            f"{len(self.warnings())} warnings>"
        )

    def _repr_html_(self) -> str:
        from coachmatch.plotting import plot_caseloads
        from coachmatch.plotting._axes import inline_svg

        figure = inline_svg(plot_caseloads, self, size=(4.8, 1.9))
        return (
            facts_html(self._facts(), "coachmatch-matching")
            + _warnings_html(self.warnings())
            + f"<div style='max-width:30rem'>{figure}</div>"
        )


@dataclass(frozen=True)
class Schedule:
    """A year of coaching meetings (SPEC §5) and how good it is.

    Attributes
    ----------
    meetings : pandas.DataFrame
        meeting_id, sequence, resident_id, coach_id, start, end (time-zone-aware, the
        program's zone), site_id or ``"virtual"``, travel_minutes, status; in time order.
    status : {"optimal", "feasible", "partial"}
        ``"partial"`` when some pair is left without meetings (see ``unplanned``);
        otherwise ``"optimal"`` when every coach's plan is proven to have the least
        travel, else ``"feasible"``.
    travel_total : int
        Minutes of travel over all meetings.
    travel_lower_bound : int or None
        No plan of the planned pairs can travel less: each coach's proven optimum where
        the coach's plan is proven (equal to its travel), else its pairs' own least
        travel; summed, plus the travel of meetings already held in a re-plan (where
        the pairs' own least travel is used throughout).
    problems : list of str
        The reasons in ``unplanned``, as sentences.
    unplanned : pandas.DataFrame
        resident_id, coach_id, reason: every pair left without meetings (SPEC 1.1:
        never silently), with dates and causes.
    runtime : float
        Wall-clock seconds.
    starts, ends : dict of (resident_id, coach_id) to date
        Start dates of pairs made during the horizon and last dates of pairs that
        ended during it (re-planning); pass them to :func:`coachmatch.audit_schedule`.
    changes : dict of str to int, or None
        For a re-plan, how many later meetings were kept, moved, new and cancelled.
    """

    program: Program = field(repr=False)
    meetings: pd.DataFrame = field(repr=False)
    status: str
    travel_total: int
    travel_lower_bound: int | None
    problems: list[str]
    runtime: float
    starts: dict[tuple[str, str], date] = field(default_factory=dict)
    ends: dict[tuple[str, str], date] = field(default_factory=dict)
    changes: dict[str, int] | None = None
    unplanned: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["resident_id", "coach_id", "reason"]),
        repr=False,
    )
    #: the pairs of the matching that were to be planned
    pairs_asked: int = 0
    #: ids of the meetings this run added, moved or cancelled (every meeting on a first
    #: run; none on a re-plan that changed nothing): what invitations must announce
    changed: frozenset[str] = frozenset()

    @property
    def scheduled(self) -> pd.DataFrame:
        """The meetings that take place (not cancelled)."""
        return self.meetings[self.meetings["status"] != "cancelled"]

    def per_pair(self) -> pd.DataFrame:
        """Meetings, virtual meetings and travel per pair (cancelled ones left out),
        with both names."""
        frame = self.scheduled.assign(virtual=self.scheduled["site_id"] == "virtual")
        table = (
            frame.groupby(["resident_id", "coach_id"], sort=True)
            .agg(
                meetings=("meeting_id", "size"),
                virtual=("virtual", "sum"),
                travel_minutes=("travel_minutes", "sum"),
                first=("start", "min"),
                last=("start", "max"),
            )
            .reset_index()
        )
        residents = {r.resident_id: r.name for r in self.program.residents}
        coaches = {c.coach_id: c.name for c in self.program.coaches}
        table.insert(2, "resident_name", table["resident_id"].map(residents))
        table.insert(3, "coach_name", table["coach_id"].map(coaches))
        return table

    def per_coach(self) -> pd.DataFrame:
        """Coachees, meetings and travel per coach (cancelled meetings left out), with
        the coach's name and home site."""
        table = (
            self.scheduled.groupby("coach_id", sort=True)
            .agg(
                coachees=("resident_id", "nunique"),
                meetings=("meeting_id", "size"),
                travel_minutes=("travel_minutes", "sum"),
            )
            .reset_index()
        )
        coaches = {c.coach_id: c for c in self.program.coaches}
        table.insert(1, "coach_name", [coaches[c].name for c in table["coach_id"]])
        table.insert(2, "site_id", [coaches[c].site_id for c in table["coach_id"]])
        return table

    def summary(self) -> str:
        """A short plain-text summary."""
        return facts_text(self._facts())

    def _facts(self) -> list[tuple[str, str]]:
        m = self.scheduled
        pairs = m.groupby(["resident_id", "coach_id"]).ngroups if len(m) else 0
        virtual = int((m["site_id"] == "virtual").sum()) if len(m) else 0
        left = len(self.unplanned)
        facts = [
            ("status", self.status),
            ("runtime", f"{self.runtime:.2f} s"),
            (
                "pairs",
                f"{self.pairs_asked - left} of {self.pairs_asked} planned"
                + (f", {left} not planned (reasons below)" if left else ""),
            ),
            ("meetings", f"{len(m)} for {pairs} pairs ({virtual} virtual)"),
            ("travel", f"{self.travel_total} minutes in all" + self._bound()),
        ]
        if self.changes is not None:
            facts.append(
                ("re-planned", ", ".join(f"{n} {what}" for what, n in self.changes.items()))
            )
        if self.problems:
            listed = "".join(f"\n  - {why}" for why in self.problems)
            facts.append(("not planned", f"{len(self.problems)} pairs:{listed}"))
        return facts

    def _bound(self) -> str:
        if self.travel_lower_bound is None:
            return ""
        if self.travel_lower_bound == 0:
            return " (lower bound 0)"
        ratio = self.travel_total / self.travel_lower_bound
        return f" (lower bound {self.travel_lower_bound}, {ratio:.3f}× the bound)"

    def explain(self, meeting_id: str) -> str:
        """Why this meeting is when and where it is.

        Examples
        --------
        >>> import coachmatch
        >>> from coachmatch.datasets import synthetic
        >>> program = synthetic("small")
        >>> plan = coachmatch.schedule(program, coachmatch.match(program))
        >>> print(plan.explain(plan.meetings["meeting_id"].iloc[0]))  # doctest: +ELLIPSIS
        R... and C... meet on ...
        """
        rows = self.meetings[self.meetings["meeting_id"] == meeting_id]
        if not len(rows):
            raise KeyError(f"unknown meeting {meeting_id!r}")
        m = rows.iloc[0]
        program = self.program
        start = m["start"].tz_convert(program.timezone)
        if m["status"] == "cancelled":
            return (
                f"{meeting_id} ({m['resident_id']} and {m['coach_id']}, "
                f"{start:%Y-%m-%d %H:%M}) is cancelled: a re-plan found no place for it"
            )
        scheduled = self.scheduled
        pair = scheduled[
            (scheduled["resident_id"] == m["resident_id"])
            & (scheduled["coach_id"] == m["coach_id"])
        ]
        k = int((pair["start"] < m["start"]).sum())
        if k == 0:
            begin = self.starts.get((m["resident_id"], m["coach_id"]), program.start)
            when = (
                f"the pair's first meeting, due within "
                f"{program.policy.first_meeting_within_days} days of {begin}"
            )
        else:
            gap = start.date() - pair["start"].iloc[k - 1].tz_convert(program.timezone).date()
            low, high = program.policy.cadence_days
            when = f"{gap.days} days after their previous meeting (cadence {low}-{high})"
        coach = program.coaches[program.index.coach[m["coach_id"]]]
        if m["site_id"] == "virtual":
            where = "virtual: no travel"
        elif m["site_id"] == coach.site_id:
            where = (
                f"at {m['site_id']}, {m['coach_id']}'s home site; travel "
                f"{m['travel_minutes']} minutes"
            )
        else:
            where = (
                f"at {m['site_id']}, {m['resident_id']}'s rotation site that day; travel "
                f"{m['travel_minutes']} minutes"
            )
        return (
            f"{m['resident_id']} and {m['coach_id']} meet on {start:%Y-%m-%d} at "
            f"{start:%H:%M}, a time both are free: {when}; {where}"
        )

    def warnings(self, rounds: int = 0) -> list[str]:
        """What a program director must know about this plan, as sentences: pairs left
        without meetings with their reasons, a plan not proven to have the least
        travel, a re-plan's changes. Empty only when none of these exists.

        Parameters
        ----------
        rounds : int
            Re-matching rounds the batch run made (named in the sentence).

        Examples
        --------
        >>> import coachmatch
        >>> from coachmatch.datasets import synthetic
        >>> program = synthetic("small")
        >>> coachmatch.schedule(program, coachmatch.match(program)).warnings()
        []
        """
        found = []
        if len(self.unplanned):
            found.append(
                f"{len(self.unplanned)} pairs have no meetings: they could not be planned"
                + (f" even after {rounds} rounds of re-matching" if rounds else "")
                + "."
            )
            found += [f"Not planned: {why}" for why in self.unplanned["reason"]]
        if self.status == "feasible":
            found.append(
                "The schedule is feasible but not proven to have the least travel "
                f"({self.travel_total:,} minutes against a bound of {self.travel_lower_bound})."
            )
        if self.changes:
            found.append(
                "Re-planned: " + ", ".join(f"{n} {what}" for what, n in self.changes.items())
            )
        return found

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return (
            f"<Schedule {self.status}: {len(self.scheduled)} meetings for "
            f"{self.pairs_asked - len(self.unplanned)} of {self.pairs_asked} pairs, "
            f"{len(self.unplanned)} unplanned, travel {self.travel_total} minutes"
            + (f", {len(self.changed)} changed" if self.changes is not None else "")
            + ">"
        )

    def _repr_html_(self) -> str:
        from coachmatch.plotting import plot_meetings
        from coachmatch.plotting._axes import inline_svg

        figure = inline_svg(plot_meetings, self, size=(4.8, 1.9))
        return (
            facts_html(self._facts(), "coachmatch-schedule")
            + _warnings_html(self.warnings())
            + f"<div style='max-width:30rem'>{figure}</div>"
        )


_WARNINGS_SHOWN = 10  # warnings listed in a notebook before "and N more"


def _warnings_html(found: list[str]) -> str:
    """A compact warnings list: a count, the first few, and how many more."""
    if not found:
        return "<p>No warnings.</p>"
    items = "".join(f"<li>{escape(w)}</li>" for w in found[:_WARNINGS_SHOWN])
    more = (
        f"<li>and {len(found) - _WARNINGS_SHOWN} more (see .warnings())</li>"
        if len(found) > _WARNINGS_SHOWN
        else ""
    )
    return f"<details open><summary>{len(found)} warnings</summary><ul>{items}{more}</ul></details>"
