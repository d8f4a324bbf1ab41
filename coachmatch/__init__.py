"""coachmatch: pair medical residents with faculty coaches and plan their meetings.

The public names are re-exported here; see the README for a tour.
"""

from coachmatch.batch import RunResult, run
from coachmatch.calendar import calendars, write_ics
from coachmatch.constraints import Violation, audit, audit_schedule
from coachmatch.exceptions import (
    InfeasibleError,
    OutputFolderError,
    Problem,
    ProgramError,
    ProgramWarning,
)
from coachmatch.io import from_frames, load_program, to_frames, write_program
from coachmatch.models import (
    AffinityScore,
    Answer,
    AvailabilityWindow,
    BusyInterval,
    Coach,
    Panel,
    Policy,
    Program,
    ProgramHeader,
    Question,
    Request,
    Resident,
    Rotation,
    Site,
    TravelTime,
)
from coachmatch.rematching import Rematch, carry_pairs, rematch
from coachmatch.results import Matching, Schedule
from coachmatch.scenarios import Comparison, Scenario, compare
from coachmatch.solver import match, schedule

__version__ = "0.13.0"

__all__ = [
    "AffinityScore",
    "Answer",
    "AvailabilityWindow",
    "BusyInterval",
    "Coach",
    "Comparison",
    "InfeasibleError",
    "Matching",
    "OutputFolderError",
    "Panel",
    "Policy",
    "Problem",
    "Program",
    "ProgramError",
    "ProgramHeader",
    "ProgramWarning",
    "Question",
    "Rematch",
    "Request",
    "Resident",
    "Rotation",
    "RunResult",
    "Scenario",
    "Schedule",
    "Site",
    "TravelTime",
    "Violation",
    "__version__",
    "audit",
    "audit_schedule",
    "calendars",
    "carry_pairs",
    "compare",
    "from_frames",
    "load_program",
    "match",
    "rematch",
    "run",
    "schedule",
    "to_frames",
    "write_ics",
    "write_program",
]
