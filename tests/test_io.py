"""Reading and writing programs: folder, DataFrames and JSON all round-trip."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from coachmatch import Program, ProgramError, from_frames, load_program, to_frames, write_program
from coachmatch.datasets import synthetic
from tests.conftest import EXAMPLE


@pytest.fixture(scope="module")
def example() -> Program:
    return load_program(EXAMPLE)


def test_example_folder_round_trip(example: Program, tmp_path: Path) -> None:
    again = load_program(write_program(example, tmp_path / "copy"))
    assert again == example


def test_example_frames_round_trip(example: Program) -> None:
    frames = to_frames(example)
    meta = frames.pop("program")
    assert from_frames(meta, **frames) == example


def test_example_json_round_trip(example: Program) -> None:
    assert Program.model_validate_json(example.model_dump_json()) == example


def test_written_folder_is_byte_identical_on_rewrite(example: Program, tmp_path: Path) -> None:
    first = write_program(example, tmp_path / "a")
    second = write_program(load_program(first), tmp_path / "b")
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


@pytest.mark.parametrize("seed", [0, 1])
def test_synthetic_round_trips(seed: int, tmp_path: Path) -> None:
    program = synthetic("medium", seed=seed)
    assert load_program(write_program(program, tmp_path / "p")) == program
    frames = to_frames(program)
    assert from_frames(frames.pop("program"), **frames) == program
    assert Program.model_validate_json(program.model_dump_json()) == program


def test_frames_have_useful_dtypes(example: Program) -> None:
    frames = to_frames(example)
    assert str(frames["rotations"]["start"].dtype).startswith("datetime64")
    assert str(frames["residents"]["pgy"].dtype) == "Int64"
    assert str(frames["busy"]["start"].dt.tz) == "America/Toronto"
    assert frames["coaches"]["programs"].map(type).eq(str).all()


def test_from_frames_accepts_lists_and_missing_values() -> None:
    program = from_frames(
        {"name": "Demo", "timezone": "America/Toronto", "start": "2026-07-01", "end": "2027-06-30"},
        sites=pd.DataFrame(
            {"site_id": ["tgh"], "name": ["Toronto General"], "lat": [float("nan")], "lon": [None]}
        ),
        coaches=pd.DataFrame(
            {
                "coach_id": ["C1", "C2"],
                "name": ["Dr. A", "Dr. B"],
                "site_id": ["tgh", "tgh"],
                "capacity": [3, None],
                "programs": [["Psychiatry", "Neurology"], None],
            }
        ),
        residents=[{"resident_id": "R1", "name": "B. Chen", "pgy": 2}],
    )
    assert program.coaches[0].programs == ("Psychiatry", "Neurology")
    assert program.coaches[1].capacity is None and program.coaches[0].capacity == 3
    assert program.residents[0].pgy == 2


def test_from_frames_locates_problems_by_row() -> None:
    with pytest.raises(ProgramError) as caught:
        from_frames(
            {
                "name": "Demo",
                "timezone": "America/Toronto",
                "start": "2026-07-01",
                "end": "2027-06-30",
                "policy": {"max_caseloads": 5},
            },
            sites=pd.DataFrame({"site_id": ["tgh"], "name": ["Toronto General"]}),
            coaches=pd.DataFrame(
                {"coach_id": ["C1", "C2"], "name": ["Dr. A", "Dr. B"], "site_id": ["tgh", "sbk"]}
            ),
            residents=pd.DataFrame({"resident_id": ["R1"], "name": ["B"], "pgy": ["two"]}),
        )
    assert [str(p) for p in caught.value.problems] == [
        "program, column max_caseloads: unknown policy key; did you mean 'max_caseload'?",
        "coaches row 2, column site_id: unknown site 'sbk'",
        "residents row 1, column pgy: expected a whole number, got 'two'",
    ]


def test_from_frames_requires_core_tables() -> None:
    with pytest.raises(ProgramError, match="coaches: required frame is missing"):
        from_frames(
            {"name": "D", "timezone": "UTC", "start": "2026-07-01", "end": "2027-06-30"},
            sites=pd.DataFrame({"site_id": ["a"], "name": ["A"]}),
            residents=pd.DataFrame({"resident_id": ["R1"], "name": ["B"]}),
        )
    with pytest.raises(TypeError, match="unknown table 'resident'"):
        from_frames({}, resident=pd.DataFrame())


def test_write_refuses_existing_folder(example: Program, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    with pytest.raises(FileExistsError):
        write_program(example, tmp_path / "out")


def test_overwrite_replaces_whole_folder(example: Program, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "stale.csv").write_text("old", encoding="utf-8")
    write_program(example, out, overwrite=True)
    assert not (out / "stale.csv").exists()
    assert load_program(out) == example
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging left behind


def test_failed_write_leaves_nothing(
    example: Program, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import coachmatch.io.folder as folder

    def explode(*args: object, **kwargs: object) -> str:
        raise OSError("disk full")

    monkeypatch.setattr(folder, "program_toml", explode)
    with pytest.raises(OSError, match="disk full"):
        write_program(example, tmp_path / "out")
    assert os.listdir(tmp_path) == []


def test_failed_overwrite_keeps_old_folder(
    example: Program, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import coachmatch.io.folder as folder

    out = write_program(example, tmp_path / "out")
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}

    def explode(*args: object, **kwargs: object) -> str:
        raise OSError("disk full")

    monkeypatch.setattr(folder, "program_toml", explode)
    with pytest.raises(OSError, match="disk full"):
        write_program(example.with_caps(5), out, overwrite=True)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_busy_times_keep_their_instant_across_daylight_saving(tmp_path: Path) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from coachmatch import BusyInterval

    program = synthetic("small")
    toronto = ZoneInfo("America/Toronto")
    # 01:30 happens twice on 2026-11-01; the second one (fold=1) is EST
    first = datetime(2026, 11, 1, 1, 30, tzinfo=toronto)
    second = datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=toronto)
    busy = (
        BusyInterval(person_id="C0001", start=first, end=second),
        BusyInterval(
            person_id="C0002", start=second, end=datetime(2026, 11, 1, 3, 0, tzinfo=toronto)
        ),
    )
    program = program.replace(busy=busy)
    folder = write_program(program, tmp_path / "p")
    text = (folder / "busy.csv").read_text(encoding="utf-8")
    assert "2026-11-01T01:30-05:00" in text  # the ambiguous instant keeps its offset
    again = load_program(folder)
    assert [(b.start, b.end) for b in again.busy] == [(b.start, b.end) for b in busy]
    assert (again.busy[0].end - again.busy[0].start).total_seconds() == 3600
