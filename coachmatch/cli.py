"""The ``coachmatch`` command.

``coachmatch validate FOLDER`` reads a program folder and prints its summary
(exit 0) or every problem found (exit 1). Warnings (unknown columns) are
printed to standard error either way.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

from coachmatch import __version__
from coachmatch.exceptions import ProgramError, ProgramWarning
from coachmatch.io import load_program

__all__ = ["main"]


def _validate(args: argparse.Namespace) -> int:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ProgramWarning)
        try:
            program = load_program(args.folder)
        except ProgramError as error:
            _print_warnings(caught)
            print(error, file=sys.stdout)
            return 1
        except FileNotFoundError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    _print_warnings(caught)
    print(program.summary())
    return 0


def _print_warnings(caught: Sequence[warnings.WarningMessage]) -> None:
    for warning in caught:
        print(f"warning: {warning.message}", file=sys.stderr)


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
        "with file, line and column. Exit status 0 when valid, 1 otherwise.",
    )
    validate.add_argument("folder", help="the program folder")
    validate.set_defaults(handler=_validate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Examples
    --------
    >>> main(["validate", "no-such-folder"])  # doctest: +SKIP
    1
    """
    args = build_parser().parse_args(argv)
    status: int = args.handler(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
