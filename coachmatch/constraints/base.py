"""What every rule module shares: the violation type and pair normalisation."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from itertools import chain, repeat
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from coachmatch.models import column

if TYPE_CHECKING:
    from coachmatch.models import Program

__all__ = ["Mask", "Pairs", "RotationColumns", "Violation", "as_pairs"]

#: (residents × coaches) booleans in the Program's row order
Mask = npt.NDArray[np.bool_]
#: a matching as (resident_id, coach_id) tuples
Pairs = list[tuple[str, str]]


@dataclass(frozen=True)
class Violation:
    """A rule a matching or schedule breaks, as a sentence naming people, dates and sites."""

    rule: str
    message: str
    resident_id: str | None = None
    coach_id: str | None = None

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


def as_pairs(pairs: Any) -> Pairs:
    """(resident_id, coach_id) tuples from a DataFrame with those columns or an iterable.

    Examples
    --------
    >>> as_pairs([("R1", "C1")])
    [('R1', 'C1')]
    """
    if hasattr(pairs, "columns"):
        frame = pairs
        if not {"resident_id", "coach_id"} <= set(frame.columns):
            raise ValueError("a matching needs columns resident_id and coach_id")
        frame = frame[frame["coach_id"].notna()]
        return [
            (str(r), str(c)) for r, c in zip(frame["resident_id"], frame["coach_id"], strict=True)
        ]
    out: Pairs = []
    items: Iterable[Any] = pairs
    for item in items:
        r, c = item
        if c is not None:
            out.append((str(r), str(c)))
    return out


@dataclass(frozen=True)
class RotationColumns:
    """The Program's rotations a column at a time, read from the rows once (cached).

    R2 (supervisors) and R7 (rotation days and sites) both look at every rotation;
    reading 10,000s of row objects field by field is most of their cost, so the fields
    they need are read here once, as arrays in the order of ``program.rotations``.

    Attributes
    ----------
    resident, site : numpy.ndarray of int
        Row numbers (``program.index``) of each rotation's resident and site.
    first, last : numpy.ndarray of int
        Its first and last day as days since the horizon start (may lie outside it).
    supervisor, supervised : numpy.ndarray of int
        Its supervisors, flattened: each one's coach row (-1: not a coach of the
        program) and the position of its rotation.

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> columns = RotationColumns.of(program)
    >>> first = program.rotations[0]
    >>> int(columns.last[0] - columns.first[0]) == (first.end - first.start).days
    True
    """

    resident: npt.NDArray[np.int64]
    site: npt.NDArray[np.int64]
    first: npt.NDArray[np.int64]
    last: npt.NDArray[np.int64]
    supervisor: npt.NDArray[np.int64]
    supervised: npt.NDArray[np.int64]

    @classmethod
    def of(cls, program: Program) -> RotationColumns:
        """The columns of ``program``'s rotations (built once per Program)."""
        built: RotationColumns = program.index.derived(
            "rotation_columns", lambda: cls._read(program)
        )
        return built

    @classmethod
    def _read(cls, program: Program) -> RotationColumns:
        index = program.index
        n = len(program.rotations)

        def field(key: str) -> Iterable[Any]:
            return column(program, "rotations", key)  # the loader's column, if it kept it

        def rows(key: str, lookup: dict[str, int]) -> npt.NDArray[np.int64]:
            return np.fromiter(map(lookup.__getitem__, field(key)), np.int64, n)

        origin = program.start.toordinal()
        first, last = (
            np.fromiter(map(date.toordinal, field(key)), np.int64, n) - origin
            for key in ("start", "end")
        )
        supervisors = list(field("supervisor_ids"))
        counts = np.fromiter(map(len, supervisors), np.int64, n)
        total = int(counts.sum())
        return cls(
            resident=rows("resident_id", index.resident),
            site=rows("site_id", index.site),
            first=first,
            last=last,
            supervisor=np.fromiter(
                map(index.coach.get, chain.from_iterable(supervisors), repeat(-1)), np.int64, total
            ),
            supervised=np.repeat(np.arange(n, dtype=np.int64), counts),
        )
