"""The ``coachmatch`` command.

- ``coachmatch validate FOLDER`` reads a program folder and prints its summary
  (exit 0) or every problem found (exit 2).
- ``coachmatch match FOLDER`` matches residents with coaches and prints the
  result's summary (exit 0), every input problem (exit 2) or the reasons no
  matching exists (exit 3).
- ``coachmatch schedule FOLDER`` matches, then plans the year's meetings with the
  least travel, and prints all three summaries (same exit codes).
- ``coachmatch run FOLDER --out OUT`` is the batch run: it writes the run folder
  (SPEC §6) atomically; ``--previous`` and ``--as-of`` re-plan from an earlier run.
- ``coachmatch demo [--out DIR]`` runs the batch run on the bundled example.
- ``coachmatch publish RUN_DIR --caldav URL`` puts every person's meetings of a run
  folder on a CalDAV server, by UID (credentials from the environment or netrc).

Exit status, the same for every command: 0 on success, 2 for bad input (a folder,
a value or an option), 3 when the rules cannot all be met, 4 when a calendar server
cannot be reached or refuses (``publish``), 130 when interrupted (Ctrl-C), with a
one-line message and no traceback.

Warnings (unknown columns) go to standard error.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from importlib.resources import files
from pathlib import Path

from coachmatch import __version__
from coachmatch.exceptions import InfeasibleError, ProgramError, ProgramWarning
from coachmatch.io import load_program
from coachmatch.models import Program, closest
from coachmatch.solver import match, schedule

EXIT_BAD_INPUT = 2
EXIT_INFEASIBLE = 3
EXIT_SERVER = 4
EXIT_INTERRUPTED = 130

__all__ = ["main"]


def _validate(args: argparse.Namespace) -> int:
    program = _load(args.folder)
    if program is None:
        return EXIT_BAD_INPUT
    print(program.summary())
    return 0


def _load(folder: str) -> Program | None:
    """The program, or None after printing its problems."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ProgramWarning)
        try:
            program = load_program(folder)
        except ProgramError as error:
            _print_warnings(caught)
            print(error)
            return None
        except FileNotFoundError as error:
            print(f"error: {error}", file=sys.stderr)
            return None
    _print_warnings(caught)
    return program


def _match(args: argparse.Namespace) -> int:
    program = _load(args.folder)
    if program is None:
        return EXIT_BAD_INPUT
    unknown = [r for r in args.explain or () if r not in program.index.resident]
    for resident_id in unknown:
        close = closest(resident_id, list(program.index.resident_ids))
        hint = f"; did you mean {close}?" if close else ""
        print(f"error: --explain {resident_id}: no such resident{hint}", file=sys.stderr)
    if unknown:
        return EXIT_BAD_INPUT
    progress = (lambda line: print(line, file=sys.stderr)) if args.verbose else None
    try:
        result = match(
            program, method=args.method, allow_unmatched=args.allow_unmatched, progress=progress
        )
    except InfeasibleError as error:
        print(error)
        return EXIT_INFEASIBLE
    print(program.summary())
    print()
    print(result.summary())
    for resident_id in args.explain or ():
        print()
        print(result.explain(resident_id))
    if getattr(args, "plan", False):
        try:
            plan = schedule(program, result, allow_partial=args.allow_partial, progress=progress)
        except InfeasibleError as error:
            print()
            print(error)
            return EXIT_INFEASIBLE
        print()
        print(plan.summary())
    return 0


def _print_warnings(caught: Sequence[warnings.WarningMessage]) -> None:
    for warning in caught:
        print(f"warning: {warning.message}", file=sys.stderr)


def _matching_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments ``match`` and ``schedule`` share."""
    parser.add_argument("folder", help="the program folder")
    parser.add_argument(
        "--method",
        choices=["auto", "flow", "cpsat"],
        default="auto",
        help="matching solver (default: auto, min-cost flow when possible)",
    )
    parser.add_argument(
        "--allow-unmatched",
        action="store_true",
        help="leave the fewest residents unmatched instead of failing",
    )
    parser.add_argument(
        "--explain",
        nargs="+",
        metavar="RESIDENT_ID",
        help="also explain these residents' assignments",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="print solver progress to standard error"
    )


@contextlib.contextmanager
def _progress(verbose: bool) -> Iterator[Callable[[str], None] | None]:
    """A progress bar on a terminal (rich), progress lines with -v, else quiet."""
    if verbose:
        yield lambda line: print(line, file=sys.stderr)
        return
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task("matching", total=None)
        done = 0

        def update(line: str) -> None:
            nonlocal done
            if line.startswith("scheduled "):
                done += 1
                bar.update(task, description=f"scheduling: {done} coaches planned")
            elif line.startswith("published "):
                done += 1
                bar.update(task, description=f"publishing: {done} calendars")
            else:
                bar.update(task, description=line[:60])

        yield update


def _batch(args: argparse.Namespace) -> int:
    from coachmatch.batch import run

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ProgramWarning)
        try:
            with _progress(args.verbose) as progress:
                result = run(
                    args.folder,
                    args.out,
                    previous=args.previous,
                    as_of=args.as_of,
                    seed=args.seed,
                    domain=args.domain,
                    meeting_link=args.meeting_link,
                    send_invitations=args.invitations,
                    allow_unmatched=args.allow_unmatched,
                    record_timings=args.timings,
                    force=args.force,
                    progress=progress,
                )
        except ProgramError as error:
            _print_warnings(caught)
            print(error)
            return EXIT_BAD_INPUT
        except InfeasibleError as error:  # before ValueError, its base class
            _print_warnings(caught)
            print(error)
            return EXIT_INFEASIBLE
        except (FileNotFoundError, ValueError) as error:
            _print_warnings(caught)
            print(f"error: {error}", file=sys.stderr)
            return EXIT_BAD_INPUT
    _print_warnings(caught)
    print(result.program.summary())
    print()
    print(result.matching.summary())
    print()
    print(result.schedule.summary())
    print()
    for done in result.rounds:
        print(f"re-matched: {done.sentence()}")
    if result.rounds:
        print()
    times = ", ".join(f"{k} {v:.2f} s" for k, v in result.timings.items())
    print(f"wrote {result.out}/ (report: {result.out / 'report.html'}); {times}")
    return 0


def _publish(args: argparse.Namespace) -> int:
    from coachmatch.calendar.publish import PublishError, publish

    try:
        with _progress(args.verbose) as progress:
            done = publish(args.run_dir, args.caldav, progress=progress)
    except PublishError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_SERVER
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"published {args.run_dir} to {args.caldav}: {done.summary()}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    args.folder = str(example_folder())
    return _batch(args)


def example_folder() -> Path:
    """The bundled example program folder (``coachmatch/data/toronto-psychiatry``).

    Examples
    --------
    >>> (example_folder() / "program.toml").is_file()
    True
    """
    return Path(str(files("coachmatch") / "data" / "toronto-psychiatry"))


def _run_arguments(parser: argparse.ArgumentParser, *, out: str | None) -> None:
    parser.add_argument("--out", required=out is None, default=out, help="the run folder to write")
    parser.add_argument("--previous", help="an earlier run folder to continue from")
    parser.add_argument(
        "--as-of",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="re-plan from this date: meetings before it stay as they were",
    )
    parser.add_argument("--seed", type=int, help="override the policy's seed")
    parser.add_argument(
        "--domain",
        help="the calendars' UID domain; keep it from run to run (default: the previous "
        "run's, else uid_domain in program.toml, else one derived from the program's name)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="accept an --as-of date before the previous run's",
    )
    parser.add_argument(
        "--meeting-link",
        help="link of virtual meetings, a template: {meeting_id} is replaced by the "
        "meeting's id (plain replacement; nothing else is interpreted)",
    )
    parser.add_argument(
        "--invitations",
        action="store_true",
        help="also write per-meeting METHOD:REQUEST/CANCEL invitations",
    )
    parser.add_argument(
        "--allow-unmatched", action="store_true", help="leave the fewest residents unmatched"
    )
    parser.add_argument(
        "--timings",
        action="store_true",
        help="record wall-clock timings in run.json (reruns then differ in that file)",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="print progress lines to standard error"
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``coachmatch`` command."""
    parser = argparse.ArgumentParser(
        prog="coachmatch",
        description="Pair medical residents with faculty coaches and plan their meetings.",
    )
    parser.add_argument("--version", action="version", version=f"coachmatch {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser(
        "validate",
        help="check a program folder and print its summary or every problem",
        description="Check a program folder (SPEC §2) and print a summary, or every problem "
        "with file, line and column. Exit status 0 when valid, 2 otherwise.",
    )
    validate.add_argument("folder", help="the program folder")
    validate.set_defaults(handler=_validate)
    matcher = commands.add_parser(
        "match",
        help="find the best coach for every resident and print the result",
        description="Match residents with coaches (SPEC §4) and print a summary. Exit status "
        "0 on success, 2 for bad input, 3 when no matching satisfies the rules.",
    )
    _matching_arguments(matcher)
    matcher.set_defaults(handler=_match)
    planner = commands.add_parser(
        "schedule",
        help="match, then plan a year of meetings with the least travel",
        description="Match residents with coaches (SPEC §4), then plan every pair's meetings "
        "(SPEC §5) and print the summaries. Exit status 0 on success, 2 for bad "
        "input, 3 when the rules cannot all be met.",
    )
    _matching_arguments(planner)
    planner.add_argument(
        "--allow-partial",
        action="store_true",
        help="plan every pair that can be planned and list the others",
    )
    planner.set_defaults(handler=_match, plan=True)
    batch = commands.add_parser(
        "run",
        help="the batch run: match, schedule and write the run folder",
        description="Load, validate, match and schedule, then write the run folder (SPEC "
        "§6: pairs.csv, meetings.csv, calendars, report.html, run.json) atomically. "
        "Exit status 0 on success, 2 for bad input, 3 when the rules cannot all be met.",
    )
    batch.add_argument("folder", help="the program folder")
    _run_arguments(batch, out=None)
    batch.set_defaults(handler=_batch)
    demo = commands.add_parser(
        "demo",
        help="run the whole pipeline on the bundled Toronto psychiatry example",
        description="The batch run on the bundled example program; writes the run folder "
        "(default: coachmatch-demo) and prints the summaries.",
    )
    _run_arguments(demo, out="coachmatch-demo")
    demo.set_defaults(handler=_demo)
    publisher = commands.add_parser(
        "publish",
        help="put every person's meetings of a run folder on a CalDAV server",
        description="Create, update or cancel each person's events on a CalDAV server, by "
        "UID: never a duplicate, nothing written when nothing changed. Credentials come "
        "from COACHMATCH_CALDAV_USERNAME and COACHMATCH_CALDAV_PASSWORD or a netrc file, "
        "never from the command line. Exit status 0, 2 for a bad folder or URL, 4 when "
        "the server cannot be reached or refuses.",
    )
    publisher.add_argument("run_dir", help="a run folder written by coachmatch run")
    publisher.add_argument(
        "--caldav",
        required=True,
        metavar="URL",
        help="the collection holding one calendar per person (https://, or http:// to "
        "this machine)",
    )
    publisher.add_argument(
        "-v", "--verbose", action="store_true", help="print a line per calendar published"
    )
    publisher.set_defaults(handler=_publish)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Examples
    --------
    >>> main(["validate", "no-such-folder"])  # doctest: +SKIP
    2
    """
    args = build_parser().parse_args(argv)
    try:
        status: int = args.handler(args)
    except KeyboardInterrupt:
        print("interrupted: nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    return status


if __name__ == "__main__":
    sys.exit(main())
