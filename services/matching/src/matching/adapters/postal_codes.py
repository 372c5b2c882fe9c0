"""The bundled table of postal-code centroids (approximate, enough for reach and nearness)."""

from __future__ import annotations

import csv
import functools
from importlib import resources

from matching.domain.geo import Point


@functools.cache
def centroids() -> dict[str, Point]:
    text = resources.files("matching").joinpath("data/postal_centroids.csv").read_text(encoding="utf-8")
    return {
        row["postal_code"]: Point(float(row["latitude"]), float(row["longitude"]))
        for row in csv.DictReader(text.splitlines())
    }


def locate(postal_code: str | None, latitude: float | None = None, longitude: float | None = None) -> Point | None:
    """Exact coordinates when given, else the postal code's centroid, else unknown."""
    if latitude is not None and longitude is not None:
        return Point(latitude, longitude)
    if postal_code is None:
        return None
    return centroids().get(postal_code)
