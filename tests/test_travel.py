"""Travel minutes (SPEC §5): coordinates, travel.csv overrides, missing data."""

from __future__ import annotations

import math
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from coachmatch import Coach, Program, Resident, Site, TravelTime
from coachmatch.datasets import synthetic, toronto_sites
from coachmatch.travel import haversine_km, missing_travel, round_trip, travel_matrix


def reference_minutes(a: Site, b: Site) -> int:
    """SPEC §5 with the math module, one pair at a time."""
    if a.site_id == b.site_id:
        return 0
    assert a.lat is not None and a.lon is not None and b.lat is not None and b.lon is not None
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dl = math.radians(b.lon - a.lon)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    km = 2 * 6371.0088 * math.asin(math.sqrt(h))
    x = 5 + 1.3 * km / 30 * 60
    return math.floor(x + 0.5)


def program_with(sites: list[Site], travel: tuple[TravelTime, ...] = ()) -> Program:
    return Program(
        name="T",
        timezone="America/Toronto",
        start=date(2026, 7, 1),
        end=date(2027, 6, 30),
        sites=sites,
        travel=travel,
        coaches=[Coach(coach_id="C1", name="A", site_id=sites[0].site_id)],
        residents=[Resident(resident_id="R1", name="B")],
    )


def test_toronto_sites_match_the_formula() -> None:
    sites = toronto_sites()
    matrix = travel_matrix(program_with(sites))
    for i, a in enumerate(sites):
        for j, b in enumerate(sites):
            assert matrix[i, j] == reference_minutes(a, b)
    # Toronto General to Sunnybrook: 7.16 km -> 5 + 1.3 * 7.16 * 2 = 23.6 -> 24 minutes
    names = [s.site_id for s in sites]
    assert matrix[names.index("tgh"), names.index("sunnybrook")] == 24


@given(
    st.floats(43.5, 43.9), st.floats(-79.7, -79.2), st.floats(43.5, 43.9), st.floats(-79.7, -79.2)
)
def test_symmetric_and_matches_reference(
    lat1: float, lon1: float, lat2: float, lon2: float
) -> None:
    a = Site(site_id="a", name="A", lat=lat1, lon=lon1)
    b = Site(site_id="b", name="B", lat=lat2, lon=lon2)
    matrix = travel_matrix(program_with([a, b]))
    assert matrix[0, 1] == matrix[1, 0] == reference_minutes(a, b)
    assert matrix[0, 0] == matrix[1, 1] == 0


def test_travel_csv_overrides_one_direction() -> None:
    sites = toronto_sites()[:3]
    override = (TravelTime(from_site=sites[0].site_id, to_site=sites[1].site_id, minutes=3),)
    matrix = travel_matrix(program_with(sites, override))
    assert matrix[0, 1] == 3
    assert matrix[1, 0] == reference_minutes(sites[1], sites[0])
    assert round_trip(matrix, 0, 1) == 3 + matrix[1, 0]
    assert round_trip(matrix, 2, 2) == 0


def test_sites_without_coordinates() -> None:
    sites = [Site(site_id="a", name="A", lat=43.6, lon=-79.4), Site(site_id="b", name="B")]
    program = program_with(sites)
    assert travel_matrix(program)[0, 1] == -1
    assert missing_travel(program) == [("a", "b"), ("b", "a")]
    filled = program_with(sites, (TravelTime(from_site="a", to_site="b", minutes=20),))
    assert missing_travel(filled) == [("b", "a")]


def test_haversine_quarter_meridian() -> None:
    assert abs(float(haversine_km(0, 0, 90, 0)) - math.pi / 2 * 6371.0088) < 1e-6


def test_example_shuttle_override() -> None:
    from coachmatch import load_program
    from tests.conftest import EXAMPLE

    program = load_program(EXAMPLE)
    index = program.index.site
    matrix = travel_matrix(program)
    assert matrix[index["camh-queen"], index["camh-college"]] == 12
    assert matrix[index["camh-college"], index["camh-queen"]] == 12


def test_large_has_every_travel_time() -> None:
    matrix = travel_matrix(synthetic("large"))
    assert matrix.shape == (29, 29)
    assert (matrix >= 0).all()
