"""R7 can meet (SPEC 1.1): a respected and a broken pair, the sentences, and agreement
with the scheduler's own per-pair dynamic program on random narrow programs."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coachmatch import (
    AvailabilityWindow,
    BusyInterval,
    Coach,
    InfeasibleError,
    Policy,
    Program,
    Resident,
    Rotation,
    Site,
    audit,
    load_program,
    match,
)
from coachmatch.constraints import eligibility, exclusions, r7_can_meet
from coachmatch.datasets import synthetic
from coachmatch.solver.scheduling import build_tasks, pair_lower_bound
from tests.strategies import narrow_programs

START, END = date(2026, 7, 1), date(2027, 6, 30)


def two_coaches(**policy: object) -> Program:
    """R1 is free on Wednesday afternoons; C1 on Wednesdays, C2 on Mondays only."""
    return Program(
        name="R7",
        timezone="America/Toronto",
        start=START,
        end=END,
        policy=Policy.model_validate({"max_caseload": 2, **policy}),
        sites=[Site(site_id="tgh", name="Toronto General", lat=43.659, lon=-79.388)],
        coaches=[
            Coach(coach_id="C1", name="Dr. Wed", site_id="tgh"),
            Coach(coach_id="C2", name="Dr. Mon", site_id="tgh", virtual_ok=False),
        ],
        residents=[Resident(resident_id="R1", name="Sam Lee")],
        availability=[
            AvailabilityWindow(person_id="R1", weekday="wed", start=time(13), end=time(17)),
            AvailabilityWindow(person_id="C1", weekday="wed", start=time(14), end=time(15)),
            AvailabilityWindow(person_id="C2", weekday="mon", start=time(9), end=time(12)),
        ],
    )


def test_respected_pairs_that_can_meet_are_allowed() -> None:
    program = two_coaches()
    assert r7_can_meet.check(program, [("R1", "C1")]) == []
    assert r7_can_meet.why(program, "R1", "C1") is None
    mask = r7_can_meet.forbidden(program)
    assert not mask[0, 0]
    result = match(program)
    assert result.coach_of("R1") == "C1"


def test_broken_a_pair_with_no_common_time_is_forbidden_and_said_why() -> None:
    program = two_coaches()
    (violation,) = r7_can_meet.check(program, [("R1", "C2")])
    assert violation.rule == "R7 can meet"
    assert violation.message == ("R1 and C2 have no common free time from 2026-07-01 to 2027-06-30")
    assert r7_can_meet.forbidden(program)[0, 1]
    assert [str(v) for v in audit(program, [("R1", "C2")])] == [f"R7 can meet: {violation.message}"]
    assert exclusions(program, "R1", "C2") == [f"R7 can meet: {violation.message}"]
    explained = match(program).explain("R1")
    assert f"C2: excluded — R7 can meet: {violation.message}" in explained


def test_a_leave_block_longer_than_the_cadence_is_named_with_its_dates() -> None:
    program = two_coaches().replace(
        busy=[
            BusyInterval(
                person_id="C1",
                start=datetime(2026, 9, 1, tzinfo=two_coaches().zone),
                end=datetime(2026, 11, 1, tzinfo=two_coaches().zone),
            )
        ]
    )
    sentence = r7_can_meet.why(program, "R1", "C1")
    assert sentence == (
        "R1 and C1 have no common free time from 2026-08-27 to 2026-11-03, "
        "longer than the 56-day cadence allows"
    )
    with pytest.raises(InfeasibleError) as caught:
        match(program)
    assert "R7 can meet excludes 2 (C1, C2)" in caught.value.reasons[0]


def test_virtual_only_rules_out_coaches_who_do_not_meet_virtually() -> None:
    program = two_coaches(virtual="only").replace(
        availability=[
            AvailabilityWindow(person_id="R1", weekday="mon", start=time(9), end=time(17)),
        ]
    )
    assert r7_can_meet.why(program, "R1", "C2") == (
        'R1 and C2 cannot meet: meetings are virtual only (policy virtual = "only") and C2 '
        "does not meet virtually (virtual_ok = false)"
    )
    assert r7_can_meet.why(program, "R1", "C1") is None
    assert match(program).coach_of("R1") == "C1"


def test_the_first_meeting_window_is_named() -> None:
    program = two_coaches().replace(
        rotations=[
            Rotation(resident_id="R1", start=date(2026, 8, 12), end=END, site_id="tgh"),
        ]
    )
    assert r7_can_meet.why(program, "R1", "C1") == (
        "R1 and C1 have no common free time from 2026-07-01 to 2026-07-29, when their "
        "first meeting is due; their next common free day is 2026-08-12"
    )


def test_a_replan_judges_pairs_from_its_as_of_date() -> None:
    # C1 is away until mid-November: a pair from July cannot meet, one from November can
    away = BusyInterval(
        person_id="C1",
        start=datetime(2026, 7, 1, tzinfo=two_coaches().zone),
        end=datetime(2026, 11, 1, tzinfo=two_coaches().zone),
    )
    program = two_coaches().replace(busy=[away])
    assert r7_can_meet.why(program, "R1", "C1") is not None
    assert r7_can_meet.why(program, "R1", "C1", start=date(2026, 11, 2)) is None
    assert eligibility(program, as_of=date(2026, 11, 2)).allowed[0, 0]
    assert match(program, as_of=date(2026, 11, 2)).coach_of("R1") == "C1"


def test_must_meet_false_allows_the_pair_and_lists_it() -> None:
    program = two_coaches(must_meet=False).replace(
        coaches=(
            Coach(coach_id="C1", name="Dr. Wed", site_id="tgh", capacity=0),
            Coach(coach_id="C2", name="Dr. Mon", site_id="tgh", virtual_ok=False),
        )
    )
    result = match(program)
    assert result.coach_of("R1") == "C2"
    assert result.cannot_meet.to_dict("records") == [
        {
            "resident_id": "R1",
            "coach_id": "C2",
            "reason": "R1 and C2 have no common free time from 2026-07-01 to 2027-06-30",
        }
    ]
    assert "cannot meet: 1 pairs have no meeting plan even alone" in result.summary()
    assert audit(program, result.pairs) == []  # R7 is off


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(narrow_programs(max_residents=3, max_coaches=3), st.integers(0, 200))
def test_the_mask_is_exactly_the_schedulers_own_dynamic_program(
    program: Program, as_of_day: int
) -> None:
    """Two independent computations of "this pair, alone, has a plan": R7's vectorized
    bitsets and recursion, and the scheduler's per-pair dynamic program over its task."""
    from coachmatch.solver.scheduling.replan import read_previous

    index = program.index
    pairs = [(r.resident_id, c.coach_id) for r in program.residents for c in program.coaches]
    rows = np.array([index.resident[r] for r, _ in pairs])
    cols = np.array([index.coach[c] for _, c in pairs])
    as_of = None if as_of_day == 0 else program.start + (program.end - program.start) * 0
    if as_of_day:
        as_of = date.fromordinal(
            min(program.start.toordinal() + as_of_day, program.end.toordinal())
        )
    fast = r7_can_meet.can_meet(program, rows, cols, start=as_of)
    history = read_previous(program, None, as_of) if as_of else None
    for (r, c), verdict in zip(pairs, fast.tolist(), strict=True):
        (task,) = build_tasks(program, [(r, c)], history=history)
        alone = math.isfinite(pair_lower_bound(task.pairs[0], task))
        assert verdict == alone, (r, c, as_of)
        sentence = r7_can_meet.reason(program, r, c, start=as_of)
        assert (sentence is None) == verdict
        if sentence is not None:
            assert sentence.startswith(f"{r} and {c} ")


def test_the_example_folder_has_every_pair_judged(tmp_path: Path) -> None:
    program = load_program(Path(__file__).resolve().parents[1] / "examples" / "toronto-psychiatry")
    mask = eligibility(program).forbidden_by["R7 can meet"]
    assert mask.shape == (len(program.residents), len(program.coaches))
    result = match(program)
    made = list(zip(result.pairs["resident_id"], result.pairs["coach_id"], strict=True))
    assert r7_can_meet.check(program, made) == []


def _with_copies(program: Program) -> Program:
    """``program`` with every person copied (id + "x") with their rotations and windows
    but without their busy time: kinds and classes of several people, which busy time
    sets apart."""
    copies_r = [
        r.model_copy(update={"resident_id": r.resident_id + "x"}) for r in program.residents
    ]
    copies_c = [c.model_copy(update={"coach_id": c.coach_id + "x"}) for c in program.coaches]
    return program.replace(
        residents=(*program.residents, *copies_r),
        coaches=(*program.coaches, *copies_c),
        rotations=(
            *program.rotations,
            *(x.model_copy(update={"resident_id": x.resident_id + "x"}) for x in program.rotations),
        ),
        availability=(
            *program.availability,
            *(w.model_copy(update={"person_id": w.person_id + "x"}) for w in program.availability),
        ),
        policy=program.policy.model_copy(update={"max_caseload": 2 * len(program.residents)}),
    )


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(narrow_programs(max_residents=4, max_coaches=3), st.integers(0, 250))
def test_pairs_judged_by_kind_are_judged_as_alone(program: Program, as_of_day: int) -> None:
    """can_meet judges one pair of each kind (same rotations, shared weekdays, home site,
    virtual_ok) and then the pairs whose busy time takes a day; that must equal judging
    every pair on its own days. Each person is copied without busy time, so that kinds
    hold several pairs and busy time is what sets them apart."""
    from coachmatch.constraints.r7_can_meet import _Cadence, _pairwise

    program = _with_copies(program)
    index = program.index
    rows, cols = (
        a.ravel()
        for a in np.meshgrid(
            np.arange(len(index.resident_ids)), np.arange(len(index.coach_ids)), indexing="ij"
        )
    )
    start = min(program.start.toordinal() + as_of_day, program.end.toordinal())
    usual, table = r7_can_meet._BATCH, r7_can_meet._TABLE_PAIRS
    for as_of in (None, date.fromordinal(start)):
        start_day = (as_of - program.start).days if as_of else 0
        alone = _pairwise(program, rows, cols, _Cadence.of(program, start_day))
        assert (r7_can_meet.can_meet(program, rows, cols, start=as_of) == alone).all()
        try:  # kinds and touched pairs a few at a time, shared days without the table
            r7_can_meet._BATCH, r7_can_meet._TABLE_PAIRS = 4, 0
            again = program.replace()  # a new Program: nothing cached
            assert (r7_can_meet.can_meet(again, rows, cols, start=as_of) == alone).all()
        finally:
            r7_can_meet._BATCH, r7_can_meet._TABLE_PAIRS = usual, table


@pytest.mark.parametrize("pool", [False, True])
def test_a_required_pair_that_cannot_meet_is_named_on_both_paths(pool: bool) -> None:
    """The quick checks skip the rules' masks for a required pair R2-R6 allow, but must
    still ask R7 (which a pool judges only for the cells asked)."""
    from unittest import mock

    from coachmatch import Request
    from coachmatch.solver import matching as matching_module

    program = two_coaches().replace(
        requests=(Request(resident_id="R1", coach_id="C2", kind="require"),)
    )
    with (
        mock.patch.object(matching_module, "POOL_CELLS", 0 if pool else 10**9),
        pytest.raises(InfeasibleError) as caught,
    ):
        match(program)
    assert any(
        r.startswith("R1 is required to be coached by C2, but R7 can meet forbids it: R1 and C2")
        for r in caught.value.reasons
    ), caught.value.reasons


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    n_res=st.integers(1, 4),
    n_days=st.integers(1, 12),
)
def test_rotation_days_match_writing_each_rotation(data, n_res: int, n_days: int) -> None:
    """FreeTime's rotation days and sites by running sums equal writing every rotation's
    days one by one; overlapping rotations (not a valid Program) the later one winning."""
    rows = []
    for _ in range(data.draw(st.integers(0, 6))):
        first = data.draw(st.integers(0, n_days - 1))
        last = data.draw(st.integers(first, n_days - 1))
        rows.append(
            (data.draw(st.integers(0, n_res - 1)), data.draw(st.integers(0, 9)), first, last)
        )
    expected_on = np.zeros((n_res, n_days), dtype=bool)
    expected_site = np.full((n_res, n_days), -1, dtype=np.int64)
    for r, at, first, last in rows:
        expected_on[r, first : last + 1] = True
        expected_site[r, first : last + 1] = at
    columns = [np.array([row[k] for row in rows], dtype=np.int64) for k in range(4)]
    on = np.zeros((n_res, n_days), dtype=bool)
    site = r7_can_meet._rotation_days(on, *columns)
    assert on.tolist() == expected_on.tolist()
    assert site.tolist() == expected_site.tolist()


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    narrow_programs(max_residents=4, max_coaches=3),
    st.integers(0, 250),
    st.randoms(use_true_random=False),
)
def test_the_mask_by_classes_of_people_is_every_pair_judged_alone(
    program: Program, as_of_day: int, random
) -> None:
    """R7's mask from a table of classes of people (kind and weekly pattern), busy time
    then judged for the pairs with someone busy, grouped by the days they lose, equals
    judging each candidate on its own days; so does the mask pair by pair. People are
    copied without their busy time (classes of several, busy time setting pairs of one
    class apart), and the candidates are a random part of the pairs. Some people are
    away for weeks or busy for hours on some days, so that busy time decides pairs."""
    from coachmatch.constraints.r7_can_meet import _Cadence, _pairwise

    zone = ZoneInfo(program.timezone)
    away = []
    for person in [*program.index.resident_ids, *program.index.coach_ids]:
        for _ in range(random.choice([0, 0, 1, 3])):
            day = program.start + timedelta(days=random.randrange(0, 360))
            begin = datetime.combine(day, time(random.choice([0, 9, 12])), tzinfo=zone)
            hours = random.choice([2, 5, 24 * 7 * random.randint(1, 5)])
            away.append(
                BusyInterval(person_id=person, start=begin, end=begin + timedelta(hours=hours))
            )
    program = program.replace(busy=(*program.busy, *away))
    program = _with_copies(program)
    index = program.index
    shape = (len(index.resident_ids), len(index.coach_ids))
    candidates = np.array([random.random() < 0.8 for _ in range(shape[0] * shape[1])])
    candidates = candidates.reshape(shape)
    rows, cols = np.nonzero(candidates)
    start = min(program.start.toordinal() + as_of_day, program.end.toordinal())
    usual, share = r7_can_meet._BATCH, r7_can_meet._CLASS_SHARE
    for as_of in (None, date.fromordinal(start)):
        start_day = (as_of - program.start).days if as_of else 0
        alone = np.zeros(shape, dtype=bool)
        alone[rows, cols] = ~_pairwise(program, rows, cols, _Cadence.of(program, start_day))
        for batch, class_share in ((usual, 0), (4, 0), (usual, 10**9)):
            try:  # by classes (in batches of 4 too), and pair by pair
                r7_can_meet._BATCH, r7_can_meet._CLASS_SHARE = batch, class_share
                again = program.replace()  # a new Program: nothing cached
                mask = r7_can_meet.forbidden(again, candidates, start=as_of)
            finally:
                r7_can_meet._BATCH, r7_can_meet._CLASS_SHARE = usual, share
            assert (mask == alone).all(), (batch, class_share, as_of)


def test_alike_rows_are_grouped_exactly_even_when_hashes_collide() -> None:
    """Rows grouped by a hash are checked against their group's first; a collision
    (forced here with a hash that ignores the words) leaves every row on its own."""
    from coachmatch.constraints import r7_can_meet as r7

    kind = np.array([0, 0, 1, 0])
    words = np.array([[1, 2], [1, 2], [1, 2], [3, 2]], dtype=np.uint64)
    ids, first = r7._alike(kind, words)
    assert ids[0] == ids[1] and len({*ids.tolist()}) == 3
    assert all((words[first[ids]] == words).all(axis=1)) and (kind[first[ids]] == kind).all()
    usual = r7._HASH.copy()
    try:
        r7._HASH[:] = 0  # every row hashes alike
        ids, first = r7._alike(kind, words)
    finally:
        r7._HASH[:] = usual
    assert ids.tolist() == [0, 1, 2, 3] and first.tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("class_share", [0, 10**9])
def test_busy_time_of_both_people_together_can_part_a_pair(class_share: int) -> None:
    """R1 and C1 share Wednesdays 14:00-15:00. For 13 weeks R1 is busy 14:00-14:30 and
    C1 14:30-15:00: either alone leaves a slot, both together none, longer than the
    cadence allows; and either away on those Wednesdays parts them alone. The mask sees
    it by classes of people and pair by pair."""
    zone = ZoneInfo("America/Toronto")
    wednesdays = [date(2026, 8, 5) + timedelta(weeks=k) for k in range(13)]

    def busy(person: str, begin: time, end: time) -> list[BusyInterval]:
        return [
            BusyInterval(
                person_id=person,
                start=datetime.combine(day, begin, tzinfo=zone),
                end=datetime.combine(day, end, tzinfo=zone),
            )
            for day in wednesdays
        ]

    resident_busy = busy("R1", time(14), time(14, 30))
    coach_busy = busy("C1", time(14, 30), time(15))
    # either one away all day for those 13 weeks parts them alone
    resident_away = busy("R1", time(0), time(23, 30))
    coach_away = busy("C1", time(0), time(23, 30))
    usual = r7_can_meet._CLASS_SHARE
    try:
        r7_can_meet._CLASS_SHARE = class_share
        for taken, parted in (
            ((*resident_busy, *coach_busy), True),
            (resident_busy, False),
            (coach_busy, False),
            (resident_away, True),
            (coach_away, True),
        ):
            program = two_coaches().replace(busy=taken)
            assert bool(r7_can_meet.forbidden(program)[0, 0]) == parted
            assert (r7_can_meet.why(program, "R1", "C1") is not None) == parted
    finally:
        r7_can_meet._CLASS_SHARE = usual


@pytest.mark.parametrize("size", ["small", "medium"])
def test_the_mask_by_classes_equals_the_mask_pair_by_pair_on_synthetic_programs(
    size: str,
) -> None:
    """On realistic programs (rotations, weekly windows, busy time), made harder (a
    fifth of the people away for one to five weeks, a 21-35 day cadence) so that R7
    parts hundreds of pairs: the mask by classes of people and by each candidate's
    own kind agree, from the start and from a re-plan's date."""
    import random

    program = synthetic(size)  # type: ignore[arg-type]
    rng, zone, away = random.Random(0), program.zone, []
    for person in [*program.index.resident_ids, *program.index.coach_ids]:
        if rng.random() < 0.2:
            day = program.start + timedelta(days=rng.randrange(0, 330))
            begin = datetime.combine(day, time(0), tzinfo=zone)
            end = begin + timedelta(days=rng.randint(7, 35))
            away.append(BusyInterval(person_id=person, start=begin, end=end))
    program = program.replace(busy=(*program.busy, *away)).with_policy(cadence_days=(21, 35))
    allowed = eligibility(program)
    candidates = allowed.allowed | allowed.forbidden_by["R7 can meet"]
    share = r7_can_meet._CLASS_SHARE
    for as_of in (None, program.start + timedelta(days=100)):
        masks = []
        for class_share in (0, 10**9):
            try:
                r7_can_meet._CLASS_SHARE = class_share
                masks.append(r7_can_meet.forbidden(program.replace(), candidates, start=as_of))
            finally:
                r7_can_meet._CLASS_SHARE = share
        assert masks[0].sum() > 5  # R7 parts pairs here
        assert (masks[0] == masks[1]).all()
