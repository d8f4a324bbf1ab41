"""The bounds coachmatch enforces on its input, in one place (see docs/security.md).

Every file and value coachmatch reads is untrusted: a program folder edited by hand,
a previous run folder, a calendar exported by someone else. These limits keep every
run bounded in time and memory; each is far above what a real program needs, and
each can be raised with an environment variable where a program truly needs more.

Examples
--------
>>> max_file_bytes() >= 200 * 2**20
True
"""

from __future__ import annotations

import os

__all__ = [
    "MAX_CADENCE_DAYS",
    "MAX_CAPACITY",
    "MAX_HORIZON_DAYS",
    "MAX_SEED",
    "MAX_TIME_LIMIT_S",
    "MAX_WEIGHT",
    "max_calendar_events",
    "max_file_bytes",
]

#: the longest horizon, in days (a little over five years)
MAX_HORIZON_DAYS = 5 * 366
#: the longest gap between meetings (and first-meeting window), in days
MAX_CADENCE_DAYS = 366
#: the largest caseload cap or minimum load of a coach
MAX_CAPACITY = 1_000
#: the largest survey question weight or answer importance
MAX_WEIGHT = 1_000.0
#: the largest solver seed (CP-SAT takes a 32-bit seed)
MAX_SEED = 2**31 - 1
#: the largest wall-clock safety net per solve, in seconds
MAX_TIME_LIMIT_S = 24 * 3600.0


def _from_environment(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        return default
    return value if value > 0 else default


def max_file_bytes() -> int:
    """Largest file read (default 200 MiB; ``COACHMATCH_MAX_FILE_MB`` raises it)."""
    return _from_environment("COACHMATCH_MAX_FILE_MB", 200) * 2**20


def max_calendar_events() -> int:
    """Most event instances one busy calendar may expand to within the horizon
    (default 50,000; ``COACHMATCH_MAX_CALENDAR_EVENTS`` raises it)."""
    return _from_environment("COACHMATCH_MAX_CALENDAR_EVENTS", 50_000)
