"""Issue 10: a run writes only inside its run folder and deletes nothing it did not
write; a previous run folder is untrusted input. Each case reproduces a reported defect."""

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

import pytest

from coachmatch import OutputFolderError, ProgramError, run, write_program
from coachmatch.cli import main
from coachmatch.datasets import synthetic
from coachmatch.io.output import _recover, atomic_folder, check_output_folder, file_name

AS_OF = "2026-11-02"


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("runs")
    program = write_program(synthetic("small", seed=7), root / "program")
    run(program, root / "july")
    return program, root / "july"


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def edit_meetings(previous: Path, target: Path, change: dict[str, str], *, row: int = 0) -> Path:
    """A copy of a run folder whose meetings.csv row ``row`` has cells replaced."""
    target.mkdir()
    for name in ("pairs.csv", "meetings.csv", "pair_history.csv", "run.json"):
        (target / name).write_bytes((previous / name).read_bytes())
    rows = list(csv.DictReader(io.StringIO((target / "meetings.csv").read_text())))
    rows[row].update(change)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    (target / "meetings.csv").write_text(out.getvalue())
    return target


def test_a_meeting_id_that_walks_out_of_the_folder_is_refused(
    tmp_path: Path, first_run: tuple[Path, Path]
) -> None:
    """Reported: a cancelled row whose meeting_id is ../../../../../../<absolute path>
    made `run --previous --invitations` write <that path>.ics anywhere on the machine."""
    program, july = first_run
    escape = "../../../../../.." + str(tmp_path / "escaped")
    bad = edit_meetings(july, tmp_path / "bad", {"meeting_id": escape, "status": "cancelled"})
    with pytest.raises(ProgramError) as caught:
        run(program, tmp_path / "out", previous=bad, as_of=date(2026, 11, 2))
    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.column) == ("meetings.csv", 2, "meeting_id")
    assert not list(tmp_path.glob("escaped*")) and not (tmp_path / "out").exists()
    assert (
        main(
            [
                "run",
                str(program),
                "--out",
                str(tmp_path / "out2"),
                "--previous",
                str(bad),
                "--as-of",
                AS_OF,
                "--invitations",
            ]
        )
        == 2
    )


def test_names_are_made_only_from_plain_ids() -> None:
    for bad in ("../x", "a/b", "..", ".", "", "x\x00y", "c:\\x", "é" * 200):
        with pytest.raises(ValueError, match="not a safe file name"):
            file_name(bad, ".ics")
    assert file_name("R0001-C0002-03", ".ics") == "R0001-C0002-03.ics"


@pytest.mark.parametrize(
    ("column", "value", "fragment"),
    [("site_id", "nowhere", "unknown site 'nowhere'")],
)
def test_unknown_sites_in_a_previous_run_are_located(
    tmp_path: Path, first_run: tuple[Path, Path], column: str, value: str, fragment: str
) -> None:
    """Reported: an unknown coach or site in a previous run's meetings.csv: KeyError. (A
    person no longer in the program is a departure: tests/test_calendars_standard.py.)"""
    program, july = first_run
    bad = edit_meetings(july, tmp_path / "bad", {column: value})
    code = main(
        [
            "run",
            str(program),
            "--out",
            str(tmp_path / "out"),
            "--previous",
            str(bad),
            "--as-of",
            AS_OF,
        ]
    )
    assert code == 2
    with pytest.raises(ProgramError) as caught:
        run(program, tmp_path / "out", previous=bad, as_of=date(2026, 11, 2))
    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.column) == ("meetings.csv", 2, column)
    assert fragment in problem.message


def test_out_never_replaces_its_input(tmp_path: Path, first_run: tuple[Path, Path]) -> None:
    """Reported: `run P --out P` replaced the program folder with the outputs, and an
    OUT naming a parent folder wiped everything in it."""
    program, july = first_run
    before = snapshot(program.parent)
    for out in (program, program.parent, program.parent.parent):
        with pytest.raises(OutputFolderError, match="never replaces its input"):
            run(program, out)
        assert main(["run", str(program), "--out", str(out)]) == 2
    with pytest.raises(OutputFolderError):
        run(program, july.parent, previous=july, as_of=date(2026, 11, 2))
    assert snapshot(program.parent) == before


def test_out_must_be_new_empty_or_a_run_folder(
    tmp_path: Path, first_run: tuple[Path, Path]
) -> None:
    program, july = first_run
    foreign = tmp_path / "documents"
    foreign.mkdir()
    (foreign / "thesis.docx").write_bytes(b"years of work")
    with pytest.raises(OutputFolderError, match="was not written by coachmatch"):
        run(program, foreign)
    assert (foreign / "thesis.docx").read_bytes() == b"years of work"
    forged = tmp_path / "forged"
    forged.mkdir()
    (forged / "run.json").write_text("not json")
    with pytest.raises(OutputFolderError):
        check_output_folder(forged, [program])
    link = tmp_path / "link"
    link.symlink_to(foreign)
    with pytest.raises(OutputFolderError, match="symbolic link"):
        run(program, link)
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(OutputFolderError, match="not a folder"):
        run(program, a_file)
    empty = tmp_path / "empty"
    empty.mkdir()
    check_output_folder(empty, [program])  # fine
    check_output_folder(july, [program])  # an earlier run: replaced as a whole
    assert json.loads((july / "run.json").read_text())["coachmatch"]


def test_the_link_template_is_not_evaluated(tmp_path: Path, first_run: tuple[Path, Path]) -> None:
    """Reported: --meeting-link 'https://x/{meeting_id.__class__}' was evaluated by
    str.format ({} alone raised IndexError)."""
    program, _ = first_run
    templates = {
        "attribute": "https://x/{meeting_id.__class__}",
        "positional": "https://x/{}/{0}",
        "placeholder": "https://x/{meeting_id}",
    }
    for name, template in templates.items():
        out = tmp_path / name
        result = run(program, out, meeting_link=template)
        text = "".join(p.read_text() for p in sorted((out / "calendars").glob("*.ics")))
        text = text.replace("\r\n ", "")  # unfold
        assert "<class" not in text
        if name == "placeholder":
            virtual = result.schedule.scheduled
            virtual = virtual[virtual["site_id"] == "virtual"]
            assert f"https://x/{virtual['meeting_id'].iloc[0]}" in text
        else:
            assert template in text  # shown as given
    with pytest.raises(ValueError, match="meeting-link"):
        run(program, tmp_path / "bad", meeting_link="https://x/\nBEGIN:VEVENT")
    with pytest.raises(ValueError, match="not a host name"):
        run(program, tmp_path / "bad", domain="x/../../y")


def test_a_swap_cut_by_a_kill_is_repaired_by_the_next_run(tmp_path: Path) -> None:
    """Reported: SIGKILL between the two renames left OUT missing and the old copy in
    .OUT.old-*; staging folders of killed runs stayed forever."""
    final = tmp_path / "out"
    dead = 2**22 + 12345  # no such process
    retired = tmp_path / f".out.old-{dead}-abc"
    (retired / "out").mkdir(parents=True)
    (retired / "out" / "run.json").write_text("{}")
    stale = tmp_path / f".out.partial-{dead}-xyz"
    stale.mkdir()
    mine = tmp_path / f".out.partial-{os.getpid()}-live"
    mine.mkdir()
    _recover(final)
    assert (final / "run.json").read_text() == "{}"
    assert not retired.exists() and not stale.exists()
    assert mine.exists()  # a live process's staging folder is left alone
    mine.rmdir()
    with atomic_folder(final) as staging:
        (staging / "new.txt").write_text("new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert [p.name for p in final.iterdir()] == ["new.txt"]


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")  # exited (a zombie waits only for its reaper)


def _start_solving(tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path, list[int]]:
    """A batch run of a medium program, caught while its worker pool is solving."""
    folder = write_program(synthetic("medium", seed=1), tmp_path / "program")
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "coachmatch.cli", "run", str(folder), "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    workers: list[int] = []
    while time.monotonic() < deadline and process.poll() is None and not workers:
        workers = _children(process.pid)
        time.sleep(0.05)
    assert workers, "the run never started its worker pool"
    time.sleep(0.5)
    return process, out, _children(process.pid)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_run_leaves_no_worker_behind(tmp_path: Path, how: signal.Signals) -> None:
    """Reported: after the kill test, two workers of the killed run were still alive
    forty minutes later."""
    process, out, workers = _start_solving(tmp_path)
    os.kill(process.pid, how)
    process.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not all(_gone(w) for w in workers):
        time.sleep(0.1)
    assert all(_gone(w) for w in workers), workers
    assert not out.exists()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
def test_ctrl_c_exits_130_without_a_traceback(tmp_path: Path) -> None:
    """Reported: SIGINT printed a KeyboardInterrupt traceback."""
    process, out, workers = _start_solving(tmp_path)
    os.kill(process.pid, signal.SIGINT)
    _, errors = process.communicate(timeout=30)
    assert process.returncode == 130
    text = errors.decode()
    assert "Traceback" not in text and "interrupted: nothing was written" in text
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not all(_gone(w) for w in workers):
        time.sleep(0.1)
    assert all(_gone(w) for w in workers) and not out.exists()
    assert not any(p.name.startswith(".out.") for p in tmp_path.iterdir())


def test_every_command_exits_2_for_bad_input(
    tmp_path: Path, first_run: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Reported: validate exited 1 for bad input (the code of a crash) where run and match
    exit 2; match --explain NOPE raised KeyError."""
    program, _ = first_run
    missing = str(tmp_path / "nowhere")
    for command in (
        ["validate", missing],
        ["match", missing],
        ["schedule", missing],
        ["run", missing, "--out", str(tmp_path / "o")],
    ):
        assert main(command) == 2, command
    assert main(["match", str(program), "--explain", "NOPE", "R0001"]) == 2
    assert "error: --explain NOPE: no such resident" in capsys.readouterr().err
