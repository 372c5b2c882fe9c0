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
    group_proposal_id: UUID | None = None
    """Set when the newcomer joins a group proposed before: it is proposed again, larger."""


@dataclass(frozen=True)
class ProposedGroup:
    group_proposal_id: UUID
    interest: str
    postal_code: str
    members: tuple[UUID, ...]


def wants_community(citizen: CitizenProfile) -> bool:
    return Wish.group in citizen.wishes or Wish.activity in citizen.wishes


def served_nearby(citizen: CitizenProfile, interest: str, activities: Sequence[Candidate]) -> bool:
    """Whether an activity for the interest exists that the citizen could join (near enough, seats left, ...)."""
    relevant = [a for a in activities if interest in a.interests]
    return any(a.eligible for a in assess_all(citizen, relevant))


def near_one_another(a: CitizenProfile, b: CitizenProfile) -> float | None:
    """The distance between two citizens when it is within both one's reach, else None."""
    if a.location is None or b.location is None:
        return None
    distance = haversine_km(a.location, b.location)
    reach = min(reach_km(a.max_travel_km, a.barriers), reach_km(b.max_travel_km, b.barriers))
    return distance if distance <= reach else None


def plan_group(
    newcomer: CitizenProfile,
    waiting: Sequence[CitizenProfile],
    activities: Sequence[Candidate],
    proposed: Sequence[ProposedGroup] = (),
) -> GroupPlan | None:
    """The largest group the newcomer could start or join with nearby waiting citizens, if any.

    Near one another means within both citizens' reach. A citizen is in at most one group
    proposal per interest; a group proposed before with room left takes the newcomer in
    when they live near all its members.
    """
    if not wants_community(newcomer) or newcomer.location is None:
        return None
    by_id = {c.citizen_id: c for c in waiting}
    best: GroupPlan | None = None
    for interest in sorted(newcomer.interests):
        groups = [g for g in proposed if g.interest == interest]
        taken = {member for g in groups for member in g.members}
        if newcomer.citizen_id in taken or served_nearby(newcomer, interest, activities):
            continue
        plan = _join(newcomer, groups, by_id) or _start(newcomer, interest, waiting, taken, activities)
        if plan is not None and (best is None or len(plan.members) > len(best.members)):
            best = plan
    return best


def _join(newcomer: CitizenProfile, groups: list[ProposedGroup], by_id: dict[UUID, CitizenProfile]) -> GroupPlan | None:
    for group in groups:
        known = [by_id[m] for m in group.members if m in by_id]
        if len(group.members) < MAX_GROUP and known and all(near_one_another(newcomer, m) is not None for m in known):
            return GroupPlan(group.interest, group.postal_code, (*group.members, newcomer.citizen_id), group.group_proposal_id)
    return None


def _start(newcomer: CitizenProfile, interest: str, waiting: Sequence[CitizenProfile], taken: set[UUID],
           activities: Sequence[Candidate]) -> GroupPlan | None:
    neighbours: list[tuple[float, str, UUID]] = []
    for other in waiting:
        if other.citizen_id == newcomer.citizen_id or other.citizen_id in taken or interest not in other.interests:
            continue
        distance = near_one_another(newcomer, other)
        if distance is not None and wants_community(other) and not served_nearby(other, interest, activities):
            neighbours.append((distance, str(other.citizen_id), other.citizen_id))
    members = (newcomer.citizen_id, *(n[2] for n in sorted(neighbours)[: MAX_GROUP - 1]))
    return GroupPlan(interest, newcomer.postal_code, members) if len(members) >= MIN_GROUP else None


@dataclass(frozen=True)
class Gap:
    """An interest waiting citizens of one area share that no activity they could join serves."""

    interest: str
    postal_code: str
    waiting: int


def gaps(waiting: Sequence[CitizenProfile], activities: Sequence[Candidate]) -> list[Gap]:
    """Where offers are missing, most wanted first ("today nobody knows what the other does")."""
    counts: dict[tuple[str, str], int] = {}
    for citizen in waiting:
        if not wants_community(citizen):
            continue
        for interest in citizen.interests:
            if not served_nearby(citizen, interest, activities):
                key = (interest, citizen.postal_code)
                counts[key] = counts.get(key, 0) + 1
    found = [Gap(interest, postal_code, n) for (interest, postal_code), n in counts.items()]
    return sorted(found, key=lambda g: (-g.waiting, g.interest, g.postal_code))
