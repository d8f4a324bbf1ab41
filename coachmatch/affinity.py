"""Affinity between residents and coaches from the interest survey (SPEC §3).

For resident r and coach c, over the questions Q_r that r answered::

    affinity(r, c) = round(100 * Σ_q w_q i_rq sim_q(r, c) / Σ_q w_q i_rq)

with sim_q = |A_r ∩ A_c| / |A_r| for ``multi`` questions, equality for
``single`` and 1 − |x_r − x_c| / (max − min) for ``scale``; sim_q = 0 when c did
not answer q. Rounding is half away from zero. A resident with no answers (or
whose answered questions all weigh 0) has affinity 0 with everyone. A
``prefer`` request adds ``prefer_bonus``, capped at 100.

:func:`affinity_matrix` computes every pair at once with numpy (one matrix
product per ``multi`` question); :func:`explain_affinity` gives the
per-question breakdown of one pair in words.

SPEC 1.1: a ``multi`` answer given as several rows is one answer (the rows are
merged, :meth:`Program.answers <coachmatch.Program.answers>`); a pair listed in
``affinity.csv`` takes the program's own score instead of the survey's (a ``prefer``
bonus still applies); :func:`respondents` marks the residents O2 counts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain, repeat
from operator import attrgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from coachmatch.models import Answer, Program, Question, column

__all__ = [
    "AffinityTerm",
    "PairAffinity",
    "affinity_matrix",
    "explain_affinity",
    "respondents",
]

# SPEC's rounding is half away from zero; a true x.5 can come out of floating point
# as x.4999999999, and no legitimate score lies within 1e-9 of a half below it.
_HALF_UP = 0.5 + 1e-9


def _score(
    numerator: npt.NDArray[np.float64], denominator: npt.NDArray[np.float64]
) -> npt.NDArray[np.int64]:
    """round(100 * numerator / denominator) per row, half away from zero; 0 where the
    row's denominator is 0. ``numerator`` is (rows, coaches), ``denominator`` (rows,);
    ``numerator`` is overwritten."""
    denominator = np.asarray(denominator, dtype=np.float64)
    scale = np.divide(100.0, denominator, out=np.zeros_like(denominator), where=denominator > 0)
    scores = numerator
    scores *= scale[:, None]
    scores += _HALF_UP
    np.floor(scores, out=scores)
    np.clip(scores, 0, 100, out=scores)
    return scores.astype(np.int64)


def _truncated(scores: npt.NDArray[np.float64], dtype: type) -> npt.NDArray[Any]:
    """Scores already scaled and raised by _HALF_UP, capped to 0..100 and truncated
    (``scores`` is overwritten)."""
    np.clip(scores, 0.0, 100.0 + _HALF_UP, out=scores)
    return scores.astype(dtype)


def _answers_by_question(program: Program) -> dict[str, dict[str, Answer]]:
    by_question: dict[str, dict[str, Answer]] = defaultdict(dict)
    for answer in program.answers():
        by_question[answer.question_id][answer.person_id] = answer
    return by_question


def _block(
    question: Question, mine: list[Answer], theirs: list[Answer]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """sim_q as a product: ``rows @ cols.T`` is sim_q of each resident answer in ``mine``
    with each coach answer in ``theirs``, one column per value:

    - ``multi``: a column per option; the resident's row holds 1 / |A_r| on the options
      chosen, the coach's 1 on theirs (the product counts shared options);
    - ``single``: a column per value; 1 on the resident's value and on the coach's;
    - ``scale``: a column per value the residents gave; 1 on the resident's value, and
      the coach's row holds 1 − |x − x_c| / (max − min) for each such value x.
    """
    chosen = [tuple(dict.fromkeys(a.answer)) for a in (*mine, *theirs)]
    width, r_at, r_column, r_value, c_at, c_column, c_value = _block_entries(
        question, np.arange(len(mine)), len(mine) + np.arange(len(theirs)), chosen, 0
    )
    rows = np.zeros((len(mine), width))
    rows[r_at, r_column] = r_value
    cols = np.zeros((len(theirs), width))
    cols[c_at, c_column] = c_value
    return rows, cols


def _similarity(
    question: Question,
    resident_answers: list[Answer],
    coach_rows: npt.NDArray[np.int64],
    coach_answers: list[Answer],
    n_coaches: int,
) -> npt.NDArray[np.float64]:
    """sim_q for the given residents (rows) against every coach (columns); 0 for a coach
    who did not answer."""
    sim: npt.NDArray[np.float64] = np.zeros((len(resident_answers), n_coaches))
    if coach_answers:
        rows, cols = _block(question, resident_answers, coach_answers)
        sim[:, coach_rows] = rows @ cols.T
    return sim


def respondents(program: Program) -> npt.NDArray[np.bool_]:
    """Which residents answered the survey (or have a row in ``affinity.csv``), in the
    Program's resident order: the residents whose smallest affinity O2 raises.

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> int(respondents(program).sum()) == len(program.respondents())
    True
    """
    answered = program.respondents()
    return np.array([r.resident_id in answered for r in program.residents], dtype=bool)


def _encoded(
    program: Program,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The survey as two matrices whose product is the weighted similarity sum.

    ``resident`` (residents × columns) and ``coach`` (coaches × columns) hold one
    block per question (as :func:`_block` lays it out), the resident's rows weighted by
    w_q i_rq, so that ``resident @ coach.T`` is Σ_q w_q i_rq sim_q(r, c) for every pair
    at once; ``weight`` is Σ_q w_q i_rq per resident. A coach who did not answer a
    question has zeros in its block (sim_q = 0). Built a column of the survey at a
    time: each answer's fields are read once, its distinct choices taken once, and
    every block written as flat (row, column, value) lists.
    """
    index = program.index
    answers = program.answers()
    n = len(answers)

    def field(key: str) -> Iterable[Any]:
        if n == len(program.survey):  # no rows merged: the answers are the survey's rows
            return column(program, "survey", key)  # the loader's column, if it kept it
        return map(attrgetter(key), answers)

    question_ids = list(field("question_id"))
    person_ids = list(field("person_id"))
    # each answer's distinct choices, in order (a multi answer counts a choice once);
    # an answer without repeats (nearly all) is its own tuple, not a new one
    chosen = [
        a if len(a) < 2 or len(set(a)) == len(a) else tuple(dict.fromkeys(a))
        for a in field("answer")
    ]
    importance = np.fromiter(field("importance"), np.float64, n)
    as_resident = np.fromiter(map(index.resident.get, person_ids, repeat(-1)), np.int64, n)
    as_coach = np.fromiter(map(index.coach.get, person_ids, repeat(-1)), np.int64, n)
    order = {q: k for k, q in enumerate(dict.fromkeys(question_ids))}
    asked = np.fromiter(map(order.__getitem__, question_ids), np.int64, n)
    questions = {q.question_id: q for q in program.questions}
    blocks = []
    width = 0
    for question_id, k in order.items():
        of_question = asked == k
        mine = np.flatnonzero(of_question & (as_resident >= 0))
        if not len(mine):
            continue  # only coaches answered: no resident's affinity depends on it
        theirs = np.flatnonzero(of_question & (as_coach >= 0))
        block = _block_entries(questions[question_id], mine, theirs, chosen, width)
        blocks.append((questions[question_id], mine, theirs, block))
        width += block[0]
    resident = np.zeros((len(index.resident_ids), width))
    coach = np.zeros((len(index.coach_ids), width))
    weight = np.zeros(len(index.resident_ids))
    for question, mine, theirs, (_, r_at, r_column, r_value, c_at, c_column, c_value) in blocks:
        w = question.weight * importance[mine]
        rows = as_resident[mine]
        # a resident answers a question once (merged rows): plain assignment is exact
        resident[rows[r_at], r_column] = r_value * w[r_at]
        np.add.at(weight, rows, w)
        coach[as_coach[theirs][c_at], c_column] = c_value
    return resident, coach, weight


_Entries = tuple[
    int,
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
    npt.NDArray[np.float64],
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
    npt.NDArray[np.float64],
]


def _block_entries(
    question: Question,
    mine: npt.NDArray[np.int64],
    theirs: npt.NDArray[np.int64],
    chosen: list[tuple[str, ...]],
    first: int,
) -> _Entries:
    """One question's block of :func:`_encoded` as flat entries: (its width, then for
    the residents' answers ``mine`` and the coaches' ``theirs`` each: the answer's
    position in that list, the column from ``first`` on, the value before weighting).
    """
    kind = question.kind
    r_sets = [chosen[a] for a in mine.tolist()]
    c_sets = [chosen[a] for a in theirs.tolist()]
    if kind == "multi":
        values = sorted(set(chain.from_iterable(r_sets)) | set(chain.from_iterable(c_sets)))
    elif kind == "single":
        values = sorted({c[0] for c in r_sets} | {c[0] for c in c_sets})
    else:
        values = sorted({c[0] for c in r_sets})
    column = {v: first + k for k, v in enumerate(values)}
    sizes = np.fromiter(map(len, r_sets), np.int64, len(r_sets))
    r_at = np.repeat(np.arange(len(r_sets)), sizes)
    r_column = np.fromiter(
        map(column.__getitem__, chain.from_iterable(r_sets)), np.int64, len(r_at)
    )
    r_value = 1.0 / sizes[r_at] if kind == "multi" else np.ones(len(r_at))
    if kind == "scale":
        assert question.min is not None and question.max is not None
        span = question.max - question.min
        x = np.fromiter((float(c[0]) for c in c_sets), np.float64, len(c_sets))
        v = np.array([float(value) for value in values], dtype=np.float64)
        c_at = np.repeat(np.arange(len(c_sets)), len(values))
        c_column = np.tile(first + np.arange(len(values)), len(c_sets))
        c_value = (1.0 - np.abs(v[None, :] - x[:, None]) / span).reshape(-1)
    else:
        c_sizes = np.fromiter(map(len, c_sets), np.int64, len(c_sets))
        c_at = np.repeat(np.arange(len(c_sets)), c_sizes)
        c_column = np.fromiter(
            map(column.__getitem__, chain.from_iterable(c_sets)), np.int64, len(c_at)
        )
        c_value = np.ones(len(c_at))
    return len(values), r_at, r_column, r_value, c_at, c_column, c_value


def affinity_matrix(
    program: Program, *, prefer: bool = True, compact: bool = False
) -> npt.NDArray[np.int64]:
    """Affinity (0–100) of every resident with every coach, in the Program's row order.

    Every question is one block of one matrix product (:func:`_encoded`): a resident's
    options against a coach's, weighted; then SPEC §3's rounding, half away from zero.

    Parameters
    ----------
    program : Program
    prefer : bool, default True
        Add ``policy.prefer_bonus`` for ``prefer`` requests (capped at 100).
        Pairs listed in ``affinity.csv`` take the program's score before the bonus.
    compact : bool, default False
        Return uint8 (the scores fit) computed a block of residents at a time, so that
        a pool of tens of millions of pairs never holds a float matrix of them all.

    Returns
    -------
    numpy.ndarray of int64 (uint8 when ``compact``), shape (residents, coaches)
        Rows and columns follow ``program.index.resident_ids`` and
        ``program.index.coach_ids`` (inactive people included).

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> matrix = affinity_matrix(program)
    >>> matrix.shape, int(matrix.min()) >= 0, int(matrix.max()) <= 100
    ((60, 20), True, True)
    >>> bool((affinity_matrix(program, compact=True) == matrix).all())
    True
    """
    index = program.index
    resident, coach, weight = _encoded(program)
    # fold the scaling and the half into the product: a resident's row times
    # 100 / Σ w_q i_rq, and a last column of _HALF_UP against the coaches' 1, so that a
    # product's cell is 100 * numerator / denominator + _HALF_UP, which only needs
    # truncating (it is never negative) and capping
    scale = np.divide(100.0, weight, out=np.zeros_like(weight), where=weight > 0)
    resident = np.hstack([resident * scale[:, None], np.full((len(resident), 1), _HALF_UP)])
    # the coaches' side transposed once into rows of its own: BLAS multiplies by a
    # transposed view several times slower here (OpenBLAS, 5,000 x 51 by 51 x 1,300)
    coach_t = np.ascontiguousarray(np.hstack([coach, np.ones((len(coach), 1))]).T)
    matrix: npt.NDArray[np.int64]
    if compact:
        matrix = np.empty((len(resident), coach_t.shape[1]), dtype=np.uint8)
        step = max(1, _BLOCK_CELLS // max(coach_t.shape[1], 1))
        for lo in range(0, len(resident), step):
            hi = lo + step
            matrix[lo:hi] = _truncated(resident[lo:hi] @ coach_t, np.uint8)
    else:
        matrix = _truncated(resident @ coach_t, np.int64)
    given = program.affinity
    if given:
        count = len(given)
        rows = np.fromiter((index.resident[s.resident_id] for s in given), np.int64, count)
        cols = np.fromiter((index.coach[s.coach_id] for s in given), np.int64, count)
        matrix[rows, cols] = np.fromiter((s.affinity for s in given), np.int64, count)
    if prefer and program.policy.prefer_bonus:
        for request in program.requests:
            if request.kind == "prefer" and request.coach_id is not None:
                r, c = index.resident[request.resident_id], index.coach[request.coach_id]
                matrix[r, c] = min(100, int(matrix[r, c]) + program.policy.prefer_bonus)
    return matrix


#: cells of a block of the compact affinity matrix (float64: 8 MB, below the size at
#: which the C allocator maps fresh memory for every block)
_BLOCK_CELLS = 1 << 20


@dataclass(frozen=True)
class AffinityTerm:
    """One question's part in a pair's affinity."""

    question_id: str
    weight: float  # w_q * i_rq
    similarity: float  # sim_q, 0..1
    sentence: str


@dataclass(frozen=True)
class PairAffinity:
    """A pair's affinity and how it arises, question by question."""

    resident_id: str
    coach_id: str
    affinity: int
    base: int  # before a prefer bonus
    prefer_bonus: int
    terms: tuple[AffinityTerm, ...]
    #: "survey", or "affinity.csv" when the program gave the pair's score itself
    source: str = "survey"

    def __str__(self) -> str:
        if self.source == "affinity.csv":
            parts = ["set by the program in affinity.csv"]
        else:
            parts = [t.sentence for t in self.terms] or ["the resident answered no questions"]
        bonus = f" + {self.prefer_bonus} for a prefer request" if self.prefer_bonus else ""
        return f"affinity {self.affinity} ({self.base}{bonus}): " + "; ".join(parts)


def _term_sentence(question: Question, mine: Answer, theirs: Answer | None, sim: float) -> str:
    noun = question.question_id
    if theirs is None:
        return f"coach did not answer {noun}"
    if question.kind == "multi":
        shared = [v for v in mine.answer if v in set(theirs.answer)]
        listed = f": {', '.join(shared)}" if shared else ""
        return f"shares {len(shared)} of {len(set(mine.answer))} {noun}{listed}"
    if question.kind == "single":
        if sim == 1.0:
            return f"same {noun}: {mine.answer[0]}"
        return f"different {noun} ({mine.answer[0]} vs {theirs.answer[0]})"
    return f"{noun} {mine.answer[0]} vs {theirs.answer[0]} (similarity {sim:.2f})"


def explain_affinity(program: Program, resident_id: str, coach_id: str) -> PairAffinity:
    """The per-question breakdown of one pair's affinity, with sentences.

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> pair = explain_affinity(program, "R0001", "C0001")
    >>> pair.affinity == int(affinity_matrix(program)[0, 0])
    True
    """
    index = program.index
    c = index.coach[coach_id]
    if resident_id not in index.resident:
        raise KeyError(f"unknown resident {resident_id!r}")
    questions = {q.question_id: q for q in program.questions}
    answers = _answers_by_question(program)
    terms = []
    for question_id, by_person in answers.items():
        mine = by_person.get(resident_id)
        if mine is None:
            continue
        question = questions[question_id]
        theirs = by_person.get(coach_id)
        sim = 0.0
        if theirs is not None:
            rows = np.array([c], dtype=np.int64)
            sim = float(_similarity(question, [mine], rows, [theirs], c + 1)[0, c])
        terms.append(
            AffinityTerm(
                question_id,
                question.weight * mine.importance,
                sim,
                _term_sentence(question, mine, theirs, sim),
            )
        )
    numerator = sum(t.weight * t.similarity for t in terms)
    denominator = sum(t.weight for t in terms)
    base = int(_score(np.array([[numerator]], dtype=np.float64), np.array([denominator]))[0, 0])
    given = [
        s.affinity
        for s in program.affinity
        if (s.resident_id, s.coach_id) == (resident_id, coach_id)
    ]
    if given:
        base = given[0]
    preferred = any(
        q.kind == "prefer" and (q.resident_id, q.coach_id) == (resident_id, coach_id)
        for q in program.requests
    )
    full = min(100, base + program.policy.prefer_bonus) if preferred else base
    source = "affinity.csv" if given else "survey"
    return PairAffinity(resident_id, coach_id, full, base, full - base, tuple(terms), source)
