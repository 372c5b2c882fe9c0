"""New groups: when 2-5 waiting citizens near one another share an interest no nearby activity serves.

Varde's walking communities began this way: nobody knew the others wanted the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence
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
    version: int = 1
    """The proposal's version: 1 for a new group, the group's last version + 1 when it grows."""
    group_id: UUID | None = None
    """The formed group the newcomer joins (`GroupFormed`), when it already meets."""


@dataclass(frozen=True)
class ProposedGroup:
    group_proposal_id: UUID
    interest: str
    postal_code: str
    members: tuple[UUID, ...]
    version: int = 1
    group_id: UUID | None = None
    """Set once journey formed the group: a catalogue entry newcomers can join."""


def group_home(consented_orgs: frozenset[str] | set[str], matching_orgs: Sequence[str], own_org: str) -> str | None:
    """The one organisation whose matching instance proposes new groups for this citizen.

    Several instances know a citizen whose consent names them all; only one may group them, or each
    proposes its own group for the same people (issue 15 case 1). The home is the first organisation of
    the partnership's matching organisations (`MATCHING_ORGS`, in the partnership's order) that the
    citizen's consent names. A group only ever joins citizens of one home, so exactly one instance
    proposes each group and no two instances race for a citizen. With no list configured every
    instance is home to the citizens it knows (one instance per partnership).
    """
    if not matching_orgs:
        return own_org if own_org in consented_orgs else None
    return next((org for org in matching_orgs if org in consented_orgs), None)


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
    requests: Mapping[UUID, frozenset[str]] | None = None,
) -> GroupPlan | None:
    """The largest group the newcomer could start or join with nearby waiting citizens, if any.

    Near one another means within both citizens' reach. A citizen is in at most one group
    proposal per interest; a group proposed (or formed) before with room left takes the newcomer in
    when they live near all its members known here. `requests` are the interests each citizen asked
    a new group for (`POST /citizens/{id}/group-request`): for those an activity nearby does not
    stop them from being grouped.
    """
    requests = requests or {}
    if not (wants_community(newcomer) or requests.get(newcomer.citizen_id)) or newcomer.location is None:
        return None
    by_id = {c.citizen_id: c for c in waiting}
    best: GroupPlan | None = None
    for interest in sorted(newcomer.interests | requests.get(newcomer.citizen_id, frozenset())):
        groups = [g for g in proposed if g.interest == interest]
        taken = {member for g in groups for member in g.members}
        if newcomer.citizen_id in taken or _served(newcomer, interest, activities, requests):
            continue
        plan = _join(newcomer, groups, by_id) or _start(newcomer, interest, waiting, taken, activities, requests)
        if plan is not None and (best is None or len(plan.members) > len(best.members)):
            best = plan
    return best


def _served(citizen: CitizenProfile, interest: str, activities: Sequence[Candidate],
            requests: Mapping[UUID, frozenset[str]]) -> bool:
    return interest not in requests.get(citizen.citizen_id, frozenset()) and served_nearby(citizen, interest, activities)


def _join(newcomer: CitizenProfile, groups: list[ProposedGroup], by_id: dict[UUID, CitizenProfile]) -> GroupPlan | None:
    """The first group (proposed or formed) with room whose members known here all live near the newcomer;
    it grows under its next version."""
    for group in groups:
        known = [by_id[m] for m in group.members if m in by_id]
        if len(group.members) < MAX_GROUP and known and all(near_one_another(newcomer, m) is not None for m in known):
            return GroupPlan(group.interest, group.postal_code, (*group.members, newcomer.citizen_id),
                             group.group_proposal_id, group.version + 1, group.group_id)
    return None


def _start(newcomer: CitizenProfile, interest: str, waiting: Sequence[CitizenProfile], taken: set[UUID],
           activities: Sequence[Candidate], requests: Mapping[UUID, frozenset[str]]) -> GroupPlan | None:
    neighbours: list[tuple[float, str, UUID]] = []
    for other in waiting:
        wanted = other.interests | requests.get(other.citizen_id, frozenset())
        if other.citizen_id == newcomer.citizen_id or other.citizen_id in taken or interest not in wanted:
            continue
        distance = near_one_another(newcomer, other)
        wants = wants_community(other) or interest in requests.get(other.citizen_id, frozenset())
        if distance is not None and wants and not _served(other, interest, activities, requests):
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
