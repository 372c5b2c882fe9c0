"""Places, distances and reach: how far apart two points are, and how far a citizen can get."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

EARTH_RADIUS_KM = 6371.0088


# Distance and transport are the largest barriers in the seeds: each shrinks how
# far the citizen can get, multiplicatively.
REACH_FACTORS = {"transport": 0.5, "mobility": 0.6, "distance": 0.75, "health": 0.8}


def reach_km(max_travel_km: float, barriers: Iterable[str]) -> float:
    """How far the citizen can get once their barriers are taken into account."""
    reach = max_travel_km
    for barrier in set(barriers):
        reach *= REACH_FACTORS.get(barrier, 1.0)
    return reach


@dataclass(frozen=True)
class Point:
    latitude: float
    longitude: float


def distance_grid(lat_a: np.ndarray, lon_a: np.ndarray, lat_b: np.ndarray, lon_b: np.ndarray) -> np.ndarray:
    """Haversine distances in km from each of m points to each of n points, as (m, n) float32.

    The half-angle sines of the differences are expanded per side
    (sin(b - a) = sin b cos a - cos b sin a), so the whole grid costs two small
    matrix products and one arcsin per cell. Unknown coordinates (NaN) give NaN.
    """
    a_lat, a_lon, b_lat, b_lon = (np.radians(np.atleast_1d(np.asarray(x, dtype=float))) / 2 for x in (lat_a, lon_a, lat_b, lon_b))

    def sine_of_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        left = np.stack([np.cos(a), -np.sin(a)], axis=1).astype(np.float32)
        right = np.stack([np.sin(b), np.cos(b)], axis=0).astype(np.float32)
        return np.nan_to_num(left) @ np.nan_to_num(right)

    h = sine_of_difference(a_lat, b_lat)
    h *= h
    lon_term = sine_of_difference(a_lon, b_lon)
    lon_term *= lon_term
    lon_term *= np.cos(2 * a_lat).astype(np.float32)[:, None]
    lon_term *= np.cos(2 * b_lat).astype(np.float32)[None, :]
    h += lon_term
    np.clip(h, 0.0, 1.0, out=h)
    np.sqrt(h, out=h)
    np.arcsin(h, out=h)
    h *= np.float32(2 * EARTH_RADIUS_KM)
    h[np.isnan(a_lat) | np.isnan(a_lon), :] = np.nan
    h[:, np.isnan(b_lat) | np.isnan(b_lon)] = np.nan
    return h


def haversine_km(a: Point, b: Point) -> float:
    return float(distance_grid(a.latitude, a.longitude, b.latitude, b.longitude)[0, 0])
