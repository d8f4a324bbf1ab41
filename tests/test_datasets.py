"""Synthetic programs: sizes, determinism and a shape a matching can succeed on."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from coachmatch import Program
from coachmatch.datasets import SIZES, synthetic, toronto_sites


@pytest.mark.parametrize("size", ["small", "medium"])
def test_sizes(size: str) -> None:
    program = synthetic(size)  # type: ignore[arg-type]
    residents, coaches, sites, programs = SIZES[size]
    assert (len(program.residents), len(program.coaches), len(program.sites)) == (
        residents,
        coaches,
        sites,
    )
    assert len({r.program for r in program.residents}) == programs


def test_explicit_counts_override_size() -> None:
    program = synthetic("small", residents=30, coaches=10, sites=20, programs=["A", "B"])
    assert (len(program.residents), len(program.coaches), len(program.sites)) == (30, 10, 20)
    assert {r.program for r in program.residents} == {"A", "B"}
    assert program.sites[-1].site_id == "clinic-02"  # beyond the 18 Toronto hospitals


def test_same_seed_same_program_other_seed_other_program() -> None:
    assert synthetic("small", seed=5) == synthetic("small", seed=5)
    assert synthetic("small", seed=5) != synthetic("small", seed=6)
    a, b = synthetic("small", seed=5), synthetic("small", seed=5)
    assert a.model_dump_json() == b.model_dump_json()


def test_sites_are_real_toronto_hospitals() -> None:
    sites = {s.site_id: s for s in toronto_sites()}
    assert len(sites) == 18
    assert sites["sunnybrook"].address.startswith("2075 Bayview Ave")


def every_program_has_headroom(program: Program) -> None:
    capacity: Counter[str] = Counter()
    anyone = 0
    for coach in program.coaches:
        if not coach.active:
            continue
        if coach.programs:
            for name in coach.programs:
                capacity[name] += program.capacity(coach)
        else:
            anyone += program.capacity(coach)
    residents = Counter(r.program for r in program.residents if r.active)
    for name, count in residents.items():
        assert capacity[name] + anyone >= count, name


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_capacity_covers_every_program(seed: int) -> None:
    every_program_has_headroom(synthetic("medium", seed=seed))


def test_supervisors_work_at_the_rotation_site() -> None:
    program = synthetic("medium", seed=1)
    home = {c.coach_id: c.site_id for c in program.coaches}
    supervised = [
        (s, rot.site_id) for rot in program.rotations for s in rot.supervisor_ids if s in home
    ]
    assert supervised
    assert all(home[s] == site for s, site in supervised)


def test_rotations_are_thirteen_four_week_blocks() -> None:
    program = synthetic("small")
    blocks = sorted({(r.start, r.end) for r in program.rotations})
    assert len(blocks) == 13
    assert blocks[0][0] == program.start and blocks[-1][1] == program.end
    assert all((end - start).days == 27 for start, end in blocks[:-1])


def test_required_pairs_are_allowed_by_the_rules() -> None:
    for seed in range(4):
        program = synthetic("medium", seed=seed)
        coaches = {c.coach_id: c for c in program.coaches}
        residents = {r.resident_id: r for r in program.residents}
        supervisors = defaultdict(set)
        for rot in program.rotations:
            supervisors[rot.resident_id].update(rot.supervisor_ids)
        for req in program.requests:
            if req.kind != "require":
                continue
            coach, resident = coaches[req.coach_id], residents[req.resident_id]
            assert req.coach_id not in supervisors[req.resident_id]
            assert resident.decision_panel not in coach.committee_panels
            assert not coach.programs or resident.program in coach.programs


def test_protected_half_day_is_common() -> None:
    program = synthetic("small")
    residents = {r.resident_id for r in program.residents}
    wednesday = {
        a.person_id
        for a in program.availability
        if a.person_id in residents and a.weekday == "wed" and a.start.hour == 13
    }
    assert len(wednesday) > len(residents) / 2


def test_bad_counts() -> None:
    with pytest.raises(ValueError, match="at least one coach per program"):
        synthetic("small", coaches=2, programs=3)
