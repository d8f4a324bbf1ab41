"""Benchmark: a whole batch run — load → match → schedule → write — with peak memory.

Protocol
--------
- Instances: ``synthetic(size, seed=0)`` written as a program folder, for each size asked
  (``medium``, ``large``).
- Each size runs ``coachmatch.run(folder, out)`` once in a fresh interpreter (a
  subprocess of this script), with the default executor (a process pool, one worker
  per core). The run's own stage timings are reported: load, match (the re-matching
  loop's first match), schedule (with any re-matching rounds), outputs (tables,
  calendars, report), write (the atomic folder).
- Peak memory of every process: a thread in the measured interpreter reads
  ``/proc/<pid>/status`` (VmHWM, the peak resident set) of itself and of each of its
  child processes every 0.1 s; the last value read for each process is its peak (a
  worker's final moments may be missed by at most one interval). Reported: the main
  process's peak, the largest worker's peak, and the sum of all peaks (an upper bound
  on what the machine held at once).
- Reference in the same run: reading every CSV of the same folder with pandas as
  strings (``dtype=str``), the floor for any loader of this format; the load stage is
  shown as a multiple of it.
- Run: ``python benchmarks/run.py [--sizes medium large]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

_CHILD = r"""
import json, os, sys, threading, time, warnings
from pathlib import Path
warnings.simplefilter("ignore")
import pandas as pd
import coachmatch

peaks = {}

def peak_of(pid):
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        return None
    return None

def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            found = [int(p) for p in handle.read().split()]
    except OSError:
        return []
    return found + [g for c in found for g in children(c)]

stop = threading.Event()

def sample():
    me = os.getpid()
    while not stop.is_set():
        for pid in [me, *children(me)]:
            value = peak_of(pid)
            if value is not None:
                peaks[pid] = max(peaks.get(pid, 0), value)
        time.sleep(0.1)

folder, out = Path(sys.argv[1]), Path(sys.argv[2])
started = time.perf_counter()
for name in sorted(p.name for p in folder.glob("*.csv")):
    pd.read_csv(folder / name, dtype=str, keep_default_na=False)
pandas_read = time.perf_counter() - started
watcher = threading.Thread(target=sample, daemon=True)
watcher.start()
started = time.perf_counter()
result = coachmatch.run(folder, out)
total = time.perf_counter() - started
stop.set()
watcher.join()
me = os.getpid()
workers = {pid: mib for pid, mib in peaks.items() if pid != me}
print(json.dumps({
    "pandas_read": pandas_read,
    "timings": result.timings,
    "total": total,
    "status": [result.matching.status, result.schedule.status],
    "pairs": len(result.matching.pairs),
    "meetings": len(result.schedule.scheduled),
    "unplanned": len(result.schedule.unplanned),
    "main_peak_mib": peaks.get(me, 0),
    "worker_peak_mib": max(workers.values(), default=0),
    "workers": len(workers),
    "sum_peak_mib": sum(peaks.values()),
}))
"""


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {memory:.0f} GiB, {platform.system()}, "
        f"{platform.python_implementation()} {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", nargs="+", default=["medium", "large"])
    args = parser.parse_args()
    import coachmatch
    from coachmatch.datasets import synthetic

    print(f"coachmatch {coachmatch.__version__}; {_machine()}\n")
    print(
        "| size | pandas read (s) | load (s) | × pandas | match (s) | schedule (s) | "
        "outputs (s) | write (s) | total (s) | status | main peak MiB | largest worker "
        "MiB | workers | sum of peaks MiB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as work:
            folder = coachmatch.write_program(synthetic(size, seed=0), Path(work) / "program")
            done = subprocess.run(
                [sys.executable, "-c", _CHILD, str(folder), str(Path(work) / "out")],
                capture_output=True,
                text=True,
                check=True,
            )
        row = json.loads(done.stdout.strip().splitlines()[-1])
        t = row["timings"]
        status = "/".join(row["status"]) + (
            f", {row['unplanned']} unplanned" if row["unplanned"] else ""
        )
        print(
            f"| {size} | {row['pandas_read']:.2f} | {t['load']:.2f} | "
            f"{t['load'] / row['pandas_read']:.1f} | {t['match']:.2f} | {t['schedule']:.2f} | "
            f"{t['outputs']:.2f} | {t['write']:.2f} | {row['total']:.2f} | {status} | "
            f"{row['main_peak_mib']} | {row['worker_peak_mib']} | {row['workers']} | "
            f"{row['sum_peak_mib']} |"
        )


if __name__ == "__main__":
    threading.current_thread().name = "benchmark"
    main()
