"""The batch run (SPEC §6): a program folder in, a complete run folder out, atomically.

(The module is ``batch`` rather than DESIGN's ``run`` so that ``coachmatch.run``, the
function, does not shadow a submodule of the same name.)

``run()`` loads and validates the program, matches, schedules and writes::

    OUT_DIR/
      pairs.csv            every pair: names, affinity, kept, start date
      meetings.csv         SPEC §6 columns, times in ISO 8601 with UTC offset
      pair_history.csv     pairs made or ended during the horizon (for the next run)
      unmatched.csv        residents left without a coach, with reasons (if any)
      recusals.csv         when R3 is "recuse"
      calendars/           <person_id>.ics for every coach and resident, program.ics
      invitations/         per-meeting METHOD:REQUEST / CANCEL messages (on request)
      report.html          the report for the program director
      run.json             the manifest

Between scheduling and writing, the run closes the loop (SPEC 1.1 §6): a pair the
scheduler could not plan is forbidden and its resident re-matched while every other
pair stays (it becomes the resident's current coach, so O1 keeps it), then the run
schedules again, for at most ``rematch_rounds`` rounds. Every round is recorded in
``run.json`` and the report; what is still unplanned is reported, never dropped.

Everything is written to a staging folder beside OUT_DIR and moved into place only
when complete; a failed or interrupted run leaves OUT_DIR (and the previous run's
folder) as they were. With ``previous``, the earlier run folder is read first: its
pairs become the residents' current coaches (O1 keeps them), and its meetings are
re-planned from ``as_of`` (past meetings and ids stay). A rerun on the same inputs
and seed writes the same bytes: the calendars' DTSTAMP is the run's date (``as_of``,
else the horizon start), not the clock, and wall-clock timings go into run.json only
when asked for.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
import re
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from coachmatch.calendar.export import LINK_PLACEHOLDER, calendars, invitations, unsendable
from coachmatch.constraints.meetings import MEETING_COLUMNS
from coachmatch.exceptions import InfeasibleError, Problem, ProgramError
from coachmatch.io.folder import FILE_ORDER, load_program, read_csv
from coachmatch.io.output import atomic_folder, check_output_folder
from coachmatch.io.reading import inside, read_file
from coachmatch.io.safe import restore, safe_frame
from coachmatch.models import HOST_NAME, MAX_ID_BYTES, Program, Request, check_id
from coachmatch.rematching import carry_pairs
from coachmatch.report import report_html
from coachmatch.results import Matching, Schedule
from coachmatch.solver import match, schedule
from coachmatch.solver.matching import restate

__all__ = ["RunResult", "read_run", "run"]

log = logging.getLogger("coachmatch")


@dataclass(frozen=True)
class Round:
    """One round of the batch run's loop: the pairs that could not be planned, where
    their residents went, and what was still unplanned after it."""

    number: int
    unplanned: list[tuple[str, str, str]]  # resident_id, coach_id, reason
    moved: list[tuple[str, str, str | None]]  # resident_id, from coach, to coach
    still_unplanned: int
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The round as ``run.json`` records it."""
        return {
            "round": self.number,
            "unplanned": [
                {"resident_id": r, "coach_id": c, "reason": why} for r, c, why in self.unplanned
            ],
            "moved": [{"resident_id": r, "from": a, "to": b} for r, a, b in self.moved],
            "still_unplanned": self.still_unplanned,
            "note": self.note,
        }

    def sentence(self) -> str:
        """One line for the report."""
        moves = "; ".join(f"{r} from {a} to {b or 'no coach'}" for r, a, b in self.moved)
        text = (
            f"Round {self.number}: {len(self.unplanned)} pairs could not be planned and "
            f"were forbidden; re-matched {moves or 'nobody'}; "
            f"{self.still_unplanned} pairs still unplanned."
        )
        return text + (f" {self.note}" if self.note else "")


@dataclass(frozen=True)
class RunResult:
    """What a batch run made and where it wrote it.

    ``rounds`` are the re-matching rounds of the loop (empty when every pair was
    planned at once); ``program`` is the input program plus the loop's ``forbid``
    requests, the program the final matching satisfies.
    """

    out: Path
    program: Program = field(repr=False)
    matching: Matching = field(repr=False)
    schedule: Schedule = field(repr=False)
    manifest: dict[str, Any] = field(repr=False)
    timings: dict[str, float] = field(default_factory=dict)
    rounds: tuple[Round, ...] = ()

    def to_excel(self, path: str | os.PathLike[str]) -> Path:
        """The run's tables as one Excel workbook (pairs, caseloads, meetings in local
        time, per coach, per pair, unplanned, unmatched, low fit); see
        :func:`coachmatch.io.excel.to_excel`. Needs ``openpyxl``.

        Examples
        --------
        >>> import coachmatch, tempfile, pathlib
        >>> from coachmatch.datasets import synthetic
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     where = pathlib.Path(folder)
        ...     program = coachmatch.write_program(synthetic("small"), where / "program")
        ...     done = coachmatch.run(program, where / "run")
        ...     book = done.to_excel(pathlib.Path(folder) / "run.xlsx")
        ...     "meetings" in pd.read_excel(book, sheet_name=None)
        True
        """
        from coachmatch.io.excel import to_excel

        return to_excel(path, self.matching, self.schedule)


def _checksum(folder: Path) -> str:
    """SHA-256 over the files a run reads (the program's files and busy calendars), by
    name; other files in the folder are neither read nor counted."""
    digest = hashlib.sha256()
    names = [name for name in FILE_ORDER if os.path.lexists(folder / name)]
    busy = folder / "busy"
    if busy.is_dir() and inside(busy, folder):
        names += [f"busy/{p.name}" for p in busy.glob("*.ics")]
    for name in sorted(names):
        data, _ = read_file(folder / name, folder, name)
        digest.update(name.encode() + b"\0")
        digest.update(hashlib.sha256(data or b"").digest())
    return digest.hexdigest()


@dataclass(frozen=True)
class PreviousRun:
    """An earlier run folder, as a re-plan reads it."""

    pairs: pd.DataFrame
    meetings: pd.DataFrame
    starts: dict[tuple[str, str], date]
    ends: dict[tuple[str, str], date]
    #: the line of each row of ``meetings`` in meetings.csv
    meeting_lines: list[int] = field(default_factory=list)
    #: the run's as-of date (its DTSTAMP day), and its calendars' UID domain, from its
    #: run.json; None when it records none (runs of coachmatch 0.3 and earlier)
    as_of: date | None = None
    domain: str | None = None
    #: resident -> the coach their ``change`` request (coach left empty) moved them from
    changes_applied: dict[str, str] = field(default_factory=dict)


#: the UID domain of runs that recorded none (coachmatch 0.3 and earlier)
OLD_DOMAIN = "coachmatch.invalid"


def _manifest_facts(root: Path) -> tuple[date | None, str | None, dict[str, str]]:
    """(as-of date, UID domain, applied change requests) from a previous run's run.json,
    where it says them (it is untrusted: anything malformed counts as unsaid)."""
    data, problem = read_file(root / "run.json", root, "run.json")
    if problem is not None or data is None:
        return None, None, {}
    try:
        manifest = json.loads(data)
        stamp = manifest.get("calendar", {}).get("stamp_date") or manifest.get("as_of")
        day = date.fromisoformat(stamp) if isinstance(stamp, str) else None
        domain = manifest.get("calendar", {}).get("uid_domain")
        applied = manifest.get("changes_applied", {})
    except (ValueError, AttributeError, TypeError):
        return None, None, {}
    changes = {}
    if isinstance(applied, dict):
        for resident, coach in applied.items():
            try:
                changes[check_id(str(resident))] = check_id(str(coach))
            except ValueError:
                continue
    good_domain = domain if isinstance(domain, str) and HOST_NAME.match(domain) else None
    return day, good_domain, changes


#: the files of a run folder that a re-plan reads, with their required columns
_RUN_FILES: dict[str, tuple[str, ...]] = {
    "pairs.csv": ("resident_id", "coach_id"),
    "meetings.csv": MEETING_COLUMNS,
    "pair_history.csv": ("resident_id", "coach_id", "start", "end"),
}


#: bounds on the numbers of a run folder (far above anything a run writes)
_MOST = {"sequence": 1_000_000, "travel_minutes": 1_000_000}


def _check_cell(file: str, line: int, column: str, value: str, problems: list[Problem]) -> None:
    """One cell of a previous run folder, against what coachmatch writes: the folder is
    read as untrusted input (an id here may name a file the run writes)."""
    expected = None
    try:
        if column in _MOST:
            expected = f"a whole number from 0 to {_MOST[column]:,}"
            if not value.isdigit() or int(value) > _MOST[column]:
                raise ValueError
        elif column in ("start", "end") and file == "meetings.csv":
            expected = "an ISO 8601 date-time with a UTC offset (2026-07-01T13:00:00-04:00)"
            if datetime.fromisoformat(value).tzinfo is None:
                raise ValueError
        elif column in ("start", "end") and value:
            expected = "an ISO date (2026-07-01) or nothing"
            date.fromisoformat(value)
        elif column == "status":
            expected = "scheduled or cancelled"
            if value not in ("scheduled", "cancelled"):
                raise ValueError
        elif column in ("meeting_id", "resident_id", "coach_id", "site_id"):
            # a meeting id joins two ids: <resident>-<coach>-<nn>
            most = 2 * MAX_ID_BYTES + 16 if column == "meeting_id" else MAX_ID_BYTES
            expected = f"an id (no ';', '/', '\\' or control characters, {most} bytes at most)"
            check_id(value, most)
    except ValueError:
        shown = value if len(value) <= 80 else value[:77] + "..."
        problems.append(Problem(file, line, column, f"bad value {shown!r}", shown, expected))


def _departed(program: Program, previous: PreviousRun, folder: str) -> list[str]:
    """People of the previous run's meetings who are no longer in the program (a re-plan
    ends their pairs and cancels their later meetings); a meeting at a site the program
    lacks is an error, with its line."""
    index = program.index
    problems = []
    gone: set[str] = set()
    for line, row in zip(previous.meeting_lines, previous.meetings.to_dict("records"), strict=True):
        for column, ids in (("resident_id", index.resident), ("coach_id", index.coach)):
            if row[column] not in ids:
                gone.add(row[column])
        site = row["site_id"]
        if site not in index.site and site != "virtual":
            problems.append(
                Problem(
                    "meetings.csv",
                    line,
                    "site_id",
                    f"unknown site {site!r} (not in the program folder)",
                    site,
                    "an id of the program's sites",
                )
            )
    if problems:
        raise ProgramError(problems, f"the previous run {folder}")
    return sorted(gone)


def read_run(folder: str | Path) -> PreviousRun:
    """Read an earlier run folder (pairs.csv, meetings.csv, pair_history.csv).

    Every cell a re-plan relies on is checked; all problems are reported at once,
    each with its file, line and column.

    Raises
    ------
    ProgramError
        When a file is missing or a cell is not what a coachmatch run writes.

    Examples
    --------
    >>> read_run("no-such-run")
    Traceback (most recent call last):
    ...
    coachmatch.exceptions.ProgramError: 2 problems in the previous run no-such-run:
      pairs.csv: the file is missing
      meetings.csv: the file is missing
    """
    root = Path(folder)
    problems: list[Problem] = []
    tables: dict[str, list[dict[str, str]]] = {}
    columns: dict[str, list[str]] = {}
    lines: list[int] = []
    for name, required in _RUN_FILES.items():
        path = root / name
        if not os.path.lexists(path):
            if name != "pair_history.csv":  # older runs have none
                problems.append(
                    Problem(name, None, None, "the file is missing", None, "a coachmatch run")
                )
            continue
        data, problem = read_file(path, root, name)
        if problem is not None:
            problems.append(problem)
            continue
        raw, found = read_csv(data or b"", name, name, required)
        problems.extend(found)
        if raw is None:
            continue
        missing = [c for c in required if c not in raw.columns]
        if missing:
            problems.append(
                Problem(
                    name,
                    1,
                    None,
                    f"missing columns {', '.join(missing)}",
                    None,
                    "the columns " + ", ".join(required),
                )
            )
            continue
        rows = []
        ids: set[str] = set()
        for line, cells in raw.rows:
            row = {c: restore(str(v)) for c, v in cells.items()}
            for column in required:
                _check_cell(name, line, column, row[column], problems)
            if name == "meetings.csv" and row["meeting_id"] in ids:
                problems.append(
                    Problem(
                        name,
                        line,
                        "meeting_id",
                        f"duplicate id {row['meeting_id']!r}",
                        row["meeting_id"],
                        "an id used once",
                    )
                )
            ids.add(row.get("meeting_id", ""))
            rows.append(row)
            if name == "meetings.csv":
                lines.append(line)
        tables[name] = rows
        columns[name] = raw.columns
    if problems:
        raise ProgramError(problems, f"the previous run {folder}")
    starts: dict[tuple[str, str], date] = {}
    ends: dict[tuple[str, str], date] = {}
    for row in tables.get("pair_history.csv", []):
        pair = (row["resident_id"], row["coach_id"])
        if row["start"]:
            starts[pair] = date.fromisoformat(row["start"])
        if row["end"]:
            ends[pair] = date.fromisoformat(row["end"])
    pairs = pd.DataFrame(tables["pairs.csv"]).reindex(
        columns=list(dict.fromkeys([*_RUN_FILES["pairs.csv"], *columns["pairs.csv"]]))
    )
    meetings = pd.DataFrame(tables["meetings.csv"], columns=list(MEETING_COLUMNS))
    as_of, domain, applied = _manifest_facts(root)
    return PreviousRun(pairs, meetings, starts, ends, lines, as_of, domain, applied)


def _resolve_changes(
    program: Program, previous: PreviousRun | None
) -> tuple[Program, dict[str, str]]:
    """Name the coach of every ``change`` request that leaves it empty, once.

    Empty means the resident's current coach: the one given in residents.csv, else
    their pair in the previous run. A re-plan's current coach is the previous run's
    pair, so resolving anew at every run would move the resident again each time the
    request stays in requests.csv; instead the coach a request was first resolved to is
    recorded in run.json (``changes_applied``) and kept by the runs that follow.
    """
    applied = dict(previous.changes_applied) if previous is not None else {}
    paired = (
        dict(zip(previous.pairs["resident_id"], previous.pairs["coach_id"], strict=True))
        if previous is not None
        else {}
    )
    index = program.index
    requests = []
    for request in program.requests:
        resident = request.resident_id
        if request.kind == "change" and request.coach_id is None:
            given = program.residents[index.resident[resident]].current_coach_id
            coach = applied.get(resident) or given or paired.get(resident)
            if coach is not None and coach in index.coach:
                applied[resident] = coach
                request = request.model_copy(update={"coach_id": coach})
        requests.append(request)
    asked = {q.resident_id for q in program.requests if q.kind == "change"}
    kept = {r: c for r, c in applied.items() if r in asked}
    return program.replace(requests=tuple(requests)), kept


def _csv(frame: pd.DataFrame) -> bytes:
    text: str = safe_frame(frame).to_csv(index=False, lineterminator="\n")
    return text.encode("utf-8")


def _meetings_table(plan: Schedule) -> pd.DataFrame:
    m = plan.meetings.copy()
    for column in ("start", "end"):
        m[column] = m[column].map(lambda t: t.isoformat())
    return m


def _pairs_table(program: Program, matching: Matching, plan: Schedule) -> pd.DataFrame:
    names = {r.resident_id: r.name for r in program.residents}
    coach_names = {c.coach_id: c.name for c in program.coaches}
    pairs = matching.pairs
    return pd.DataFrame(
        {
            "resident_id": pairs["resident_id"],
            "resident_name": pairs["resident_id"].map(names),
            "coach_id": pairs["coach_id"],
            "coach_name": pairs["coach_id"].map(coach_names),
            "affinity": pairs["affinity"].astype(int),
            "kept": pairs["kept"].map(lambda k: "true" if k else "false"),
            "start": [
                plan.starts.get((r, c), program.start).isoformat()
                for r, c in zip(pairs["resident_id"], pairs["coach_id"], strict=True)
            ],
        }
    )


def _history_table(plan: Schedule) -> pd.DataFrame:
    keys = sorted(set(plan.starts) | set(plan.ends))
    return pd.DataFrame(
        {
            "resident_id": [r for r, _ in keys],
            "coach_id": [c for _, c in keys],
            "start": [plan.starts[k].isoformat() if k in plan.starts else "" for k in keys],
            "end": [plan.ends[k].isoformat() if k in plan.ends else "" for k in keys],
        },
        columns=["resident_id", "coach_id", "start", "end"],
    )


def run(
    program_dir: str | Path,
    out_dir: str | Path,
    *,
    previous: str | Path | None = None,
    as_of: date | None = None,
    seed: int | None = None,
    domain: str | None = None,
    meeting_link: str | None = None,
    send_invitations: bool = False,
    allow_unmatched: bool = False,
    record_timings: bool = False,
    force: bool = False,
    executor: Executor | None = None,
    progress: Callable[[str], None] | None = None,
) -> RunResult:
    """Load, validate, match, schedule and write a run folder (see the module docstring).

    Parameters
    ----------
    program_dir : str or path
        The program folder (SPEC §2).
    out_dir : str or path
        The run folder to write; replaced as a whole when the run succeeds.
    previous : str or path, optional
        An earlier run folder to continue from (needs ``as_of``).
    as_of : datetime.date, optional
        The re-planning date: meetings before it stay as they were.
    seed : int, optional
        Overrides the policy's seed.
    domain : str, optional
        The calendars' UID domain (``<meeting_id>@<domain>``). Default: the previous
        run's (so calendars keep updating in place; ``coachmatch.invalid`` for runs that
        recorded none), else the program's ``uid_domain``, else one derived from its name.
    meeting_link : str, optional
        The link of virtual meetings, a template: ``{meeting_id}`` is replaced by the
        meeting's id (plain text replacement; nothing else in it is interpreted).
    send_invitations : bool
        Also write per-meeting ``METHOD:REQUEST``/``CANCEL`` messages.
    allow_unmatched : bool
        As in :func:`coachmatch.match`.
    record_timings : bool
        Write wall-clock timings into run.json (the folder then differs between reruns).
    force : bool
        Accept an ``as_of`` before the previous run's (meetings it treated as held may
        then be re-planned); DTSTAMP still never goes back.
    executor, progress
        As in :func:`coachmatch.schedule`.

    Returns
    -------
    RunResult

    Raises
    ------
    ProgramError
        Bad input (the program folder, or the previous run folder), every problem in
        one report.
    InfeasibleError
        No matching satisfies the rules. (Pairs that cannot be planned do not fail
        the run: they are re-matched, and what remains is reported.)
    OutputFolderError
        ``out_dir`` is an input folder or a parent of one, a symbolic link, or a
        non-empty folder coachmatch did not write (a ValueError).
    ValueError
        ``previous`` without ``as_of``; a bad ``domain`` or ``meeting_link``.

    Examples
    --------
    >>> import tempfile
    >>> from coachmatch.datasets import synthetic
    >>> from coachmatch.io import write_program
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     folder = write_program(synthetic("small"), f"{tmp}/program")
    ...     result = run(folder, f"{tmp}/out")
    ...     sorted(p.name for p in result.out.iterdir())[:4]
    ['calendars', 'meetings.csv', 'pair_history.csv', 'pairs.csv']
    """
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now

    if previous is not None and as_of is None:
        raise ValueError("continuing from a previous run needs an as-of date")
    _check_options(domain, meeting_link)
    check_output_folder(out_dir, [program_dir, *([previous] if previous is not None else [])])
    source = Path(program_dir)
    program = load_program(source)
    checksum = _checksum(source)
    if seed is not None:
        program = program.with_policy(seed=seed)
    earlier = read_run(previous) if previous is not None else None
    departed: list[str] = []
    if earlier is not None:
        departed = _departed(program, earlier, str(previous))
        if as_of is not None and earlier.as_of is not None and as_of < earlier.as_of and not force:
            raise ValueError(
                f"--as-of {as_of} is before the previous run's as-of date {earlier.as_of}: "
                "meetings that run treated as held would be re-planned; use --force if that "
                "is meant"
            )
    program, applied = _resolve_changes(program, earlier)
    if earlier is not None:
        program = carry_pairs(program, earlier.pairs)  # previous pairs are current coaches (O1)
    lap("load")
    matching = match(program, allow_unmatched=allow_unmatched, as_of=as_of, progress=progress)
    lap("match")
    cache: dict[Any, Any] = {}

    def plan_for(matched: Matching, variant: Program) -> Schedule:
        return schedule(
            variant,
            matched,
            previous=earlier.meetings if earlier is not None else None,
            as_of=as_of,
            starts=earlier.starts if earlier is not None else None,
            ends=earlier.ends if earlier is not None else None,
            executor=executor,
            allow_partial=True,
            progress=progress,
            cache=cache,
        )

    plan = plan_for(matching, program)
    program, matching, plan, rounds = _close_the_loop(
        program, matching, plan, plan_for, allow_unmatched=allow_unmatched, progress=progress
    )
    lap("schedule")
    day = as_of or program.start
    if earlier is not None and earlier.as_of is not None:
        day = max(day, earlier.as_of)  # DTSTAMP never goes back, even when forced
    stamp = datetime.combine(day, datetime.min.time(), tzinfo=program.zone).astimezone(UTC)
    if domain is None and earlier is not None:
        domain = earlier.domain or OLD_DOMAIN
    domain = domain or program.calendar_domain
    files: dict[str, bytes] = {
        "pairs.csv": _csv(_pairs_table(program, matching, plan)),
        "meetings.csv": _csv(_meetings_table(plan)),
        "pair_history.csv": _csv(_history_table(plan)),
    }
    if len(matching.unmatched):
        files["unmatched.csv"] = _csv(matching.unmatched)
    if program.policy.not_own_decision == "recuse":
        files["recusals.csv"] = _csv(matching.recusals)
    for name, data in calendars(
        plan, domain=domain, stamp=stamp, meeting_link=meeting_link
    ).items():
        files[f"calendars/{name}"] = data
    notes = [
        f"{person} is no longer in the program: their pair ended and their later meetings "
        "are cancelled"
        for person in departed
    ]
    sent = 0
    if send_invitations:
        messages = invitations(
            plan, domain=domain, stamp=stamp, meeting_link=meeting_link, meeting_ids=plan.changed
        )
        for name, data in messages.items():
            files[f"invitations/{name}"] = data
        sent = len(messages)
        notes += unsendable(plan, stamp=stamp, meeting_ids=plan.changed)
    note = f"Re-planned as of {as_of}." if earlier is not None else ""
    if as_of is not None and earlier is None:
        note = f"Planned from {as_of}."
    files["report.html"] = report_html(
        program,
        matching,
        plan,
        title_note=note,
        rounds=[r.sentence() for r in rounds],
        notes=notes,
    ).encode("utf-8")
    lap("outputs")
    manifest = _manifest(program, matching, plan, checksum, as_of, earlier is not None)
    manifest["rematch"] = [r.to_dict() for r in rounds]
    manifest["changes_applied"] = applied
    manifest["calendar"] = {
        "uid_domain": domain,
        "stamp_date": day.isoformat(),
        "invitations": sent if send_invitations else None,
        "notes": notes,
    }
    if record_timings:
        manifest["timings_s"] = dict(timings)
    files["run.json"] = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8")
    with atomic_folder(out_dir) as staging:
        for name, data in files.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    lap("write")
    log.info("run written to %s", out_dir)
    return RunResult(Path(out_dir), program, matching, plan, manifest, timings, tuple(rounds))


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _check_options(domain: str | None, meeting_link: str | None) -> None:
    """The calendar options, checked before any work (ValueError: exit 2)."""
    if domain is not None and not HOST_NAME.match(domain):
        raise ValueError(
            f"--domain {domain!r} is not a host name (letters, digits, '-' and '.', "
            "e.g. coaching.psychiatry.example.org)"
        )
    if meeting_link is not None and (_CONTROL.search(meeting_link) or len(meeting_link) > 2000):
        raise ValueError(
            "--meeting-link must be one line of at most 2,000 characters, without control "
            f"characters; {LINK_PLACEHOLDER} is replaced by the meeting's id"
        )


def _close_the_loop(
    program: Program,
    matching: Matching,
    plan: Schedule,
    plan_for: Callable[[Matching, Program], Schedule],
    *,
    allow_unmatched: bool,
    progress: Callable[[str], None] | None,
) -> tuple[Program, Matching, Schedule, list[Round]]:
    """Re-match the residents of unplanned pairs, keeping every other pair (SPEC 1.1 §6).

    Each round forbids the unplanned pairs (``forbid`` requests that say why), makes
    every other matched coach the resident's current coach so that O1 keeps the pair,
    re-matches and re-schedules. The returned program is the input plus the forbids;
    the matching is restated against it (so ``kept`` still means the input's current
    coach). Stops when everything is planned, after ``rematch_rounds`` rounds, or when
    the re-match is impossible (recorded with its reasons).
    """
    rounds: list[Round] = []
    for number in range(1, program.policy.rematch_rounds + 1):
        stuck = [
            (str(r), str(c), str(why))
            for r, c, why in plan.unplanned.itertuples(index=False, name=None)
        ]
        if not stuck:
            break
        forbids = tuple(
            Request(
                resident_id=r,
                coach_id=c,
                kind="forbid",
                reason=f"round {number}: could not be scheduled ({why})",
            )
            for r, c, why in stuck
        )
        forbidding = program.replace(requests=program.requests + forbids)
        stuck_residents = {r for r, _, _ in stuck}
        before = dict(zip(matching.pairs["resident_id"], matching.pairs["coach_id"], strict=True))
        keep = {r: c for r, c in before.items() if r not in stuck_residents}
        variant = forbidding.replace(
            residents=tuple(
                r.model_copy(update={"current_coach_id": keep[r.resident_id]})
                if r.resident_id in keep
                else r
                for r in forbidding.residents
            )
        )
        try:
            solved = match(
                variant, allow_unmatched=allow_unmatched, as_of=matching.as_of, progress=progress
            )
        except InfeasibleError as error:
            note = "The re-match was impossible, so the pairs stay as they were: " + "; ".join(
                error.reasons
            )
            rounds.append(Round(number, stuck, [], len(stuck), note))
            break
        rematched = restate(solved, forbidding, method=f"{solved.method}, re-matched")
        after = dict(zip(rematched.pairs["resident_id"], rematched.pairs["coach_id"], strict=True))
        moved = [(r, before[r], after.get(r)) for r in sorted(stuck_residents)]
        plan = plan_for(rematched, forbidding)
        program, matching = forbidding, rematched
        rounds.append(Round(number, stuck, moved, len(plan.unplanned)))
        if progress is not None:
            progress(rounds[-1].sentence())
    return program, matching, plan, rounds


def _manifest(
    program: Program,
    matching: Matching,
    plan: Schedule,
    checksum: str,
    as_of: date | None,
    continued: bool,
) -> dict[str, Any]:
    from coachmatch import __version__

    return {
        "coachmatch": __version__,
        "input_sha256": checksum,
        "program": {
            "name": program.name,
            "timezone": program.timezone,
            "start": program.start.isoformat(),
            "end": program.end.isoformat(),
        },
        "policy": json.loads(program.policy.model_dump_json()),
        "as_of": as_of.isoformat() if as_of else None,
        "continued_from_previous": continued,
        "matching": {
            "status": matching.status,
            "method": matching.method,
            "levels": matching.levels,
            "optimized": list(matching.optimized),
            "bound": {k: v if math.isfinite(v) else None for k, v in matching.bound.items()},
            "pairs": len(matching.pairs),
            "unmatched": len(matching.unmatched),
            "proof": None if matching.proof is None else dataclasses.asdict(matching.proof),
        },
        "schedule": {
            "status": plan.status,
            "meetings": len(plan.scheduled),
            "cancelled": int((plan.meetings["status"] == "cancelled").sum()),
            "travel_minutes": plan.travel_total,
            "travel_lower_bound": plan.travel_lower_bound,
            "not_planned": plan.problems,
            "changes": plan.changes,
        },
    }
