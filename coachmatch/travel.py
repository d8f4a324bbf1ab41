"""Travel minutes between sites (SPEC §5), vectorized.

One way, from site a to site b: the ``travel.csv`` minutes where the program gives
them (directed), else from coordinates::

    round(5 + 1.3 * haversine_km / 30 * 60)

— 5 minutes to get going, a detour factor of 1.3 over the great-circle distance,
30 km/h through the city — and 0 from a site to itself. Rounding is half away
from zero, as for affinity. A pair with neither a ``travel.csv`` row nor
coordinates at both ends has no travel time (``-1`` in the matrix);
:func:`missing_travel` lists such pairs so that a caller can say which rows to add.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from coachmatch.models import Program

__all__ = ["EARTH_RADIUS_KM", "haversine_km", "missing_travel", "round_trip", "travel_matrix"]

#: mean Earth radius (IUGG), the radius the haversine formula uses here
EARTH_RADIUS_KM = 6371.0088


def haversine_km(
    lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """Great-circle distance in km between points given in degrees (broadcasts).

    Examples
    --------
    >>> float(np.round(haversine_km(43.659083, -79.388277, 43.7227, -79.374697), 2))
    7.16
    """
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(lon2) - np.radians(lon1)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))))


def travel_matrix(program: Program) -> npt.NDArray[np.int64]:
    """One-way travel minutes between every pair of sites, in ``program.sites`` order.

    Returns
    -------
    numpy.ndarray of int64, shape (sites, sites)
        ``[a, b]`` is the time from site a to site b; 0 on the diagonal; -1 where
        neither ``travel.csv`` nor coordinates give a time.

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> program = synthetic("small")
    >>> matrix = travel_matrix(program)
    >>> [s.site_id for s in program.sites]
    ['camh-queen', 'camh-college', 'tgh']
    >>> matrix.tolist()
    [[0, 11, 13], [11, 0, 7], [13, 7, 0]]
    """
    n = len(program.sites)
    lat = np.array([np.nan if s.lat is None else s.lat for s in program.sites])
    lon = np.array([np.nan if s.lon is None else s.lon for s in program.sites])
    km = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    minutes = np.floor(5.0 + 1.3 * km / 30.0 * 60.0 + 0.5)
    matrix = np.where(np.isnan(minutes), -1, minutes).astype(np.int64)
    index = program.index.site
    for row in program.travel:
        matrix[index[row.from_site], index[row.to_site]] = row.minutes
    matrix[np.arange(n), np.arange(n)] = 0
    return matrix


def round_trip(matrix: npt.NDArray[np.int64], home: int, place: int) -> int:
    """Minutes to go from ``home`` to ``place`` and back (0 when they are the same site).

    Examples
    --------
    >>> round_trip(np.array([[0, 7], [9, 0]]), 0, 1)
    16
    """
    if home == place:
        return 0
    return int(matrix[home, place] + matrix[place, home])


def missing_travel(program: Program) -> list[tuple[str, str]]:
    """Site pairs (from, to) with no travel time: no ``travel.csv`` row, no coordinates.

    Examples
    --------
    >>> from coachmatch.datasets import synthetic
    >>> missing_travel(synthetic("small"))
    []
    """
    matrix = travel_matrix(program)
    ids = program.index.site_ids
    return [(ids[a], ids[b]) for a, b in zip(*np.nonzero(matrix < 0), strict=True)]
