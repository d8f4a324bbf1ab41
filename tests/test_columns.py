"""The column loader reads exactly what the row loader reads (issue 13, item 4).

``coachmatch.io.columns.read_columns`` is the folder loader's fast path: it must give
the same row models (values, their types, the fields set), the same locations and
the same problems as reading row by row with ``read_csv`` and ``parse_table``, on
random tables with odd and hostile cells, on every case of the bad-input suite, on
mutated example folders and on whole synthetic programs. The cross-table checks it
goes with (``find_problems``) are checked against straightforward versions.
"""

from __future__ import annotations

import contextlib
import csv
import io
import random
import shutil
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import coachmatch.io.columns as columns_module
from coachmatch import Program, ProgramError, ProgramWarning, load_program, write_program
from coachmatch.datasets import synthetic
from coachmatch.io.columns import FAST_TABLES, read_columns
from coachmatch.io.folder import read_csv
from coachmatch.io.rows import ParsedTable, parse_row, parse_table, unknown_columns
from coachmatch.models import TABLES, Rotation
from coachmatch.validation import _overlapping_rotations
from tests.conftest import EXAMPLE
from tests.test_bad_input import CASES
from tests.test_fuzz import _mutate

# -- comparing what two loaders read ---------------------------------------------


def _models(models: list[Any]) -> list[tuple[Any, ...]]:
    """Each model's class, values with their types and reprs (True is not 1, 12:00 UTC
    is not 08:00 in Toronto), and fields set."""
    return [
        (
            type(m).__name__,
            [(k, type(v).__name__, v, repr(v)) for k, v in m.__dict__.items()],
            sorted(m.model_fields_set),
        )
        for m in models
    ]


def _table(parsed: ParsedTable) -> tuple[Any, ...]:
    return (
        _models(parsed.models),
        parsed.locations,
        sorted(parsed.failed_ids),
        parsed.complete,
    )


def _by_rows(data: bytes, table: str, zone: ZoneInfo | None = None) -> tuple[Any, ...] | None:
    """What the row loader reads: None when the file as a whole is refused."""
    raw, problems = read_csv(data, f"{table}.csv", table)
    if raw is None:
        return None
    parsed, row_problems = parse_table(raw, zone)
    return _table(parsed), problems + row_problems, unknown_columns(raw)


def _by_columns(data: bytes, table: str, zone: ZoneInfo | None = None) -> tuple[Any, ...] | None:
    read = read_columns(data, f"{table}.csv", table, zone)
    if read is None:
        return None
    raw, parsed, problems = read
    if parsed.columns is not None:  # handed to the cross-table checks: the models' values
        model, _ = TABLES[table]
        assert len(parsed.columns) == len(model.model_fields)
        for name, values in parsed.columns.items():
            assert values == [getattr(m, name) for m in parsed.models]
    return _table(parsed), problems, unknown_columns(raw)


@contextmanager
def _rows_only() -> Iterator[None]:
    """load_program with the column loader switched off: every file read row by row."""
    with mock.patch("coachmatch.io.folder.read_columns", return_value=None):
        yield


def _program(program: Program) -> list[Any]:
    header = [program.name, program.timezone, program.start, program.end, program.policy]
    return [header, *(_models(list(getattr(program, table))) for table in TABLES)]


def _outcome(folder: Path) -> tuple[Any, ...]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result: tuple[Any, ...] = ("loaded", _program(load_program(folder)))
        except ProgramError as error:
            result = ("error", error.problems)
    return (*result, [str(w.message) for w in caught])


def _both_loaders(folder: Path) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    fast = _outcome(folder)
    with _rows_only():
        slow = _outcome(folder)
    return fast, slow


# -- random tables ----------------------------------------------------------------

#: cells a field of each kind may hold: valid ones, then ones the row model refuses or
#: that only it can judge
KIND_CELLS: dict[str, tuple[list[str], list[str]]] = {
    "ID": (
        ["C1", "R0002", "tgh", "Internal Medicine", "a.b:c@d+e_f-g", "x" * 100],
        ["x" * 101, "\u00e9t\u00e9"],
    ),
    "ID_LIST": (["", "C1", "C1;C2", "psych;neuro", "C1; C2", "C1;;C2", ";"], ["C1;..", "a/b"]),
    "LINE": (["Dr. Ada Osei", "", "Ren\u00e9e", "a, b", 'say "hi"'], ["tab\there"]),
    "EMAIL": (["a@b.org", "", "@"], ["a@@b", "a b@c", "no-at-sign"]),
    "INT": (["0", "3", "100", "007", "+3", "3.0"], ["-1", "1000", "1001", "1_0", "x"]),
    "FLOAT": (["1", "0.5", "0", "2.50", "10", "1e0"], ["-0.5", "nan", "inf", "1000000001"]),
    "BOOL": (["true", "False", "yes", "0", "on", "TRUE"], ["2", "maybe"]),
    "DATE": (["2026-07-01", "2026-07-28", "2027-01-05"], ["2026-02-30", "2026-7-1", "20260701"]),
    "CLOCK": (["08:00", "12:30", "23:59", "17:00", "08:00:00"], ["8:00", "24:00"]),
    "WEEKDAY": (["mon", "Monday", "TUE", "sun"], ["xyz"]),
    "TEXT_LIST": (["a", "a;b", "a; b", "a;;", "teaching", "night float;research"], [";"]),
    "LOCAL_TIME": (
        ["2027-01-22T13:00", "2027-01-22T14:00", "2026-11-01T01:30", "2027-03-14T02:30"],
        ["2026-07-01", "2026-07-01T25:00", "2026-02-30T10:00", "2026-07-01T09:00Z", "9am"],
    ),
}
LITERAL_CELLS = (["require", "forbid", "prefer", "change"], ["Require", "ask"])
#: cells any column may get: hostile, odd, or what spreadsheets leave
ANY_CELLS = [
    "",
    " ",
    "\t",
    " C1 ",
    ".",
    "..",
    "a/b",
    "a\\b",
    "\u00e9\u6f22\u00df",
    "a\x01b",
    "a\nb",
    '"',
    "=cmd|' /C calc'!A0",
    "\u00a0x\u00a0",
    "\u2028",
    "x" * 300,
]


def _kind_name(table: str, field: str) -> str:
    kind = FAST_TABLES[table].kinds[field]
    for name in KIND_CELLS:
        if getattr(columns_module, name) is kind:
            return name
    return "LITERAL"


@st.composite
def csv_tables(draw: st.DrawFn) -> tuple[str, bytes]:
    """A table of FAST_TABLES as CSV bytes: random columns, cells, quoting and layout.

    Most tables are laid out cleanly (every required column, rows of full width, cells
    on one line), so that the column loader reads them and has cells of every sort to
    judge; the rest are messy (columns missing or repeated, short and long rows).
    """
    table = draw(st.sampled_from(sorted(FAST_TABLES)))
    model, _ = TABLES[table]
    required = [name for name, info in model.model_fields.items() if info.is_required()]
    optional = [name for name in model.model_fields if name not in required]
    rng = random.Random(draw(st.integers(0, 2**32)))
    clean = rng.random() < 0.7
    header = required + [name for name in optional if rng.random() < 0.7]
    if not clean:
        header = header[: rng.randint(max(0, len(header) - 2), len(header))]
    if rng.random() < 0.3:
        header.append(rng.choice(["extra", "nmae", header[0] if header else "x"]))
    rng.shuffle(header)
    hostile = [cell for cell in ANY_CELLS if "\n" not in cell] if clean else ANY_CELLS
    odd = rng.choice([0.0, 0.05, 0.2])  # hostile cells
    # cells of the field's sort the model may refuse: mostly in one column, so that
    # the rest of their row is valid and the column's own judgement decides
    judged = rng.choice([0.0, 0.05])
    focus = rng.choice(header) if header else None
    rows = []
    for _ in range(rng.randint(0, 12)):
        row = []
        for name in header:
            valid, other = ["", "note"], [""]  # an unknown column
            if name in model.model_fields:
                valid, other = KIND_CELLS.get(_kind_name(table, name), LITERAL_CELLS)
            chance = 0.5 if name == focus else judged
            pool = hostile if rng.random() < odd else other if rng.random() < chance else valid
            row.append(rng.choice(pool))
        shape = rng.random()
        if shape < 0.05:
            row = []  # a blank line
        elif shape < 0.1:
            row = [""] * len(row)  # a row of empty cells
        elif not clean and shape < 0.15:
            row = row[: rng.randrange(len(row) + 1)]  # a short row
        elif not clean and shape < 0.2:
            row += [rng.choice(["", "", "surplus"])]  # a long row
        rows.append(row)
    out = io.StringIO()
    writer = csv.writer(
        out,
        lineterminator=draw(st.sampled_from(["\n", "\r\n"])),
        quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])),
    )
    writer.writerow(header)
    writer.writerows(rows)
    text = out.getvalue()
    if draw(st.booleans()):
        text = text.rstrip("\r\n")  # no line break after the last row
    if draw(st.integers(0, 9)) == 0:
        text = text.replace(",", " , ")  # spaces around every cell
    return table, text.encode("utf-8")


@settings(max_examples=400, deadline=None)
@given(csv_tables(), st.sampled_from([None, "America/Toronto", "Asia/Kolkata"]))
def test_random_tables_read_the_same_by_columns_and_by_rows(
    case: tuple[str, bytes], zone_name: str | None
) -> None:
    table, data = case
    zone = ZoneInfo(zone_name) if zone_name else None  # None: program.toml is broken
    fast = _by_columns(data, table, zone)
    if fast is not None:
        assert fast == _by_rows(data, table, zone)


def test_plain_tables_are_read_by_columns_without_the_row_model() -> None:
    """The fast path is taken on clean files (else the test above proves nothing)."""
    data = (
        b"resident_id,start,end,site_id,service,supervisor_ids\n"
        b"R1,2026-07-01,2026-07-28,tgh,Inpatient,C1;C2\n"
        b"R1,2026-07-29,2026-08-25,Mount Sinai,,\n"
    )
    with mock.patch.object(
        columns_module, "parse_row", side_effect=AssertionError("row model used")
    ):
        fast = _by_columns(data, "rotations")
    assert fast is not None
    assert fast == _by_rows(data, "rotations")
    assert fast[0][0][1][2] == ["end", "resident_id", "site_id", "start"]  # fields set


def test_rows_it_cannot_vouch_for_go_to_the_row_model() -> None:
    data = b"coach_id,name,site_id,capacity\nC1,Dr. A,tgh,+3\nC2,Dr. B,tgh,x\nC3,,tgh,\n"
    calls: list[int] = []
    original = parse_row

    def spy(raw: Any, line: int, *args: Any) -> None:
        calls.append(line)
        original(raw, line, *args)

    with mock.patch.object(columns_module, "parse_row", spy):
        fast = _by_columns(data, "coaches")
    assert calls == [2, 3, 4]
    assert fast == _by_rows(data, "coaches")
    assert fast is not None
    assert [p.line for p in fast[1]] == [3, 4]  # '+3' is a fine capacity


@pytest.mark.parametrize(
    "data",
    [
        b'resident_id,start,end,site_id\nR1,2026-07-01,2026-07-28,"tgh\nnorth"\n',  # 2 lines
        b"resident_id,start,end,site_id\nR1,2026-07-01,2026-07-28,tgh,extra\n",  # extra cell
        b"resident_id,start,end,site_id\nR1,2026-07-01\n",  # short row, quoted as read
        b"resident_id,start,site_id\nR1,2026-07-01,tgh\n",  # missing column
        b"resident_id,start,end,end,site_id\nR1,2026-07-01,2026-07-28,2026-07-28,tgh\n",
        b"\xff\xfeR\x00",  # not UTF-8
        b"",  # empty
    ],
    ids=["record-on-two-lines", "extra-cell", "short-row", "missing", "twice", "bytes", "empty"],
)
def test_unusual_files_are_left_to_the_row_loader(data: bytes) -> None:
    assert read_columns(data, "rotations.csv", "rotations", None) is None


# -- whole folders ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "file", "old", "new"),
    [case[:4] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_input_suite_reads_the_same(
    edit: Callable[..., Path], name: str, file: str, old: str, new: str
) -> None:
    fast, slow = _both_loaders(edit(file, old, new))
    assert fast[0] == "error"
    assert fast == slow


@pytest.mark.parametrize("seed", range(40))
def test_mutated_examples_read_the_same(tmp_path: Path, seed: int) -> None:
    folder = tmp_path / "program"
    shutil.copytree(EXAMPLE, folder, symlinks=True)
    what = _mutate(folder, random.Random(seed))
    fast, slow = _both_loaders(folder)
    assert fast == slow, what


@pytest.mark.parametrize("size", ["small", "medium"])
def test_synthetic_programs_read_the_same(tmp_path: Path, size: str) -> None:
    program = synthetic(size, seed=3)  # type: ignore[arg-type]
    folder = write_program(program, tmp_path / size)
    fast, slow = _both_loaders(folder)
    assert fast[0] == "loaded"
    assert fast == slow
    assert load_program(folder) == program


# -- the cross-table checks ----------------------------------------------------------


def _overlaps_one_by_one(rotations: list[Rotation]) -> list[tuple[int, int]]:
    """(row, row it overlaps) by the plain per-resident scan the vectorized one replaced."""
    by_resident: dict[str, list[int]] = defaultdict(list)
    for i, rotation in enumerate(rotations):
        by_resident[rotation.resident_id].append(i)
    found = []
    for rows in by_resident.values():
        rows.sort(key=lambda k: (rotations[k].start, rotations[k].end))
        latest = rows[0]
        for k in rows[1:]:
            if rotations[k].start <= rotations[latest].end:
                found.append((k, latest))
            if rotations[k].end > rotations[latest].end:
                latest = k
    return sorted(found)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["R1", "R2", "R3"]), st.integers(0, 30), st.integers(0, 8)),
        max_size=14,
    )
)
def test_overlapping_rotations_match_the_plain_scan(rows: list[tuple[str, int, int]]) -> None:
    first = date(2026, 7, 1)
    rotations = [
        Rotation(
            resident_id=who,
            start=first + timedelta(days=start),
            end=first + timedelta(days=start + length),
            site_id="tgh",
        )
        for who, start, length in rows
    ]
    found = sorted(
        (f.row, int(f.message.rsplit("(row ", 1)[1].rstrip(")")) - 1)
        for f in _overlapping_rotations(rotations)
    )
    assert found == _overlaps_one_by_one(rotations)


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_left_as_it_was(tiny: Path, enabled: bool) -> None:
    """load_program pauses the garbage collector while it reads, and restores it,
    on success and on error alike."""
    import gc

    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        load_program(tiny)
        assert gc.isenabled() is enabled
        (tiny / "sites.csv").write_text("site_id,name\n,\n", encoding="utf-8")
        with pytest.raises(ProgramError):
            load_program(tiny)
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


@pytest.mark.parametrize("table", ["coaches", "sites"])  # read by columns, and by rows
def test_unknown_column_warning_points_at_the_caller(tiny: Path, table: str) -> None:
    path = tiny / f"{table}.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(",name,", ",nmae,", 1), encoding="utf-8")
    with pytest.warns(ProgramWarning) as caught, contextlib.suppress(ProgramError):
        load_program(tiny)
    assert {Path(w.filename).name for w in caught} == {Path(__file__).name}


def _kept_columns_hold_the_rows_fields(program: Program) -> int:
    """Every kept column is its table's field, value for value (the very objects); the
    steps that read them give what they give on a copy of the Program without columns.
    Returns how many tables' columns were kept."""
    from coachmatch.affinity import affinity_matrix, respondents
    from coachmatch.constraints.base import RotationColumns
    from coachmatch.constraints.r7_can_meet import FreeTime
    from coachmatch.models import _LOADED_COLUMNS, KEPT_COLUMNS, column

    kept = _LOADED_COLUMNS.get(id(program), (None, {}))[1]
    for table in KEPT_COLUMNS:
        rows = getattr(program, table)
        for field in TABLES[table][0].model_fields:
            values = list(column(program, table, field))
            assert len(values) == len(rows)
            assert all(v is getattr(r, field) for v, r in zip(values, rows, strict=True))
    copy = program.replace()  # a new Program: no columns kept, nothing cached
    assert id(copy) not in _LOADED_COLUMNS
    assert copy.answers() == program.answers()
    assert (respondents(copy) == respondents(program)).all()
    assert (affinity_matrix(copy) == affinity_matrix(program)).all()
    ours, theirs = RotationColumns.of(program), RotationColumns.of(copy)
    for name in ("resident", "site", "first", "last", "supervisor", "supervised"):
        assert (getattr(ours, name) == getattr(theirs, name)).all(), name
    assert (FreeTime.of(copy).resident_weekly == FreeTime.of(program).resident_weekly).all()
    assert (FreeTime.of(copy).coach_weekly == FreeTime.of(program).coach_weekly).all()
    return len(kept)


@pytest.mark.parametrize("size", ["small", "medium"])
def test_the_loaders_columns_are_kept_for_the_rows_read_from_them(
    tmp_path: Path, size: str
) -> None:
    """load_program keeps the columns of rotations, survey and availability, which the
    masks, free time and affinity then read instead of every row object; a Program
    changed from it reads its own rows."""
    from coachmatch.models import column

    folder = write_program(synthetic(size, seed=3), tmp_path / size)  # type: ignore[arg-type]
    program = load_program(folder)
    assert _kept_columns_hold_the_rows_fields(program) == 3
    fewer = program.replace(rotations=program.rotations[1:], survey=program.survey[::-1])
    assert list(column(fewer, "rotations", "site_id")) == [r.site_id for r in fewer.rotations]
    assert list(column(fewer, "survey", "person_id")) == [a.person_id for a in fewer.survey]
    with _rows_only():  # read row by row: nothing kept, the rows read
        assert _kept_columns_hold_the_rows_fields(load_program(folder)) == 0


@pytest.mark.parametrize("seed", range(0, 40, 3))
def test_columns_of_mutated_examples_are_the_rows_fields(tmp_path: Path, seed: int) -> None:
    """Odd and broken cells: where a table's rows did not all come from its columns
    (some went to the row model), or the file was read row by row, no column is kept;
    what is kept is the rows' own fields."""
    folder = tmp_path / "program"
    shutil.copytree(EXAMPLE, folder, symlinks=True)
    _mutate(folder, random.Random(seed))
    try:
        program = load_program(folder)
    except ProgramError:
        return  # nothing loaded, nothing kept
    _kept_columns_hold_the_rows_fields(program)
