"""The batch run: the run folder, reruns, re-plans, interruptions, spreadsheet safety."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import icalendar
import pytest

import coachmatch.batch
from coachmatch import BusyInterval, Program, write_program
from coachmatch.batch import run
from coachmatch.cli import main
from coachmatch.datasets import synthetic

AS_OF = date(2026, 11, 2)


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def csv_cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


def events(data: bytes) -> dict[str, icalendar.Event]:
    return {str(e["uid"]): e for e in icalendar.Calendar.from_ical(data).walk("VEVENT")}


@pytest.fixture(scope="module")
def small_program() -> Program:
    return synthetic("small", seed=7)


@pytest.fixture
def program_folder(tmp_path: Path, small_program: Program) -> Path:
    return write_program(small_program, tmp_path / "program")


def test_the_demo_twice_gives_identical_folders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--out", str(tmp_path / "a")]) == 0
    assert main(["demo", "--out", str(tmp_path / "b")]) == 0
    first, second = tree(tmp_path / "a"), tree(tmp_path / "b")
    assert first == second
    assert {"pairs.csv", "meetings.csv", "report.html", "run.json"} <= set(first)
    assert "calendars/program.ics" in first and "calendars/people/C0001.ics" in first
    manifest = json.loads(first["run.json"])
    assert manifest["schedule"]["status"] == "optimal"
    assert manifest["schedule"]["travel_minutes"] == manifest["schedule"]["travel_lower_bound"]
    assert len(manifest["input_sha256"]) == 64
    out = capsys.readouterr().out
    assert "travel: " in out and "report.html" in out


def test_a_rerun_into_the_same_folder_writes_the_same_bytes(
    tmp_path: Path, program_folder: Path
) -> None:
    run(program_folder, tmp_path / "out", executor=None)
    first = tree(tmp_path / "out")
    run(program_folder, tmp_path / "out", executor=None)
    assert tree(tmp_path / "out") == first
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_replan_keeps_the_past_and_the_uids(tmp_path: Path, small_program: Program) -> None:
    first_folder = write_program(small_program, tmp_path / "program-1")
    first = run(first_folder, tmp_path / "run-1", executor=None)
    m = first.schedule.meetings
    # a coach becomes busy over one later meeting (it must move), and a resident's
    # coach becomes their supervisor in a later block (the pair must change)
    later = m[m["start"].map(lambda t: t.date()) >= date(2026, 12, 1)]
    blocked = later.iloc[0]
    busy = BusyInterval(
        person_id=blocked["coach_id"],
        start=blocked["start"].to_pydatetime(),
        end=blocked["end"].to_pydatetime(),
    )
    pairs = first.matching.pairs
    resident, coach = next(
        (r, c)
        for r, c in zip(pairs["resident_id"], pairs["coach_id"], strict=True)
        if c != blocked["coach_id"]
    )
    rotations = tuple(
        r.model_copy(update={"supervisor_ids": (*r.supervisor_ids, coach)})
        if r.resident_id == resident and r.start >= date(2027, 1, 1)
        else r
        for r in small_program.rotations
    )
    changed = small_program.replace(busy=(*small_program.busy, busy), rotations=rotations)
    second_folder = write_program(changed, tmp_path / "program-2")
    before = tree(tmp_path / "run-1")
    args = ["run", str(second_folder), "--out", str(tmp_path / "run-2")]
    assert main([*args, "--previous", str(tmp_path / "run-1"), "--as-of", str(AS_OF)]) == 0
    assert tree(tmp_path / "run-1") == before, "the previous run folder is never touched"
    after = tree(tmp_path / "run-2")

    # meetings before the as-of date: the same lines, byte for byte
    def past(data: bytes) -> list[str]:
        lines = data.decode().splitlines()[1:]
        return [line for line in lines if line.split(",")[4][:10] < AS_OF.isoformat()]

    assert past(after["meetings.csv"]) == past(before["meetings.csv"])
    old, new = events(before["calendars/program.ics"]), events(after["calendars/program.ics"])
    assert set(old) <= set(new), "every UID survives"
    moved = cancelled = 0
    for uid, event in old.items():
        again = new[uid]
        same = (event["dtstart"].dt, str(event["location"])) == (
            again["dtstart"].dt,
            str(again["location"]),
        ) and str(again["status"]) == "CONFIRMED"
        if same:
            assert int(again["sequence"]) == int(event["sequence"]), uid
        else:
            assert int(again["sequence"]) == int(event["sequence"]) + 1, uid
            assert event["dtstart"].dt.date() >= AS_OF
            moved += str(again["status"]) == "CONFIRMED"
            cancelled += str(again["status"]) == "CANCELLED"
    assert moved >= 1 and cancelled >= 1
    blocked_uid = f"{blocked['meeting_id']}@{small_program.calendar_domain}"
    assert new[blocked_uid]["dtstart"].dt != old[blocked_uid]["dtstart"].dt
    # the resident's calendar carries the cancellations of the old pair's meetings
    mine = events(after[f"calendars/people/{resident}.ics"])
    assert any(str(e["status"]) == "CANCELLED" for e in mine.values())
    manifest = json.loads(after["run.json"])
    assert manifest["continued_from_previous"] and manifest["as_of"] == AS_OF.isoformat()
    # pairs continue (O1): everyone but the resident keeps their coach
    rows = csv_cells(after["pairs.csv"])
    header = rows[0]
    coach_of = {r[header.index("resident_id")]: r[header.index("coach_id")] for r in rows[1:]}
    old_coach = dict(zip(pairs["resident_id"], pairs["coach_id"], strict=True))
    assert coach_of[resident] != coach
    assert sum(coach_of[r] != old_coach[r] for r in coach_of) <= 3
    # and a third run, continuing from the second with nothing new, changes nothing
    args3 = ["run", str(second_folder), "--out", str(tmp_path / "run-3")]
    assert main([*args3, "--previous", str(tmp_path / "run-2"), "--as-of", "2027-01-04"]) == 0
    third = tree(tmp_path / "run-3")
    assert third["meetings.csv"] == after["meetings.csv"]


def test_an_interrupted_write_leaves_nothing_half_written(
    tmp_path: Path, program_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(program_folder, tmp_path / "out", executor=None)
    before = tree(tmp_path / "out")
    written = []
    original = Path.write_bytes

    def interrupted(self: Path, data: bytes) -> int:  # type: ignore[override]
        written.append(self)
        if len(written) == 5:
            raise KeyboardInterrupt
        return original(self, data)

    monkeypatch.setattr(Path, "write_bytes", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(program_folder, tmp_path / "out", executor=None)
    written.clear()
    with pytest.raises(KeyboardInterrupt):
        run(program_folder, tmp_path / "fresh", executor=None)
    monkeypatch.undo()
    assert tree(tmp_path / "out") == before, "the earlier folder is intact"
    assert not (tmp_path / "fresh").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "program"]


def test_a_killed_run_leaves_no_out_dir(tmp_path: Path) -> None:
    folder = write_program(synthetic("medium", seed=1), tmp_path / "program")
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "coachmatch.cli", "run", str(folder), "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # kill it mid-run: once the staging folder appears, or after two seconds of solving
    # (a staging folder may stay behind under its dotted name; the run folder must not
    # exist)
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and process.poll() is None:
        if any(p.name.startswith(".out.partial-") for p in tmp_path.iterdir()):
            break
        time.sleep(0.005)
    assert process.poll() is None, "the run ended before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not out.exists()


def test_formula_like_text_comes_out_inert_in_every_csv(tmp_path: Path) -> None:
    program = synthetic("small", seed=8).with_policy(not_own_decision="recuse")
    residents = list(program.residents)
    residents[0] = residents[0].model_copy(update={"name": '=HYPERLINK("x")'})
    coaches = list(program.coaches)
    coaches[0] = coaches[0].model_copy(update={"name": "@SUM(1+1)"})
    coaches[1] = coaches[1].model_copy(update={"name": "-2+3"})
    program = program.replace(residents=tuple(residents), coaches=tuple(coaches))
    folder = write_program(program, tmp_path / "program")
    run(folder, tmp_path / "out", executor=None)
    out = tree(tmp_path / "out")
    names = [n for n in out if n.endswith(".csv")]
    assert {"pairs.csv", "meetings.csv", "recusals.csv"} <= set(names)
    seen = set()
    for name in names:
        for row in csv_cells(out[name]):
            for cell in row:
                assert not cell.startswith(("=", "+", "@", "\t", "\r")), (name, cell)
                assert not cell.startswith("-"), (name, cell)
                seen.add(cell)
    assert '\'=HYPERLINK("x")' in seen and "'@SUM(1+1)" in seen and "'-2+3" in seen
    rows = csv_cells(out["pairs.csv"])
    assert all(cell.isdigit() for cell in (r[rows[0].index("affinity")] for r in rows[1:]))
    # coachmatch reads its own escaped output back exactly
    previous = coachmatch.batch.read_run(tmp_path / "out")
    assert '=HYPERLINK("x")' in set(previous.pairs["resident_name"])


def test_exit_codes(tmp_path: Path, program_folder: Path) -> None:
    assert main(["run", str(program_folder), "--out", str(tmp_path / "ok")]) == 0
    (program_folder / "coaches.csv").write_text("coach_id,name\nC1,\n", encoding="utf-8")
    assert main(["run", str(program_folder), "--out", str(tmp_path / "bad")]) == 2
    crowded = synthetic("small", seed=9)  # 60 residents, 20 coaches of one coachee each
    crowded = crowded.replace(
        coaches=tuple(c.model_copy(update={"capacity": 1}) for c in crowded.coaches)
    )
    infeasible = write_program(crowded, tmp_path / "tight")
    assert main(["run", str(infeasible), "--out", str(tmp_path / "none")]) == 3
    again = ["run", str(infeasible), "--out", str(tmp_path / "x"), "--previous", "nowhere"]
    assert main(again) == 2  # --previous needs --as-of
    assert not any((tmp_path / n).exists() for n in ("bad", "none", "x"))


def test_the_report_renders_in_headless_chromium(tmp_path: Path, program_folder: Path) -> None:
    chromium = next(
        (p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if Path(p).exists()), None
    )
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian's chromium (see .ci/run)")
        pytest.skip("chromium is not installed here (CI installs it)")
    result = run(program_folder, tmp_path / "out", executor=None)
    page = (tmp_path / "out" / "report.html").resolve().as_uri()
    dom = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert 'data-ready="yes"' in dom and "data-errors" not in dom
    manifest = result.manifest
    assert f'data-figure="Meetings">{manifest["schedule"]["meetings"]}<' in dom
    assert f'data-figure="Pairs">{manifest["matching"]["pairs"]}<' in dom
    assert f'data-figure="Travel (min)">{manifest["schedule"]["travel_minutes"]:,}<' in dom
    assert dom.count("<svg") >= 4


def test_a_bad_previous_run_folder_is_reported_cell_by_cell(
    tmp_path: Path, program_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(program_folder, tmp_path / "run-1", executor=None)
    meetings = tmp_path / "run-1" / "meetings.csv"
    lines = meetings.read_text(encoding="utf-8").splitlines()
    cells = lines[1].split(",")
    cells[1], cells[4] = "two", "2026-07-01 13:00"  # sequence; start without an offset
    lines[1] = ",".join(cells)
    lines[2] = lines[2].replace(",scheduled", ",maybe")
    meetings.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "run-1" / "pairs.csv").unlink()
    args = ["run", str(program_folder), "--out", str(tmp_path / "run-2")]
    assert main([*args, "--previous", str(tmp_path / "run-1"), "--as-of", "2026-11-02"]) == 2
    out = capsys.readouterr().out
    assert "4 problems in the previous run" in out
    assert "pairs.csv: the file is missing" in out
    assert "meetings.csv line 2, column sequence: bad value 'two'" in out
    assert "meetings.csv line 2, column start: bad value '2026-07-01 13:00'" in out
    assert "meetings.csv line 3, column status: bad value 'maybe'" in out
    assert not (tmp_path / "run-2").exists()
