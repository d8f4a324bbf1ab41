"""Benchmark: building the synthetic instances, and reading/writing them as folders.

Protocol
--------
- Each size is built with seed 0, ``repeats`` times in this process after one warm-up
  build; the median and the minimum wall time are reported (``time.perf_counter``).
- Peak memory is the growth of the peak resident set size (``VmHWM`` of
  ``/proc/self/status``, Linux) while the size is built, in a fresh interpreter per
  size so that one size does not hide another's peak.
- Folder I/O: ``write_program`` then ``load_program`` of the same program into a
  temporary folder, median of ``repeats``; the round trip must give an equal Program.
- Run: ``python benchmarks/generation.py [--repeats N] [--sizes small medium large]``.
  Results go to standard output as a Markdown table; copy it into README.md with the
  machine's description.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import coachmatch
from coachmatch import Program, load_program, write_program
from coachmatch.datasets import synthetic


def timed(fn: Callable[[int], object], repeats: int) -> list[float]:
    """Wall times of ``fn(k)`` for ``k`` in ``range(repeats)``."""
    times = []
    for k in range(repeats):
        start = time.perf_counter()
        fn(k)
        times.append(time.perf_counter() - start)
    return times


def peak_memory_mib(size: str) -> float:
    """Growth of the peak resident set (VmHWM) while building ``size``, in a fresh interpreter.

    ``getrusage``'s ``ru_maxrss`` is not used: a child started from this process
    inherits this process's peak, while VmHWM belongs to the new address space.
    """
    code = (
        "import re\n"
        "def status(key):\n"
        "    text = open('/proc/self/status').read()\n"
        "    return int(re.search(key + r':\\s+(\\d+) kB', text).group(1))\n"
        "from coachmatch.datasets import synthetic\n"
        "before = status('VmRSS')\n"
        f"program = synthetic({size!r}, seed=0)\n"
        "print((status('VmHWM') - before) / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def build_program(size: str, _: int) -> Program:
    return synthetic(size, seed=0)  # type: ignore[arg-type]


def write_copy(program: Program, folder: Path, k: int) -> Path:
    return write_program(program, folder / str(k))


def load_copy(folder: Path, k: int) -> Program:
    return load_program(folder / str(k))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", nargs="+", default=["small", "medium", "large"])
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args()

    print(
        f"coachmatch {coachmatch.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()}, {platform.processor() or 'unknown CPU'}"
    )
    print()
    print(
        "| size | residents × coaches × sites | build median (s) | build min (s) "
        "| peak RSS growth (MiB) | write (s) | load (s) | round trip equal |"
    )
    print("|---|---|---|---|---|---|---|---|")
    rows = []
    for size in args.sizes:
        synthetic(size, seed=0)  # warm-up: imports, caches
        build = timed(partial(build_program, size), args.repeats)
        program = synthetic(size, seed=0)
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            write = timed(partial(write_copy, program, folder), args.repeats)
            load = timed(partial(load_copy, folder), args.repeats)
            equal = load_program(folder / "0") == program
        row = {
            "size": size,
            "shape": f"{len(program.residents)} × {len(program.coaches)} × {len(program.sites)}",
            "build_median_s": statistics.median(build),
            "build_min_s": min(build),
            "peak_rss_mib": peak_memory_mib(size),
            "write_s": statistics.median(write),
            "load_s": statistics.median(load),
            "equal": equal,
        }
        rows.append(row)
        print(
            f"| {size} | {row['shape']} | {row['build_median_s']:.3f} | {row['build_min_s']:.3f} "
            f"| {row['peak_rss_mib']:.0f} | {row['write_s']:.3f} | {row['load_s']:.3f} "
            f"| {'yes' if equal else 'NO'} |",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
