"""Plots for notebooks and the report: one ``plot_*`` function per module.

Each takes an optional matplotlib ``ax`` (a new figure's when omitted) and returns the
axes it drew on. The run's ``report.html`` draws its figures with these same functions.
"""

from coachmatch.plotting.affinity import plot_affinity
from coachmatch.plotting.caseloads import plot_caseloads
from coachmatch.plotting.comparison import plot_comparison
from coachmatch.plotting.meetings import plot_meetings
from coachmatch.plotting.travel import plot_travel

__all__ = [
    "plot_affinity",
    "plot_caseloads",
    "plot_comparison",
    "plot_meetings",
    "plot_travel",
]
