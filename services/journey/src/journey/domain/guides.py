"""Choosing the guide for a new journey: the least-loaded active guide with room."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GuideLoad:
    guide_id: str
    capacity: int
    open_journeys: int
    active: bool = True

    @property
    def has_room(self) -> bool:
        return self.active and self.open_journeys < self.capacity


def least_loaded(guides: list[GuideLoad]) -> GuideLoad | None:
    """Fewest open journeys first; ties go to the one with most room left, then by id
    so the choice is repeatable. None when every guide is full: the journey waits."""
    candidates = [g for g in guides if g.has_room]
    if not candidates:
        return None
    return min(candidates, key=lambda g: (g.open_journeys, -(g.capacity - g.open_journeys), g.guide_id))
