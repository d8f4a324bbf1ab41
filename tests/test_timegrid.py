"""The half-hour grid: availability windows, workday default, busy time, rotations, DST."""

from __future__ import annotations

import gc
import pickle
import weakref
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from coachmatch import (
    AvailabilityWindow,
    BusyInterval,
    Coach,
    Program,
    Resident,
    Rotation,
    Site,
    match,
    schedule,
)
from coachmatch.datasets import synthetic
from coachmatch.timegrid import SLOTS_PER_DAY, TimeGrid

TORONTO = ZoneInfo("America/Toronto")


def program(**tables: object) -> Program:
    base: dict[str, object] = {
        "name": "Grid",
        "timezone": "America/Toronto",
        "start": date(2026, 10, 26),
        "end": date(2026, 11, 8),
        "sites": [Site(site_id="a", name="A"), Site(site_id="b", name="B")],
        "coaches": [Coach(coach_id="C1", name="Dr. C", site_id="a")],
        "residents": [Resident(resident_id="R1", name="R")],
    }
    base.update(tables)
    return Program.model_validate(base)


def slot(hour: int, minute: int = 0) -> int:
    return hour * 2 + minute // 30


def test_slots_are_local_wall_clock_across_daylight_saving() -> None:
    grid = TimeGrid.of(program())
    # 2026-11-01: clocks go back; 09:00 is EDT the day before and EST that day
    before, after = grid.day_of(date(2026, 10, 31)), grid.day_of(date(2026, 11, 1))
    assert grid.slot_start(before, slot(9)).isoformat() == "2026-10-31T09:00:00-04:00"
    assert grid.slot_start(after, slot(9)).isoformat() == "2026-11-01T09:00:00-05:00"
    assert grid.starts[after, slot(9)] - grid.starts[before, slot(9)] == 25 * 3600


def test_spring_forward_hour_does_not_exist() -> None:
    grid = TimeGrid.of(program(start=date(2027, 3, 13), end=date(2027, 3, 15)))
    day = grid.day_of(date(2027, 3, 14))
    assert (np.flatnonzero(grid.starts[day] < 0) == [slot(2), slot(2, 30)]).all()
    assert not grid.weekly("R1")[day, slot(2)]


def test_workday_default_on_weekdays_only() -> None:
    grid = TimeGrid.of(program())
    weekly = grid.weekly("C1")
    monday, saturday = grid.day_of(date(2026, 10, 26)), grid.day_of(date(2026, 10, 31))
    assert weekly[monday].sum() == 20  # 08:00-18:00
    assert weekly[monday, slot(8)] and weekly[monday, slot(17, 30)]
    assert not weekly[monday, slot(18)] and not weekly[monday, slot(7, 30)]
    assert not weekly[saturday].any()


def test_windows_replace_the_workday_and_need_whole_slots() -> None:
    windows = [AvailabilityWindow(person_id="C1", weekday="sat", start=time(9, 15), end=time(11))]
    weekly = TimeGrid.of(program(availability=windows)).weekly("C1")
    saturday = TimeGrid.of(program()).day_of(date(2026, 10, 31))
    assert np.flatnonzero(weekly[saturday]).tolist() == [slot(9, 30), slot(10), slot(10, 30)]
    assert weekly.sum() == 6  # two Saturdays, nothing on weekdays


def test_busy_time_blocks_overlapping_slots_exactly() -> None:
    busy = [
        BusyInterval(
            person_id="C1",
            start=datetime(2026, 10, 27, 9, 10, tzinfo=TORONTO),
            end=datetime(2026, 10, 27, 10, 0, tzinfo=TORONTO),
        )
    ]
    grid = TimeGrid.of(program(busy=busy))
    day = grid.day_of(date(2026, 10, 27))
    blocked = grid.busy("C1")
    assert np.flatnonzero(blocked[day]).tolist() == [slot(9), slot(9, 30)]
    assert blocked.sum() == 2
    free = grid.available("C1")
    assert free[day, slot(8, 30)] and free[day, slot(10)] and not free[day, slot(9)]


def test_busy_in_utc_on_the_fall_back_day() -> None:
    # 14:00-15:00 UTC on 2026-11-01 is 09:00-10:00 EST
    busy = [
        BusyInterval(
            person_id="C1",
            start=datetime(2026, 11, 1, 14, tzinfo=ZoneInfo("UTC")),
            end=datetime(2026, 11, 1, 15, tzinfo=ZoneInfo("UTC")),
        )
    ]
    grid = TimeGrid.of(program(busy=busy))
    day = grid.day_of(date(2026, 11, 1))
    assert np.flatnonzero(grid.busy("C1")[day]).tolist() == [slot(9), slot(9, 30)]


def test_residents_are_available_only_on_rotation_days() -> None:
    rotations = [
        Rotation(resident_id="R1", start=date(2026, 10, 28), end=date(2026, 11, 3), site_id="b")
    ]
    grid = TimeGrid.of(program(rotations=rotations))
    days = grid.on_rotation("R1")
    assert np.flatnonzero(days).tolist() == list(range(2, 9))
    assert not grid.available("R1")[0].any()
    sites = grid.site_of("R1")
    assert sites.tolist() == [-1, -1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1]
    # a resident without rotations is available every (work)day
    assert TimeGrid.of(program()).on_rotation("R1").all()


def test_can_start_needs_every_covered_slot() -> None:
    grid = TimeGrid.of(program().with_policy(meeting_minutes=60))
    free = np.zeros((len(grid.days), SLOTS_PER_DAY), dtype=bool)
    free[0, [10, 11, 12, 20, 47]] = True
    starts = grid.can_start(free)
    assert np.flatnonzero(starts[0]).tolist() == [10, 11]
    assert np.flatnonzero(grid.can_start(free, 30)[0]).tolist() == [10, 11, 12, 20, 47]


def test_locate_round_trips() -> None:
    grid = TimeGrid.of(program())
    when = datetime(2026, 11, 2, 14, 30, tzinfo=TORONTO)
    day, s, boundary = grid.locate(when)
    assert grid.slot_start(day, s) == when and boundary
    assert not grid.locate(when + timedelta(minutes=10))[2]


def test_the_grid_is_every_slot_read_alone_in_zones_with_odd_clock_changes() -> None:
    """Days are filled at once from their midnight offsets; each must equal reading the
    slot alone (``_slot_start``), in zones whose clocks change at midnight, by half an
    hour, by two hours, twice a year around Ramadan, or skip a whole day."""
    from coachmatch.timegrid import _slot_start

    cases = [
        ("America/Toronto", date(2026, 7, 1), date(2027, 6, 30)),
        ("Australia/Lord_Howe", date(2026, 1, 1), date(2026, 12, 31)),  # 30-minute DST
        ("Antarctica/Troll", date(2026, 1, 1), date(2026, 12, 31)),  # 2-hour DST
        ("America/Havana", date(2026, 1, 1), date(2026, 12, 31)),  # changes at midnight
        ("America/Santiago", date(2026, 1, 1), date(2026, 12, 31)),  # midnight, south
        ("Africa/Casablanca", date(2026, 1, 1), date(2026, 12, 31)),  # around Ramadan
        ("Europe/Dublin", date(2026, 1, 1), date(2026, 12, 31)),  # negative DST in tzdata
        ("Pacific/Apia", date(2011, 12, 25), date(2012, 1, 5)),  # skipped 30 Dec 2011
        ("Asia/Kathmandu", date(1985, 12, 28), date(1986, 1, 4)),  # +5:30 -> +5:45
        ("UTC", date(2026, 7, 1), date(2026, 7, 10)),
    ]
    for zone, start, end in cases:
        grid = TimeGrid.of(program(timezone=zone, start=start, end=end))
        expected = [
            [_slot_start(day, s, ZoneInfo(zone)) for s in range(SLOTS_PER_DAY)] for day in grid.days
        ]
        assert (grid.starts == np.array(expected, dtype=np.int64)).all(), zone


def test_a_program_no_longer_used_is_freed_by_reference_counting() -> None:
    """The time grid cached with the Program's indexes holds the Program weakly (the
    grids handed out hold it): no reference cycle keeps a Program, and all its rows,
    alive after a match and a schedule until the cyclic collector's next full walk."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        program = synthetic("small")
        owner = weakref.ref(program)
        result = match(program)
        plan = schedule(program, result)
        grid = TimeGrid.of(program)
        assert grid.program is program and TimeGrid.of(program).weekly("R0001").any()
        del program, result, plan
        assert owner() is not None  # the grid handed out holds its Program
        del grid
        assert owner() is None
        # a grid of a Program made on the spot keeps it as long as it is used
        alone = TimeGrid.of(synthetic("small"))
        assert alone.weekly("R0001").any() and alone.program.name
        again = pickle.loads(pickle.dumps(alone))  # as its Program, built again
        assert again.program == alone.program and (again.starts == alone.starts).all()
    finally:
        if enabled:
            gc.enable()
