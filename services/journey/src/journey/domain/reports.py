"""Figures for the partnership: pure arithmetic over rows the adapters read.

Percentiles use the nearest-rank method (the value at rank ceil(p*n) of the
sorted list), so every figure is one of the observed values and can be checked
by hand; the median is the usual middle value (mean of the two middle ones).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass
from typing import Any

MIN_CELL = 5
"""A figure counting fewer citizens than this is never shown to anyone who may not open those citizens."""
SIZE_KEYS = ("count", "pairs", "referred", "first_visits", "accompanied_visits")
"""Keys naming how many citizens a block of figures is computed from."""


def suppress_small_cells(data: Any) -> Any:
    """Every count of 1 to MIN_CELL-1 becomes None, and every figure of a block computed from fewer
    than MIN_CELL citizens (means, medians, hours) too; 0 stays (it discloses no one)."""
    if isinstance(data, list):
        return [suppress_small_cells(x) for x in data]
    if not isinstance(data, dict):
        return data
    sizes = [data[k] for k in SIZE_KEYS if isinstance(data.get(k), int) and not isinstance(data.get(k), bool)]
    small_block = any(0 < n < MIN_CELL for n in sizes)
    out: dict = {}
    for key, value in data.items():
        if isinstance(value, (dict, list)):
            out[key] = suppress_small_cells(value)
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            out[key] = value
        elif small_block or (isinstance(value, int) and 0 < value < MIN_CELL):
            out[key] = None
        else:
            out[key] = value
    return out


def nearest_rank(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p * len(ordered))) - 1]


def waiting_summary(days: list[float]) -> dict:
    """Count, median and 90th percentile of waiting times in days."""
    return {
        "count": len(days),
        "median_days": round(statistics.median(days), 2) if days else None,
        "p90_days": round(nearest_rank(days, 0.9), 2) if days else None,
    }


@dataclass(frozen=True)
class PairedMeasure:
    baseline: int
    final: int


def loneliness_change(pairs: list[PairedMeasure]) -> dict:
    """Before and after on the UCLA total (3-9) for journeys measured at both ends.

    A negative change means less lonely.
    """
    if not pairs:
        return {"pairs": 0, "mean_baseline": None, "mean_final": None, "mean_change": None,
                "improved": 0, "unchanged": 0, "worse": 0}
    changes = [p.final - p.baseline for p in pairs]
    return {
        "pairs": len(pairs),
        "mean_baseline": round(statistics.mean(p.baseline for p in pairs), 2),
        "mean_final": round(statistics.mean(p.final for p in pairs), 2),
        "mean_change": round(statistics.mean(changes), 2),
        "improved": sum(1 for c in changes if c < 0),
        "unchanged": sum(1 for c in changes if c == 0),
        "worse": sum(1 for c in changes if c > 0),
    }


@dataclass(frozen=True)
class Period:
    """A report's date range: journeys referred from `start` (inclusive) to `end` (exclusive); open ends."""

    start: Any = None
    end: Any = None

    def holds(self, moment: Any) -> bool:
        return moment is not None and (self.start is None or moment >= self.start) and (self.end is None or moment < self.end)


EVERYTHING = Period()


def cohort_of(moment: Any) -> str:
    """Citizens referred in the same quarter form a cohort (`2026-Q1`): big enough cells, still comparable."""
    return f"{moment.year}-Q{(moment.month - 1) // 3 + 1}"


@dataclass(frozen=True)
class WaitingCitizen:
    postal_code: str
    interests: tuple[str, ...]


def gap_report(waiting: list[WaitingCitizen], served: set[tuple[str, str]], min_citizens: int = 2) -> list[dict]:
    """Interests that at least `min_citizens` waiting citizens share in an area where
    no known activity serves them; `served` holds (postal_code, interest) pairs."""
    counts: Counter[tuple[str, str]] = Counter()
    for citizen in waiting:
        for interest in set(citizen.interests):
            counts[(citizen.postal_code, interest)] += 1
    gaps = [
        {"postal_code": area, "interest": interest, "waiting_citizens": n}
        for (area, interest), n in counts.items()
        if n >= min_citizens and (area, interest) not in served
    ]
    return sorted(gaps, key=lambda g: (-g["waiting_citizens"], g["postal_code"], g["interest"]))
