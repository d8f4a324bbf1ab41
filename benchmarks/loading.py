"""Benchmark: load_program against pandas reading the same CSV files (issue 13, item 4).

Protocol
--------
- Instances: ``synthetic(size, seed=0)`` written once with ``write_program``, and
  ``synthetic("small", seed=0)`` for warming up.
- A program is read once per process in real use (the command line, a batch run), so
  every read is timed in a fresh interpreter (a subprocess of this script), after the
  same read of the small folder (imports and first-call work done), ``--repeats``
  times (default 7) each, interleaved:

  1. **pandas** (the reference): ``pandas.read_csv(path, dtype=str,
     keep_default_na=False)`` of every CSV file of the folder — the floor for any
     reader of this format: strings, no validation;
  2. **load_program**: the folder loader as shipped (columns read at once, rows the
     column reader cannot vouch for validated by the row models; cross-table checks);
  3. **row loader**: the same ``load_program`` with the column reader switched off,
     every row validated by its pydantic model (the loader before issue 13, item 4);
  4. **models unchecked** (a second reference): each CSV split at commas and line
     breaks and its rows made into row models as ``model_construct`` would, without
     any check or conversion: the floor for loading into this data model (valid only
     for folders without quoted cells, as the synthetic ones).

  Reported: the median wall time of each (``time.perf_counter``), and each loader as
  a multiple of the pandas median. ``--cold`` skips the warm-up read: the first read
  of a fresh process, imports apart, as the command line makes it.
- Both loaders must give the same Program as the one written, with the same fields
  set on every row model (checked once per size, reported as "same").
- Run: ``python benchmarks/loading.py [--sizes medium large] [--repeats 7] [--cold]``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

_READ = r"""
import sys, time, warnings
from pathlib import Path
from unittest import mock
warnings.simplefilter("ignore")
import pandas as pd
from coachmatch import load_program

how, small, folder = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])

def models_unchecked(where):
    # each CSV's rows straight into row models: split, dicts, models; no check at all
    from itertools import repeat
    from coachmatch.models import TABLES
    tables = {}
    for path in sorted(where.glob("*.csv")):
        model, _ = TABLES[path.stem]
        lines = path.read_text(encoding="utf-8").split("\n")[:-1]
        header = tuple(lines[0].split(","))
        cells = ",".join(lines[1:]).split(",")
        columns = [cells[k :: len(header)] for k in range(len(header))]
        made, fields_set = [], set(header)
        for row in map(dict, map(zip, repeat(header), zip(*columns))):
            item = model.__new__(model)
            object.__setattr__(item, "__dict__", row)
            object.__setattr__(item, "__pydantic_fields_set__", fields_set)
            object.__setattr__(item, "__pydantic_extra__", None)
            object.__setattr__(item, "__pydantic_private__", None)
            made.append(item)
        tables[path.stem] = made
    return tables

def read(where):
    if how == "pandas":
        for path in sorted(where.glob("*.csv")):
            pd.read_csv(path, dtype=str, keep_default_na=False)
    elif how == "unchecked":
        models_unchecked(where)
    elif how == "columns":
        load_program(where)
    else:
        with mock.patch("coachmatch.io.folder.read_columns", return_value=None):
            load_program(where)

if small.name:
    read(small)
started = time.perf_counter()
read(folder)
print(time.perf_counter() - started)
"""

_SAME = r"""
import sys, warnings
from unittest import mock
warnings.simplefilter("ignore")
from coachmatch import load_program
from coachmatch.datasets import synthetic
from coachmatch.models import TABLES

def fields(program):
    return [sorted(m.model_fields_set) for table in TABLES for m in getattr(program, table)]

fast = load_program(sys.argv[1])
with mock.patch("coachmatch.io.folder.read_columns", return_value=None):
    slow = load_program(sys.argv[1])
written = synthetic(sys.argv[2], seed=0)
print(fast == slow == written and fields(fast) == fields(slow))
"""


def _run(code: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", nargs="+", default=["medium", "large"])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--cold", action="store_true", help="no warm-up read")
    args = parser.parse_args()
    from run import _machine  # this folder's run.py: the same machine line

    import coachmatch
    from coachmatch import write_program
    from coachmatch.datasets import synthetic

    print(f"coachmatch {coachmatch.__version__}, {_machine()}")
    print()
    print(
        "| size | CSV rows | pandas read (s) | load_program (s) | × pandas "
        "| row loader (s) | × pandas | models unchecked (s) | × pandas | same Program |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        small = write_program(synthetic("small", seed=0), Path(tmp) / "warm-up")
        for size in args.sizes:
            program = synthetic(size, seed=0)  # type: ignore[arg-type]
            folder = write_program(program, Path(tmp) / size)
            rows = sum(
                len(path.read_text(encoding="utf-8").splitlines()) - 1
                for path in folder.glob("*.csv")
            )
            times: dict[str, list[float]] = {
                "pandas": [],
                "columns": [],
                "rows": [],
                "unchecked": [],
            }
            for _ in range(args.repeats):
                for how, values in times.items():
                    warm_up = "" if args.cold else str(small)
                    values.append(float(_run(_READ, how, warm_up, str(folder))))
            same = _run(_SAME, str(folder), size) == "True"
            pandas, columns, by_rows, unchecked = (statistics.median(times[k]) for k in times)
            print(
                f"| {size} | {rows:,} | {pandas:.3f} | {columns:.3f} | {columns / pandas:.1f} "
                f"| {by_rows:.3f} | {by_rows / pandas:.1f} | {unchecked:.3f} "
                f"| {unchecked / pandas:.1f} | {'yes' if same else 'NO'} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
