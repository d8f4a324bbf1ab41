"""Meeting scheduling (SPEC §5): a year of meetings per pair with the least travel.

The parts, one idea a file:

- :mod:`.tasks` — the per-coach subproblems as plain data, built from a Program;
- :mod:`.pair_plan` — the per-pair dynamic program: each pair's own least-travel
  plan and the travel lower bound;
- :mod:`.model` — one coach's plan: the pairs' own plans when they fit, else CP-SAT;
- :mod:`.result` — the Schedule: meetings with ids, and reasons for unplanned pairs;
- :mod:`.replan` — re-planning from a previous schedule at an as-of date;
- :mod:`.plan` — :func:`schedule`, which runs the coaches through an executor.
"""

from coachmatch.solver.scheduling.model import solve_coach
from coachmatch.solver.scheduling.pair_plan import pair_lower_bound, pair_plan
from coachmatch.solver.scheduling.plan import schedule
from coachmatch.solver.scheduling.tasks import CoachResult, CoachTask, PairTask, build_tasks

__all__ = [
    "CoachResult",
    "CoachTask",
    "PairTask",
    "build_tasks",
    "pair_lower_bound",
    "pair_plan",
    "schedule",
    "solve_coach",
]
