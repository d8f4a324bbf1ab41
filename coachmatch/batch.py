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

from coachmatch.calendar.export import LINK_PLACEHOLDER, calendars, invitations
from coachmatch.constraints.meetings import MEETING_COLUMNS
from coachmatch.exceptions import InfeasibleError, Problem, ProgramError
from coachmatch.io.folder import FILE_ORDER, load_program, read_csv
from coachmatch.io.output import atomic_folder, check_output_folder
from coachmatch.io.reading import inside, read_file
from coachmatch.io.safe import restore, safe_frame
from coachmatch.models import MAX_ID_BYTES, Program, Request, check_id
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


def _unknown_in_previous(program: Program, previous: PreviousRun, folder: str) -> list[Problem]:
    """Meetings of the previous run naming a resident, coach or site the program lacks."""
    index = program.index
    known = {"resident_id": index.resident, "coach_id": index.coach, "site_id": index.site}
    problems = []
    for line, row in zip(previous.meeting_lines, previous.meetings.to_dict("records"), strict=True):
        for column, ids in known.items():
            value = row[column]
            if value not in ids and not (column == "site_id" and value == "virtual"):
                noun = column.removesuffix("_id")
                problems.append(
                    Problem(
                        "meetings.csv",
                        line,
                        column,
                        f"unknown {noun} {value!r} (not in the program folder)",
                        value,
                        f"an id of the program's {noun}s",
                    )
                )
    if problems:
        raise ProgramError(problems, f"the previous run {folder}")
    return problems


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
    return PreviousRun(pairs, meetings, starts, ends, lines)


def _continue_pairs(program: Program, previous: PreviousRun) -> Program:
    """The previous run's pairs become the residents' current coaches (O1)."""
    coach_of = {
        r: c
        for r, c in zip(previous.pairs["resident_id"], previous.pairs["coach_id"], strict=True)
        if c in program.index.coach
    }
    residents = tuple(
        r.model_copy(update={"current_coach_id": coach_of[r.resident_id]})
        if r.resident_id in coach_of
        else r
        for r in program.residents
    )
    return program.replace(residents=residents)


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
    domain: str = "coachmatch.invalid",
    meeting_link: str | None = None,
    send_invitations: bool = False,
    allow_unmatched: bool = False,
    record_timings: bool = False,
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
    domain : str
        The calendars' UID domain (``<meeting_id>@<domain>``); keep it from run to run.
    meeting_link : str, optional
        The link of virtual meetings, a template: ``{meeting_id}`` is replaced by the
        meeting's id (plain text replacement; nothing else in it is interpreted).
    send_invitations : bool
        Also write per-meeting ``METHOD:REQUEST``/``CANCEL`` messages.
    allow_unmatched : bool
        As in :func:`coachmatch.match`.
    record_timings : bool
        Write wall-clock timings into run.json (the folder then differs between reruns).
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
    if earlier is not None:
        _unknown_in_previous(program, earlier, str(previous))
        program = _continue_pairs(program, earlier)
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
    stamp = datetime.combine(day, datetime.min.time(), tzinfo=program.zone).astimezone(UTC)
    files: dict[str, bytes] = {
        "pairs.csv": _csv(_pairs_table(program, matching, plan)),
        "meetings.csv": _csv(_meetings_table(plan)),
        "pair_history.csv": _csv(_history_table(plan)),
    }
    if len(matching.unmatched):
        files["unmatched.csv"] = _csv(matching.unmatched)
    if program.policy.not_own_decision == "recuse":
        files["recusals.csv"] = _csv(matching.recusals)
    options = {"domain": domain, "stamp": stamp, "meeting_link": meeting_link}
    for name, data in calendars(plan, **options).items():  # type: ignore[arg-type]
        files[f"calendars/{name}"] = data
    if send_invitations:
        for name, data in invitations(plan, **options).items():  # type: ignore[arg-type]
            files[f"invitations/{name}"] = data
    note = f"Re-planned as of {as_of}." if earlier is not None else ""
    if as_of is not None and earlier is None:
        note = f"Planned from {as_of}."
    files["report.html"] = report_html(
        program, matching, plan, title_note=note, rounds=[r.sentence() for r in rounds]
    ).encode("utf-8")
    lap("outputs")
    manifest = _manifest(program, matching, plan, checksum, as_of, earlier is not None)
    manifest["rematch"] = [r.to_dict() for r in rounds]
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


_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _check_options(domain: str, meeting_link: str | None) -> None:
    """The calendar options, checked before any work (ValueError: exit 2)."""
    if not _DOMAIN.match(domain):
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
