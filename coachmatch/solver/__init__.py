"""Solvers: matching (min-cost flow or CP-SAT) and meeting scheduling (CP-SAT per coach)."""

from coachmatch.solver.matching import match
from coachmatch.solver.scheduling import schedule

__all__ = ["match", "schedule"]
