"""Issue 11, items 6-7: publishing to a real CalDAV server (Radicale on 127.0.0.1).

A re-plan — one coach leaves, one resident is removed, one rotation
moves, a busy day is added — published twice leaves exactly one event per meeting on
the server, cancellations included, and the second publish writes nothing.
"""

from __future__ import annotations

import collections
import csv
import io
import socket
import subprocess
import sys
import time
from datetime import date, datetime
from datetime import time as clock
from pathlib import Path

import pytest

from coachmatch import BusyInterval, Policy, run, write_program
from coachmatch.calendar.publish import PublishError, publish
from coachmatch.cli import main
from coachmatch.datasets import synthetic
from tests.programs import without

caldav = pytest.importorskip("caldav")
AS_OF = date(2026, 11, 2)
#: small programs where every coach supervises everyone: something to publish quickly
OPEN = Policy(no_supervisor=False, not_own_decision="off")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A Radicale server on this machine, for this module; the home of user 'program'."""
    store = tmp_path_factory.mktemp("radicale")
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "radicale",
            "--server-hosts",
            f"127.0.0.1:{port}",
            "--auth-type",
            "none",
            "--rights-type",
            "owner_only",
            "--storage-filesystem-folder",
            str(store),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("Radicale did not start")
    yield f"http://127.0.0.1:{port}/program/"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACHMATCH_CALDAV_USERNAME", "program")
    monkeypatch.setenv("COACHMATCH_CALDAV_PASSWORD", "any")


def _server_events(url: str) -> dict[str, collections.Counter[str]]:
    """Per person calendar on the server: how many events each UID has."""
    client = caldav.DAVClient(
        url, username="program", password="any", enable_rfc6764=False, require_tls=False
    )
    found: dict[str, collections.Counter[str]] = {}
    home = caldav.Calendar(client=client, url=url)
    for child in home.children():
        calendar = caldav.Calendar(client=client, url=child[0])
        name = str(child[0]).rstrip("/").rsplit("/", 1)[-1]
        found[name] = collections.Counter(
            str(e.icalendar_component["UID"]).split("@")[0] for e in calendar.events()
        )
    return found


def _meetings_by_person(run_dir: Path) -> dict[str, set[str]]:
    rows = list(csv.DictReader(io.StringIO((run_dir / "meetings.csv").read_text())))
    by_person: dict[str, set[str]] = collections.defaultdict(set)
    for row in rows:
        by_person[row["coach_id"]].add(row["meeting_id"])
        by_person[row["resident_id"]].add(row["meeting_id"])
    return by_person


def test_a_replan_published_twice_leaves_one_event_per_meeting(server: str, tmp_path: Path) -> None:
    # a program of realistic shape (rotations, sites, busy time) but few people: each
    # publish is an HTTP request per event, and the example's 1,400 meetings took minutes
    program = synthetic(residents=30, coaches=10, sites=3, programs=1, seed=5, policy=OPEN)
    july = run(write_program(program, tmp_path / "program"), tmp_path / "july")
    first = publish(july.out, server)
    assert first.created == 2 * len(july.schedule.meetings) and first.updated == 0
    # one coach leaves, one resident is removed, one rotation moves, a busy day is added
    pairs = july.matching.pairs
    coach = str(pairs["coach_id"].iloc[0])
    resident = str(pairs[pairs["coach_id"] != coach]["resident_id"].iloc[0])
    changed = without(program, coach, resident)
    later = [r for r in changed.rotations if r.start >= AS_OF]
    moved = later[0].model_copy(
        update={"site_id": next(s.site_id for s in changed.sites if s.site_id != later[0].site_id)}
    )
    rotations = tuple(moved if r is later[0] else r for r in changed.rotations)
    busy_coach = str(pairs[pairs["coach_id"] != coach]["coach_id"].iloc[0])
    day = date(2026, 12, 2)
    busy = BusyInterval(
        person_id=busy_coach,
        start=datetime.combine(day, clock(0), tzinfo=program.zone),
        end=datetime.combine(day, clock(23, 59), tzinfo=program.zone),
    )
    changed = changed.replace(rotations=rotations, busy=(*changed.busy, busy))
    folder = write_program(changed, tmp_path / "program-nov")
    nov = run(folder, tmp_path / "nov", previous=july.out, as_of=AS_OF)
    changes = nov.schedule.changes
    assert changes is not None and changes["cancelled"] > 0 and changes["moved"] + changes["new"]
    second = publish(nov.out, server)
    assert second.updated > 0 and second.created > 0
    again = publish(nov.out, server)
    assert (again.created, again.updated, again.created_calendars) == (0, 0, 0)
    assert again.unchanged == 2 * len(nov.schedule.meetings)
    # exactly one event per meeting of each person, cancellations included
    on_server = _server_events(server)
    expected = _meetings_by_person(nov.out)
    for person, ids in expected.items():
        assert set(on_server[person]) == ids, person
        assert max(on_server[person].values()) == 1, person
    cancelled = nov.schedule.meetings[nov.schedule.meetings["status"] == "cancelled"]
    client = caldav.DAVClient(
        server, username="program", password="any", enable_rfc6764=False, require_tls=False
    )
    row = cancelled.iloc[0]
    mine = caldav.Calendar(client=client, url=f"{server}{row['coach_id']}/")
    event = mine.event_by_uid(f"{row['meeting_id']}@{nov.manifest['calendar']['uid_domain']}")
    assert str(event.icalendar_component["STATUS"]) == "CANCELLED"
    # the server keeps coachmatch's SEQUENCE exactly (the client must not bump it)
    assert int(event.icalendar_component["SEQUENCE"]) == int(row["sequence"])


def test_the_command_line_publishes_and_reports(
    server: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    small = synthetic(residents=12, coaches=4, sites=2, programs=1, seed=3, policy=OPEN)
    out = run(write_program(small, tmp_path / "p"), tmp_path / "out").out
    url = server.replace("/program/", "/cli/")
    monkeypatch.setenv("COACHMATCH_CALDAV_USERNAME", "cli")
    assert main(["publish", str(out), "--caldav", url]) == 0
    assert "events created" in capsys.readouterr().out
    assert main(["publish", str(out), "--caldav", url]) == 0
    assert ": 0 events created, 0 updated" in capsys.readouterr().out


def test_bad_targets_are_refused(server: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a coachmatch run folder"):
        publish(tmp_path, server)
    small = synthetic(residents=12, coaches=4, sites=2, programs=1, seed=3, policy=OPEN)
    out = run(write_program(small, tmp_path / "p"), tmp_path / "out").out
    with pytest.raises(ValueError, match="https"):
        publish(out, "http://calendar.example.org/program/")
    closed = f"http://127.0.0.1:{_free_port()}/program/"
    with pytest.raises(PublishError, match="cannot be reached"):
        publish(out, closed)
    assert main(["publish", str(out), "--caldav", closed]) == 4
    assert main(["publish", str(tmp_path), "--caldav", server]) == 2


def test_credentials_from_netrc(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No credentials on the command line: the environment, else the user's netrc."""
    monkeypatch.delenv("COACHMATCH_CALDAV_USERNAME")
    monkeypatch.delenv("COACHMATCH_CALDAV_PASSWORD")
    home = tmp_path / "home"
    home.mkdir()
    netrc = home / ".netrc"
    netrc.write_text("machine 127.0.0.1 login netrcuser password secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("HOME", str(home))
    small = synthetic(residents=12, coaches=4, sites=2, programs=1, seed=3, policy=OPEN)
    out = run(write_program(small, tmp_path / "p"), tmp_path / "out").out
    url = server.replace("/program/", "/netrcuser/")
    done = publish(out, url)
    assert done.created > 0
    # owner_only rights: only the netrc user could write under /netrcuser/
    assert publish(out, url).created == 0
