"""Issue 11, items 3-5: calendars by the standard (icalendar, vobject and libical's own
iTIP checks find nothing), the program's UID domain, invitations for changes only, and
re-plans that cannot go wrong (people who left, an as-of date that goes back)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path

import icalendar
import pytest
import vobject
from hypothesis import given, settings
from hypothesis import strategies as st

from coachmatch import Program, Request, load_program, run, write_program
from coachmatch.cli import main
from coachmatch.datasets import synthetic
from tests.programs import without

AS_OF = date(2026, 11, 2)
RESULTS: dict[str, object] = {}
CHECKER = Path(__file__).parent / "tools" / "icalcheck.c"


@pytest.fixture(scope="session")
def icalcheck(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """libical's parser and RFC 5546 restriction checks, as a small program."""
    flags = subprocess.run(
        ["pkg-config", "--cflags", "--libs", "libical"], capture_output=True, text=True
    )
    if flags.returncode != 0 or not shutil.which("cc"):
        if os.environ.get("CI"):
            pytest.fail("libical (Debian's libical-dev) must be installed in CI")
        pytest.skip("libical-dev is not installed here (CI installs it)")
    binary = tmp_path_factory.mktemp("icalcheck") / "icalcheck"
    subprocess.run(["cc", str(CHECKER), "-o", str(binary), *flags.stdout.split()], check=True)
    return binary


def findings(checker: Path, files: list[Path]) -> list[str]:
    """What libical says about the files (nothing, when they are clean)."""
    out: list[str] = []
    for k in range(0, len(files), 200):
        done = subprocess.run(
            [str(checker), *map(str, files[k : k + 200])], capture_output=True, text=True
        )
        assert done.returncode in (0, 1), done.stderr
        out += done.stdout.splitlines()
    return out


def parse_everywhere(path: Path) -> None:
    """icalendar and vobject both read the file, with the same events."""
    data = path.read_bytes()
    ours = {str(e["uid"]) for e in icalendar.Calendar.from_ical(data).walk("VEVENT")}
    theirs = {
        c.uid.value for c in vobject.readOne(data.decode()).getChildren() if c.name == "VEVENT"
    }
    assert ours == theirs, path


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A first run and a re-plan (a coach leaves, a resident leaves, a busy day), with
    invitations, and a second re-plan with no change."""
    root = tmp_path_factory.mktemp("standard")
    program = synthetic("small", seed=7)
    folder = write_program(program, root / "program")
    run(folder, root / "july", send_invitations=True)
    coach = program.coaches[0].coach_id
    resident = next(r.resident_id for r in program.residents if r.current_coach_id != coach)
    changed = without(program, coach, resident)
    # and a resident who stays asks for another coach: their old pair's later meetings
    # are cancelled between two people who are both still in the program
    first = run(folder, root / "probe").matching.pairs
    mover = next(
        r
        for r, c in zip(first["resident_id"], first["coach_id"], strict=True)
        if r != resident and c != coach
    )
    changed = changed.replace(
        requests=(*changed.requests, Request(resident_id=mover, kind="change"))
    )
    changed = changed.replace(
        residents=tuple(
            r.model_copy(update={"current_coach_id": None}) if r.resident_id == mover else r
            for r in changed.residents
        )
    )
    folder2 = write_program(changed, root / "program-nov")
    nov = run(folder2, root / "nov", previous=root / "july", as_of=AS_OF, send_invitations=True)
    again = run(
        folder2, root / "nov-again", previous=root / "nov", as_of=AS_OF, send_invitations=True
    )
    RESULTS.update(nov=nov, again=again)
    return {
        "root": root,
        "july": root / "july",
        "nov": root / "nov",
        "again": root / "nov-again",
        "coach": Path(coach),
        "resident": Path(resident),
    }


def test_every_file_is_clean_for_three_parsers(runs: dict[str, Path], icalcheck: Path) -> None:
    """Reported: published files said METHOD:PUBLISH but carried ATTENDEE (libical
    flagged 246 of 246); the coach was an attendee of their own meeting."""
    files = [p for name in ("july", "nov") for p in sorted((runs[name]).rglob("*.ics"))]
    assert len(files) > 300
    assert findings(icalcheck, files) == []
    for path in files[:: max(1, len(files) // 60)]:
        parse_everywhere(path)
    published = (runs["july"] / "calendars" / "program.ics").read_text()
    assert "METHOD" not in published and "ATTENDEE" not in published
    assert "ORGANIZER" in published
    message = next((runs["july"] / "invitations").glob("*.ics")).read_text()
    assert "METHOD:REQUEST" in message and "ATTENDEE" in message and "ORGANIZER" in message
    cancel = [
        p for p in (runs["nov"] / "invitations").glob("*.ics") if "METHOD:CANCEL" in p.read_text()
    ]
    assert cancel, "the re-plan cancels meetings and says so"


def test_names_are_written_without_rfc6868_escapes(tmp_path: Path, icalcheck: Path) -> None:
    """Reported: quote characters in names came out as ^', shown literally."""
    program = synthetic("small", seed=7)
    coach = program.coaches[0].model_copy(update={"name": 'Dr. "Doc" O\'Neil ^ Smith'})
    program = program.replace(coaches=(coach, *program.coaches[1:]))
    out = run(write_program(program, tmp_path / "p"), tmp_path / "out", send_invitations=True).out
    text = "".join(p.read_text() for p in (out / "invitations").glob("*.ics"))
    assert not any(escape in text for escape in ("^'", "^^", "^n"))
    assert "Dr. 'Doc' O'Neil  Smith" in text.replace("\r\n ", "")
    assert findings(icalcheck, sorted(out.rglob("*.ics"))) == []


def test_each_program_has_its_own_uid_domain(tmp_path: Path) -> None:
    """Reported: every program shared coachmatch.invalid, so two programs' events
    overwrote each other in a shared calendar."""
    first = synthetic("small", seed=7)
    second = synthetic("small", seed=8)
    assert first.calendar_domain != second.calendar_domain
    named = first.model_copy(update={"uid_domain": "coaching.psych.example.org"})
    folder = write_program(Program.model_validate(named.model_dump()), tmp_path / "p")
    assert 'uid_domain = "coaching.psych.example.org"' in (folder / "program.toml").read_text()
    assert load_program(folder).calendar_domain == "coaching.psych.example.org"
    out = run(folder, tmp_path / "out").out
    assert "@coaching.psych.example.org" in (out / "calendars" / "program.ics").read_text()
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["calendar"]["uid_domain"] == "coaching.psych.example.org"
    (folder / "program.toml").write_text(
        (folder / "program.toml").read_text().replace("coaching.psych", "not a/domain")
    )
    assert main(["validate", str(folder)]) == 2


def test_a_replan_keeps_the_previous_runs_domain(runs: dict[str, Path], tmp_path: Path) -> None:
    july = json.loads((runs["july"] / "run.json").read_text())["calendar"]["uid_domain"]
    nov = json.loads((runs["nov"] / "run.json").read_text())["calendar"]["uid_domain"]
    assert july == nov
    # a run of coachmatch 0.3 recorded no domain: its UIDs used coachmatch.invalid
    old = tmp_path / "old"
    shutil.copytree(runs["july"], old)
    manifest = json.loads((old / "run.json").read_text())
    del manifest["calendar"]
    (old / "run.json").write_text(json.dumps(manifest))
    again = run(runs["root"] / "program", tmp_path / "next", previous=old, as_of=AS_OF)
    assert "@coachmatch.invalid" in (again.out / "calendars" / "program.ics").read_text()


def test_invitations_only_for_what_changed(runs: dict[str, Path]) -> None:
    """Reported: a re-plan with 38 changes wrote 881 REQUESTs; one with no change 588."""
    nov = json.loads((runs["nov"] / "run.json").read_text())
    changes = nov["schedule"]["changes"]
    sent = {p.stem for p in (runs["nov"] / "invitations").glob("*.ics")}
    result = RESULTS["nov"]
    changed = result.schedule.changed  # type: ignore[attr-defined]
    assert len(changed) == changes["moved"] + changes["new"] + changes["cancelled"]
    meetings = result.schedule.meetings  # type: ignore[attr-defined]
    gone = {runs["coach"].name, runs["resident"].name}
    reachable = meetings[
        meetings["meeting_id"].isin(changed)
        & ~meetings["coach_id"].isin(gone)
        & ~meetings["resident_id"].isin(gone)
    ]
    assert sent == set(reachable["meeting_id"]) and sent <= changed
    assert nov["calendar"]["invitations"] == len(sent)
    again = json.loads((runs["again"] / "run.json").read_text())
    assert again["schedule"]["changes"] == {
        "kept": again["schedule"]["changes"]["kept"],
        "moved": 0,
        "new": 0,
        "cancelled": 0,
    }
    assert not (runs["again"] / "invitations").exists()
    assert again["calendar"]["invitations"] == 0


def test_people_who_left_end_their_pairs_and_are_listed(runs: dict[str, Path]) -> None:
    """Reported: a resident removed before a re-plan crashed the run (KeyError)."""
    coach, resident = runs["coach"].name, runs["resident"].name
    nov = runs["nov"]
    rows = [line.split(",") for line in (nov / "meetings.csv").read_text().splitlines()]
    header, body = rows[0], rows[1:]
    at = {name: k for k, name in enumerate(header)}
    for person, column in ((coach, "coach_id"), (resident, "resident_id")):
        later = [
            r
            for r in body
            if r[at[column]] == person and date.fromisoformat(r[at["start"]][:10]) >= AS_OF
        ]
        assert later and all(r[at["status"]] == "cancelled" for r in later), person
    notes = json.loads((nov / "run.json").read_text())["calendar"]["notes"]
    for person in (coach, resident):
        assert f"{person} is no longer in the program: their pair ended" in " ".join(notes)
        assert f"{person} is no longer in the program (no e-mail address known)" in " ".join(notes)
    page = (nov / "report.html").read_text()
    assert f"{coach} is no longer in the program" in page


def test_people_without_email_are_named(tmp_path: Path) -> None:
    """Reported: missing e-mails made unsendable invitations (no ORGANIZER or ATTENDEE)."""
    program = synthetic("small", seed=7)
    coach = program.coaches[0].model_copy(update={"email": ""})
    program = program.replace(coaches=(coach, *program.coaches[1:]))
    result = run(write_program(program, tmp_path / "p"), tmp_path / "out", send_invitations=True)
    mine = result.schedule.meetings[result.schedule.meetings["coach_id"] == coach.coach_id]
    sent = {p.stem for p in (result.out / "invitations").glob("*.ics")}
    assert mine["meeting_id"].isin(sent).sum() == 0 and len(sent) > 0
    notes = result.manifest["calendar"]["notes"]
    assert f"{coach.coach_id} has no e-mail address: {len(mine)} meeting invitations" in notes[0]
    assert coach.coach_id in (result.out / "report.html").read_text()


def test_an_as_of_date_cannot_go_back(runs: dict[str, Path], tmp_path: Path) -> None:
    """Reported: an as-of date before the previous run's was accepted, cancelled meetings
    the previous run treated as held, and DTSTAMP went backwards."""
    program = runs["root"] / "program-nov"
    earlier = "2026-09-01"
    args = ["run", str(program), "--previous", str(runs["nov"]), "--as-of", earlier]
    assert main([*args, "--out", str(tmp_path / "back")]) == 2
    assert not (tmp_path / "back").exists()
    assert main([*args, "--out", str(tmp_path / "forced"), "--force"]) == 0
    stamps = {
        e["dtstamp"].dt
        for e in icalendar.Calendar.from_ical(
            (tmp_path / "forced" / "calendars" / "program.ics").read_bytes()
        ).walk("VEVENT")
    }
    nov_stamp = datetime.fromisoformat("2026-11-02T00:00:00-05:00")
    assert min(stamps) >= nov_stamp


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.text(
            alphabet=st.sampled_from(
                ["a", "Z", " ", "\\", "^", ",", ";", ":", "\n", "é", "日", "🙂"]
            ),
            max_size=160,
        ),
        min_size=1,
        max_size=4,
    ),
    st.integers(0, 3),
)
def test_the_fast_serializer_is_icalendars_byte_for_byte(texts: list[str], pad: int) -> None:
    """``_ical`` skips icalendar's per-character folding only for short ASCII lines;
    every component must come out exactly as ``to_ical()`` writes it: lines of 73 to
    77 characters, escapes at the fold, non-ASCII text, parameters with odd values."""
    from coachmatch.calendar.export import _ical

    event = icalendar.Event()
    event.add("uid", "x" * (60 + pad) + "@example.invalid")
    event.add("summary", texts[0])
    for k, text in enumerate(texts[1:]):
        event.add("description" if k == 0 else "comment", text)
    event.add("location", "L" * (70 + pad), parameters={"ALTREP": "http://a/" + "b" * pad})
    event.add("dtstart", datetime(2026, 7, 1, 9, 30))
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//coachmatch//test//EN")
    calendar.add("version", "2.0")
    calendar.add_component(event)
    assert _ical(event) == event.to_ical()
    assert _ical(calendar) == calendar.to_ical()


def test_the_fast_serializer_folds_at_exactly_icalendars_length() -> None:
    """Content lines of every length around the fold (and an escape just before it)."""
    from coachmatch.calendar.export import _ical

    for length in [*range(68, 82), *range(140, 156), *range(215, 230)]:
        for tail in ("", "\\", "^", "\\\\", ",", "é"):
            event = icalendar.Event()
            text = "s" * (length - len("SUMMARY:") - len(tail)) + tail
            event.add("summary", text)
            event.add("comment", text[::-1])
            assert _ical(event) == event.to_ical(), (length, tail)


def test_a_programs_calendars_are_icalendars_serialization() -> None:
    """Every calendar file of a run, written from shared content lines, equals what
    icalendar writes for the same calendar built whole (``calendar_for(...).to_ical()``),
    with and without a meeting link; each invitation equals its event built whole."""
    from datetime import UTC

    import coachmatch
    from coachmatch.calendar import export

    program = synthetic("small").with_policy(virtual="allowed", max_virtual_share=0.5)
    plan = coachmatch.schedule(program, coachmatch.match(program))
    stamp = datetime(2026, 7, 1, tzinfo=UTC)
    for link in (None, "https://meet.example.org/{meeting_id}?x=1,2;3"):
        files = export.calendars(plan, stamp=stamp, meeting_link=link)
        people = {*plan.meetings["coach_id"], *plan.meetings["resident_id"]}
        assert len(files) == len(people) + 1
        for person in people:
            whole = export.calendar_for(plan, person, stamp=stamp, meeting_link=link)
            assert files[f"people/{export.file_name(person, '.ics')}"] == whole.to_ical()
        whole = export.calendar_for(plan, None, stamp=stamp, meeting_link=link)
        assert files["program.ics"] == whole.to_ical()
    assert (plan.meetings["site_id"] == export.VIRTUAL).any()
