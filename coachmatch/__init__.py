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
from coachmatch.results import Matching, Schedule
from coachmatch.solver import match, schedule

__version__ = "0.4.0"

__all__ = [
    "AffinityScore",
    "Answer",
    "AvailabilityWindow",
    "BusyInterval",
    "Coach",
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
    "Request",
    "Resident",
    "Rotation",
    "RunResult",
    "Schedule",
    "Site",
    "TravelTime",
    "Violation",
    "__version__",
    "audit",
    "audit_schedule",
    "calendars",
    "from_frames",
    "load_program",
    "match",
    "run",
    "schedule",
    "to_frames",
    "write_ics",
    "write_program",
]
