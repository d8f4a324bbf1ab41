"""Slow, obviously-correct reference implementations used to check the fast ones.

Written straight from SPEC §3-4 with exact fractions and brute force; they share
no code with the package beyond the data model.
"""

from __future__ import annotations

import itertools
from collections import Counter
from fractions import Fraction
from typing import Any

from coachmatch import Program


def _answers(program: Program) -> dict[tuple[str, str], tuple[set[str], Fraction]]:
    """(person, question) -> (chosen values, importance); a multi answer's rows merged."""
    out: dict[tuple[str, str], tuple[set[str], Fraction]] = {}
    for a in program.survey:
        key = (a.person_id, a.question_id)
        values, importance = out.get(key, (set(), Fraction(a.importance)))
        out[key] = (values | set(a.answer), importance)
    return out


def respondents(program: Program) -> set[str]:
    """Residents with an answer row or an affinity.csv row (SPEC 1.1, O2)."""
    residents = {r.resident_id for r in program.residents}
    return ({a.person_id for a in program.survey} | {s.resident_id for s in program.affinity}) & (
        residents
    )


def affinity(program: Program, resident_id: str, coach_id: str) -> int:
    """SPEC §3 with exact rational arithmetic (and 1.1's affinity.csv)."""
    questions = {q.question_id: q for q in program.questions}
    answers = _answers(program)
    num, den = Fraction(0), Fraction(0)
    for (person, qid), (mine, importance) in answers.items():
        if person != resident_id:
            continue
        q = questions[qid]
        w = Fraction(q.weight) * importance
        theirs = answers.get((coach_id, qid))
        sim = Fraction(0)
        if theirs is not None:
            if q.kind == "multi":
                sim = Fraction(len(mine & theirs[0]), len(mine))
            elif q.kind == "single":
                sim = Fraction(int(mine == theirs[0]))
            else:
                span = Fraction(q.max) - Fraction(q.min)  # type: ignore[arg-type]
                diff = abs(Fraction(next(iter(mine))) - Fraction(next(iter(theirs[0]))))
                sim = 1 - diff / span
        num += w * sim
        den += w
    base = 0
    if den > 0:
        x = 100 * num / den
        base = int(x) + (1 if x - int(x) >= Fraction(1, 2) else 0)  # half away from zero
    for score in program.affinity:
        if (score.resident_id, score.coach_id) == (resident_id, coach_id):
            base = score.affinity
    if any(
        q.kind == "prefer" and (q.resident_id, q.coach_id) == (resident_id, coach_id)
        for q in program.requests
    ):
        base = min(100, base + program.policy.prefer_bonus)
    return base


def best_levels(program: Program, valid: list[dict[str, str]]) -> tuple[int, ...] | None:
    """The lexicographically best level vector over ``valid`` assignments."""
    policy = program.policy
    best = None
    answered = respondents(program)
    moving = {q.resident_id for q in program.requests if q.kind == "change"}
    for assignment in valid:
        scores = [affinity(program, r, c) for r, c in assignment.items()]
        counted = [affinity(program, r, c) for r, c in assignment.items() if r in answered]
        load = Counter(assignment.values())
        current = {r.resident_id: r.current_coach_id for r in program.residents}
        kept = sum(current[r] == c and r not in moving for r, c in assignment.items())
        key = (
            kept if policy.keep_current else 0,
            (min(counted) if counted else 0) if policy.fairness == "maxmin" else 0,
            sum(scores),
            -sum(n * n for n in load.values()),
        )
        best = key if best is None or key > best else best
    return best


def all_assignments(
    program: Program, allowed: dict[str, list[str]], allow_unmatched: bool = False
) -> list[dict[str, str]]:
    """Every assignment of active residents to allowed coaches (None = unmatched)."""
    residents = [r.resident_id for r in program.residents if r.active]
    options = [allowed[r] + ([None] if allow_unmatched else []) for r in residents]  # type: ignore[list-item]
    out = []
    for combo in itertools.product(*options):
        out.append({r: c for r, c in zip(residents, combo, strict=True) if c is not None})
    return out


def _plan_ok(days: tuple[int, ...], pair: Any, task: Any) -> bool:
    """Whether a pair can meet on these days with some choice of virtual meetings
    (S2's window, gaps and end are the caller's; here S4: places, share, first)."""
    if not days:
        return not pair.must_meet
    if task.virtual_only:
        return bool(pair.virtual_ok)
    only_virtual = [pair.cost[d] < 0 for d in days]
    if any(only_virtual) and not pair.virtual_ok:
        return False
    if pair.in_person_first and only_virtual[0]:
        return False
    numerator, denominator = task.share
    virtual = sum(only_virtual) + pair.past_virtual
    return denominator * virtual <= numerator * (len(days) + pair.past_count)


def pair_plans(pair: Any, task: Any) -> list[tuple[int, ...]]:
    """Every day sequence on which the pair, alone, meets by S2 and S4 (brute force)."""
    free = sorted({u // 48 for u in pair.starts})
    last = task.n_days - 1
    out: list[tuple[int, ...]] = []

    def extend(days: tuple[int, ...]) -> None:
        if days and last - days[-1] < task.longest and _plan_ok(days, pair, task):
            out.append(days)
        after = days[-1] if days else None
        for d in free:
            if after is None and not pair.first_from <= d <= pair.first_by:
                continue
            if after is not None and not task.shortest <= d - after <= task.longest:
                continue
            extend((*days, d))

    extend(())
    if not pair.must_meet:
        out.append(())
    return out


def max_planned(task: Any, limit: int = 200_000) -> int | None:
    """The most pairs of one coach that can all be planned together, by brute force
    over every pair's day sequences and start slots; None when the search is too big."""
    n = len(task.pairs)
    plans = [pair_plans(pair, task) for pair in task.pairs]
    slots = [
        {d: [u % 48 for u in pair.starts if u // 48 == d] for d in {u // 48 for u in pair.starts}}
        for pair in task.pairs
    ]
    work = 1
    for options in plans:
        work *= max(len(options), 1)
    if work > limit:
        return None

    def fits(chosen: list[tuple[int, tuple[int, ...]]]) -> bool:
        by_day: dict[int, list[int]] = {}
        for p, days in chosen:
            for d in days:
                by_day.setdefault(d, []).append(p)
        for d, people in by_day.items():
            if len(people) < 2:
                continue
            ok = any(
                all(abs(a - b) >= task.length for a, b in itertools.combinations(starts, 2))
                for starts in itertools.product(*(slots[p][d] for p in people))
            )
            if not ok:
                return False
        return True

    for size in range(n, 0, -1):
        for subset in itertools.combinations(range(n), size):
            if any(not plans[p] for p in subset):
                continue
            for combo in itertools.product(*(plans[p] for p in subset)):
                if fits(list(zip(subset, combo, strict=True))):
                    return size
    return 0
