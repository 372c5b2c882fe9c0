"""New groups: when 2-5 waiting citizens near one another share an interest no nearby activity serves.

Varde's walking communities began this way: nobody knew the others wanted the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence
from uuid import UUID

from matching.domain.geo import haversine_km
from matching.domain.model import Candidate, CitizenProfile, Wish
from matching.domain.scoring import assess_all, reach_km

MIN_GROUP = 2
MAX_GROUP = 5


@dataclass(frozen=True)
class GroupPlan:
    interest: str
    postal_code: str
    members: tuple[UUID, ...]


def wants_community(citizen: CitizenProfile) -> bool:
    return Wish.group in citizen.wishes or Wish.activity in citizen.wishes


def served_nearby(citizen: CitizenProfile, interest: str, activities: Sequence[Candidate]) -> bool:
    """Whether an activity for the interest exists that the citizen could join (near enough, seats left, ...)."""
    relevant = [a for a in activities if interest in a.interests]
    return any(a.eligible for a in assess_all(citizen, relevant))


def plan_group(
    newcomer: CitizenProfile,
    waiting: Sequence[CitizenProfile],
    activities: Sequence[Candidate],
    grouped: dict[str, set[UUID]],
) -> GroupPlan | None:
    """The largest group the newcomer could start with nearby waiting citizens, if any.

    Near one another means within both citizens' reach. Citizens already in a group
    proposal for an interest are not proposed for it again.
    """
    if not wants_community(newcomer) or newcomer.location is None:
        return None
    best: GroupPlan | None = None
    for interest in sorted(newcomer.interests):
        taken = grouped.get(interest, set())
        if newcomer.citizen_id in taken or served_nearby(newcomer, interest, activities):
            continue
        neighbours: list[tuple[float, str, UUID]] = []
        for other in waiting:
            if (other.citizen_id == newcomer.citizen_id or other.citizen_id in taken or other.location is None
                    or interest not in other.interests or not wants_community(other)):
                continue
            distance = haversine_km(newcomer.location, other.location)
            reach = min(reach_km(newcomer.max_travel_km, newcomer.barriers), reach_km(other.max_travel_km, other.barriers))
            if distance <= reach and not served_nearby(other, interest, activities):
                neighbours.append((distance, str(other.citizen_id), other.citizen_id))
        members = (newcomer.citizen_id, *(n[2] for n in sorted(neighbours)[: MAX_GROUP - 1]))
        if len(members) >= MIN_GROUP and (best is None or len(members) > len(best.members)):
            best = GroupPlan(interest=interest, postal_code=newcomer.postal_code, members=members)
    return best
