"""Solvers: matching by min-cost flow or CP-SAT, with infeasibility diagnosis."""

from coachmatch.solver.matching import match

__all__ = ["match"]
