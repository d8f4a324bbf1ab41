"""What every rule module shares: the violation type and pair normalisation."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["Mask", "Pairs", "Violation", "as_pairs"]

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
