"""Reading and writing matching's tables, translated to and from domain types."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from typing import Any, Iterable
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from matching.adapters import postal_codes
from matching.adapters.tables import (
    activities, citizens, group_members, group_proposals, group_requests, proposals, volunteers,
)
from matching.domain.groups import ProposedGroup
from matching.friendships.citizen_data import forget_friendships
from matching.domain.model import Candidate, CitizenProfile, Kind, Preferences, Slot, Traits, Wish
from matching.domain.registry import RetireReason, Retirement, Volunteer
from matching.volunteering import store as volunteer_store
from matching.volunteering.lifecycle import Blocker, LifecycleRules, VolunteerRole, blockers_by_role, ready_roles

HOLDING_CAPACITY = ("proposed", "awaiting_volunteer", "accepted")
"""A pending proposal holds its slot, so the last seat is never offered twice; a decline frees it.
`awaiting_volunteer`: the citizen said yes and the volunteer is being asked (friendships)."""


def slots_of(pairs: Iterable[Any]) -> frozenset[Slot]:
    return frozenset(Slot(p["day"], p["part"]) if isinstance(p, dict) else Slot(*p) for p in pairs)


def slots_json(timetable: Iterable[Slot]) -> list[dict[str, str]]:
    return [{"day": s.day, "part": s.part} for s in sorted(timetable)]


# -- citizens ---------------------------------------------------------------------------------------

async def citizen_row(session: AsyncSession, citizen_id: UUID) -> sa.Row | None:
    return (await session.execute(sa.select(citizens).where(citizens.c.citizen_id == str(citizen_id)))).first()


async def save_citizen(session: AsyncSession, citizen_id: UUID, now: datetime, **values: Any) -> None:
    if await citizen_row(session, citizen_id) is None:
        await session.execute(citizens.insert().values(citizen_id=str(citizen_id), updated_at=now, **values))
    else:
        await session.execute(citizens.update().where(citizens.c.citizen_id == str(citizen_id)).values(updated_at=now, **values))


async def forget_citizen(session: AsyncSession, citizen_id: UUID, now: datetime) -> None:
    """Erase everything held about the citizen; their proposals' slots become free again.

    Only the pseudonymous id stays, with an empty consent, so that a clarification still
    on its way (journey's events travel on another topic) is recognised and dropped
    instead of being stored for a citizen who did not consent.
    """
    await _drop_matches(session, str(citizen_id))
    await save_citizen(session, citizen_id, now, consented_orgs=[], postal_code=None, age_band=None, language=None,
                       needs=None, needs_clarified_at=None, preferences=None, guide_id=None, guide_org=None)


async def erase_citizen(session: AsyncSession, citizen_id: UUID) -> None:
    """Erasure: as `forget_citizen`, and the id goes too. A late event about the citizen is
    ignored by the runtime's erased-citizen marker (a digest), so no row needs to stay."""
    key = str(citizen_id)
    await _drop_matches(session, key)
    await session.execute(citizens.delete().where(citizens.c.citizen_id == key))


async def _drop_matches(session: AsyncSession, key: str) -> None:
    """The citizen's proposals (reasons, distances) and group places; their slots become free."""
    await session.execute(proposals.delete().where(proposals.c.citizen_id == key))
    await session.execute(group_members.delete().where(group_members.c.citizen_id == key))
    await forget_friendships(session, key)  # questions asked about them, their friendships (matching.friendships)
    await session.execute(group_requests.delete().where(group_requests.c.citizen_id == key))


async def citizens_whose_journey_ended(session: AsyncSession, before: datetime) -> list[UUID]:
    query = sa.select(citizens.c.citizen_id).where(citizens.c.journey_ended_at < before)
    return [UUID(c) for c in (await session.scalars(query)).all()]


async def stop_waiting(session: AsyncSession, citizen_id: UUID, now: datetime) -> None:
    """The citizen no longer looks for a match: open proposals are withdrawn (their slots freed),
    group places given up and needs dropped; accepted matches and consent stay."""
    key = str(citizen_id)
    await session.execute(proposals.delete().where(proposals.c.citizen_id == key,
                                                   proposals.c.status.in_(("proposed", "awaiting_volunteer"))))
    await session.execute(group_members.delete().where(group_members.c.citizen_id == key))
    await session.execute(group_requests.delete().where(group_requests.c.citizen_id == key))
    if await citizen_row(session, citizen_id) is not None:
        await save_citizen(session, citizen_id, now, needs=None, needs_clarified_at=None)


def profile_of(row: sa.Row) -> CitizenProfile | None:
    """The citizen as matching sees them, once both consent and needs are known."""
    if row.needs is None or row.consented_orgs is None:
        return None
    needs = row.needs
    return CitizenProfile(
        citizen_id=UUID(row.citizen_id),
        consented_orgs=frozenset(row.consented_orgs),
        interests=frozenset(needs["interests"]),
        languages=frozenset(needs["languages"]),
        postal_code=needs["postal_code"],
        location=postal_codes.locate(needs["postal_code"]),
        wishes=frozenset(Wish(w) for w in needs["wishes"]),
        barriers=frozenset(needs.get("barriers", [])),
        max_travel_km=needs.get("max_travel_km", 5.0),
        needs_step_free=needs.get("needs_step_free", False),
        wants_accompaniment=needs.get("wants_accompaniment", False),
        availability=slots_of(needs.get("availability", [])),
        age_band=row.age_band,
        preferences=Preferences(**(row.preferences or {})),
    )


def needs_json(profile: CitizenProfile) -> dict[str, Any]:
    return {
        "interests": sorted(profile.interests),
        "languages": sorted(profile.languages),
        "postal_code": profile.postal_code,
        "wishes": sorted(w.value for w in profile.wishes),
        "barriers": sorted(profile.barriers),
        "max_travel_km": profile.max_travel_km,
        "needs_step_free": profile.needs_step_free,
        "wants_accompaniment": profile.wants_accompaniment,
        "availability": slots_json(profile.availability),
    }


async def profiles(session: AsyncSession, org: str) -> list[CitizenProfile]:
    """Every clarified citizen whose consent names the organisation."""
    rows = (await session.execute(sa.select(citizens).where(citizens.c.needs.is_not(None)))).all()
    found = [profile_of(row) for row in rows]
    return [p for p in found if p is not None and org in p.consented_orgs]


PROPOSALS_LOCK = 0x6D61746368  # "match"


async def serialise_proposals(session: AsyncSession) -> None:
    """Make transactions that hand out slots take turns, so the last slot is never given twice.

    PostgreSQL: a transaction-scoped advisory lock, taken before capacities are read.
    SQLite already lets one writer in at a time (BEGIN IMMEDIATE).
    """
    if session.bind.dialect.name == "postgresql":
        await session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": PROPOSALS_LOCK})


# -- candidates -------------------------------------------------------------------------------------

async def _with_held(session: AsyncSession, table: sa.Table, key: sa.Column, order: sa.Column,
                     *where: sa.ColumnElement[bool]) -> list[sa.Row]:
    """The table's rows (those meeting `where`), each with `held`: how many of its slots open or accepted proposals take."""
    held = (
        sa.select(proposals.c.candidate_id, sa.func.count().label("held"))
        .where(proposals.c.status.in_(HOLDING_CAPACITY))
        .group_by(proposals.c.candidate_id)
        .subquery()
    )
    query = sa.select(table, sa.func.coalesce(held.c.held, 0).label("held")).outerjoin(
        held, held.c.candidate_id == key).where(*where).order_by(order, key)
    return list((await session.execute(query)).all())


async def volunteer_candidates(session: AsyncSession, rules: LifecycleRules | None = None,
                               today: date | None = None) -> list[Candidate]:
    """Every volunteer ready today for a role (`volunteering.lifecycle.ready_roles`): approved, vetted,
    confidentiality signed, trained for the role, not paused; a retired one is a candidate for nobody."""
    ready, _ = await volunteer_pool(session, rules, today)
    return ready


async def volunteer_pool(session: AsyncSession, rules: LifecycleRules | None = None, today: date | None = None,
                         ) -> tuple[list[Candidate], list[tuple[Candidate, dict[VolunteerRole, list[Blocker]]]]]:
    """The active volunteers as candidates: those ready for a role, and the others with why they are not
    (for a guide asking why someone is not proposed)."""
    rules = rules or LifecycleRules()
    today = today or datetime.now(UTC).date()
    active = volunteers.c.retired_at.is_(None)
    rows = await _with_held(session, volunteers, volunteers.c.volunteer_id, volunteers.c.registered_at, active)
    lifecycle = await volunteer_store.records(session, rows, active)
    ready, unready = [], []
    for r in rows:
        record = lifecycle[UUID(r.volunteer_id)]
        roles = ready_roles(record, today, rules)
        candidate = _volunteer_candidate(r, roles or record.roles)
        if roles:
            ready.append(candidate)
        else:
            unready.append((candidate, blockers_by_role(record, today, rules)))
    return ready, unready


def _volunteer_candidate(r: sa.Row, roles: frozenset[VolunteerRole]) -> Candidate:
    return Candidate(
        candidate_id=UUID(r.volunteer_id),
        kind=Kind.volunteer_friend,
        org=r.org,
        interests=frozenset(r.interests),
        languages=frozenset(r.languages),
        # A volunteer's home never enters a distance that others see: their
        # postal code's centroid stands for it (DESIGN.md section 2).
        location=postal_codes.locate(r.postal_code),
        travel_km=r.max_travel_km,
        capacity_left=max(r.capacity - r.held, 0),
        trained=True,  # training is one of the lifecycle's requirements: a volunteer missing it is not ready
        availability=slots_of(r.availability),
        traits=Traits(**r.traits),
        meets_in_person=VolunteerRole.volunteer_friend in roles,
        meets_by_phone=VolunteerRole.phone_friend in roles,
    )


async def activity_candidates(session: AsyncSession) -> list[Candidate]:
    rows = await _with_held(session, activities, activities.c.activity_id, activities.c.published_at)
    return [
        Candidate(
            candidate_id=UUID(r.activity_id),
            kind=Kind.activity,
            org=r.org,
            interests=frozenset(r.interests),
            languages=frozenset(r.languages),
            location=postal_codes.locate(r.postal_code, r.latitude, r.longitude),
            capacity_left=None if r.seats is None else max(r.seats - r.held, 0),
            step_free=r.step_free,
            accompaniment_welcome=r.accompaniment_welcome,
            practice_community=r.practice_community,
            availability=slots_of(r.schedule),
            name=r.name,
            cost_dkk=r.cost_dkk,
            reduced_cost_dkk=r.reduced_cost_dkk,
            hearing_loop=r.hearing_loop,
            interpreter_available=r.interpreter_available,
        )
        for r in rows
    ]


async def candidates(session: AsyncSession, kind: Kind, rules: LifecycleRules | None = None) -> list[Candidate]:
    return await (volunteer_candidates(session, rules) if kind is Kind.volunteer_friend else activity_candidates(session))


# -- volunteers -------------------------------------------------------------------------------------

def volunteer_of(row: sa.Row) -> Volunteer:
    retirement = None if row.retired_at is None else Retirement(row.retired_at, RetireReason(row.retired_reason))
    return Volunteer(
        volunteer_id=UUID(row.volunteer_id), org=row.org, interests=tuple(row.interests),
        languages=tuple(row.languages), postal_code=row.postal_code, max_travel_km=row.max_travel_km,
        capacity=row.capacity, trained=row.trained, availability=slots_of(row.availability),
        latitude=row.latitude, longitude=row.longitude, traits=Traits(**row.traits), retirement=retirement,
        roles=tuple(sorted(r.value for r in volunteer_store.roles_of(row.roles))), account=row.account,
    )


async def volunteer(session: AsyncSession, volunteer_id: UUID, lock: bool = False) -> Volunteer | None:
    query = sa.select(volunteers).where(volunteers.c.volunteer_id == str(volunteer_id))
    row = (await session.execute(query.with_for_update() if lock else query)).first()
    return None if row is None else volunteer_of(row)


async def save_volunteer(session: AsyncSession, volunteer: Volunteer, registered_at: datetime) -> None:
    """Register or update the volunteer; registering a retired volunteer again brings them back."""
    retirement = volunteer.retirement
    await upsert(session, volunteers, "volunteer_id", {
        "volunteer_id": str(volunteer.volunteer_id), "org": volunteer.org, "interests": list(volunteer.interests),
        "languages": list(volunteer.languages), "postal_code": volunteer.postal_code,
        "latitude": volunteer.latitude, "longitude": volunteer.longitude, "max_travel_km": volunteer.max_travel_km,
        "capacity": volunteer.capacity, "trained": volunteer.trained,
        "availability": slots_json(volunteer.availability), "traits": dataclasses.asdict(volunteer.traits),
        "registered_at": registered_at,
        "retired_at": retirement.at if retirement else None,
        "retired_reason": retirement.reason.value if retirement else None,
        "roles": list(volunteer.roles),
    } | ({"account": volunteer.account} if volunteer.account is not None else {}))


async def retire_volunteer(session: AsyncSession, volunteer_id: UUID, retirement: Retirement) -> None:
    await session.execute(volunteers.update().where(volunteers.c.volunteer_id == str(volunteer_id)).values(
        retired_at=retirement.at, retired_reason=retirement.reason.value))


async def upsert(session: AsyncSession, table: sa.Table, key: str, values: dict[str, Any]) -> None:
    column = table.c[key]
    exists = await session.scalar(sa.select(sa.func.count()).select_from(table).where(column == values[key]))
    if exists:
        await session.execute(table.update().where(column == values[key]).values(**values))
    else:
        await session.execute(table.insert().values(**values))


# -- proposals --------------------------------------------------------------------------------------

async def proposal(session: AsyncSession, proposal_id: UUID, lock: bool = False) -> sa.Row | None:
    query = sa.select(proposals).where(proposals.c.proposal_id == str(proposal_id))
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).first()


async def holding(session: AsyncSession, candidate_id: UUID,
                  statuses: Iterable[str] = HOLDING_CAPACITY) -> list[UUID]:
    """The candidate's pending and accepted proposals (or those of `statuses`), oldest first."""
    query = sa.select(proposals.c.proposal_id).where(
        proposals.c.candidate_id == str(candidate_id), proposals.c.status.in_(list(statuses)),
    ).order_by(proposals.c.proposed_at, proposals.c.proposal_id)
    return [UUID(p) for p in (await session.scalars(query)).all()]


async def proposals_of(session: AsyncSession, citizen_id: UUID) -> list[sa.Row]:
    query = sa.select(proposals).where(proposals.c.citizen_id == str(citizen_id)).order_by(proposals.c.proposed_at)
    return list((await session.execute(query)).all())


async def proposed_candidates(session: AsyncSession, kind: Kind) -> dict[UUID, list[UUID]]:
    """Every candidate of the kind proposed so far, by citizen (whatever the answer was)."""
    query = sa.select(proposals.c.citizen_id, proposals.c.candidate_id).where(proposals.c.kind == kind.value)
    found: dict[UUID, list[UUID]] = {}
    for row in (await session.execute(query)).all():
        found.setdefault(UUID(row.citizen_id), []).append(UUID(row.candidate_id))
    return found


async def open_proposals(session: AsyncSession, kind: Kind) -> set[str]:
    """Citizens with a pending or accepted proposal of this kind: they are not waiting for one."""
    query = sa.select(proposals.c.citizen_id).where(proposals.c.kind == kind.value, proposals.c.status.in_(HOLDING_CAPACITY))
    return set((await session.scalars(query)).all())


async def proposed_groups(session: AsyncSession) -> list[ProposedGroup]:
    """Every group proposed so far (formed ones too: catalogue entries newcomers may join), with its
    current members in the order they joined."""
    groups = {row.group_proposal_id: row for row in (await session.execute(
        sa.select(group_proposals).order_by(group_proposals.c.proposed_at, group_proposals.c.group_proposal_id))).all()}
    members: dict[str, list[UUID]] = {key: [] for key in groups}
    for row in (await session.execute(sa.select(group_members).order_by(group_members.c.joined_at))).all():
        members[row.group_proposal_id].append(UUID(row.citizen_id))
    return [ProposedGroup(UUID(key), row.interest, row.postal_code, tuple(members[key]), row.proposal_version,
                          UUID(row.group_id) if row.group_id else None) for key, row in groups.items()]


async def group_proposal(session: AsyncSession, group_proposal_id: UUID) -> sa.Row | None:
    query = sa.select(group_proposals).where(group_proposals.c.group_proposal_id == str(group_proposal_id))
    return (await session.execute(query)).first()


async def group_formed(session: AsyncSession, group_proposal_id: UUID, group_id: UUID, members: list[UUID],
                       at: datetime) -> None:
    """Journey formed the group with the members who confirmed: they keep their places, the others' are free."""
    key = str(group_proposal_id)
    row = await group_proposal(session, group_proposal_id)
    await session.execute(group_proposals.update().where(group_proposals.c.group_proposal_id == key).values(
        group_id=str(group_id), formed_at=at))
    await session.execute(group_members.delete().where(
        group_members.c.group_proposal_id == key, group_members.c.citizen_id.not_in([str(m) for m in members])))
    known = set((await session.scalars(sa.select(group_members.c.citizen_id).where(
        group_members.c.group_proposal_id == key))).all())
    added = [{"group_proposal_id": key, "citizen_id": str(m), "interest": row.interest, "joined_at": at}
             for m in members if str(m) not in known]
    if added:
        await session.execute(group_members.insert(), added)


async def leave_group(session: AsyncSession, citizen_id: UUID, group_proposal_id: UUID | None,
                      group_id: UUID | None) -> int:
    """The citizen's place in the group is free again; how many places were given up."""
    query = sa.select(group_proposals.c.group_proposal_id)
    if group_proposal_id is not None:
        query = query.where(group_proposals.c.group_proposal_id == str(group_proposal_id))
    else:
        query = query.where(group_proposals.c.group_id == str(group_id))
    keys = list((await session.scalars(query)).all())
    if not keys:
        return 0
    gone = await session.execute(group_members.delete().where(
        group_members.c.group_proposal_id.in_(keys), group_members.c.citizen_id == str(citizen_id)))
    return gone.rowcount or 0


async def request_group(session: AsyncSession, citizen_id: UUID, interest: str, at: datetime) -> None:
    exists = await session.scalar(sa.select(sa.func.count()).select_from(group_requests).where(
        group_requests.c.citizen_id == str(citizen_id), group_requests.c.interest == interest))
    if not exists:
        await session.execute(group_requests.insert().values(citizen_id=str(citizen_id), interest=interest, requested_at=at))


async def group_request_interests(session: AsyncSession) -> dict[UUID, frozenset[str]]:
    found: dict[UUID, set[str]] = {}
    for row in (await session.execute(sa.select(group_requests))).all():
        found.setdefault(UUID(row.citizen_id), set()).add(row.interest)
    return {c: frozenset(i) for c, i in found.items()}


async def end_accepted(session: AsyncSession, citizen_id: UUID, now: datetime,
                       proposal_id: UUID | None = None) -> list[sa.Row]:
    """The citizen's accepted matches end (journey over; or the one `proposal_id` a follow-up found stopped):
    the seats and slots they held are free."""
    query = sa.select(proposals).where(proposals.c.citizen_id == str(citizen_id), proposals.c.status == "accepted")
    if proposal_id is not None:
        query = query.where(proposals.c.proposal_id == str(proposal_id))
    rows = list((await session.execute(query)).all())
    if rows:
        await session.execute(proposals.update().where(
            proposals.c.proposal_id.in_([r.proposal_id for r in rows])).values(status="ended", decided_at=now))
    return rows


async def open_options(session: AsyncSession, citizen_id: UUID, kind: Kind) -> list[sa.Row]:
    """The citizen's pending proposals of one kind (the options still on the table)."""
    query = sa.select(proposals).where(proposals.c.citizen_id == str(citizen_id), proposals.c.kind == kind.value,
                                       proposals.c.status == "proposed").order_by(proposals.c.rank)
    return list((await session.execute(query)).all())


async def freed_since(session: AsyncSession, kind: Kind, since: datetime, candidate_ids: Iterable[str] | None = None) -> int:
    """Seats or slots freed since `since`: accepted matches that ended."""
    query = sa.select(sa.func.count()).select_from(proposals).where(
        proposals.c.kind == kind.value, proposals.c.status == "ended", proposals.c.decided_at >= since)
    if candidate_ids is not None:
        query = query.where(proposals.c.candidate_id.in_(list(candidate_ids)))
    return int(await session.scalar(query) or 0)


async def save_group_proposal(session: AsyncSession, group_proposal_id: UUID, interest: str, postal_code: str,
                              members: list[UUID], now: datetime, new: bool, version: int = 1) -> None:
    if new:
        await session.execute(group_proposals.insert().values(
            group_proposal_id=str(group_proposal_id), interest=interest, postal_code=postal_code, proposed_at=now,
            proposal_version=version))
    else:
        await session.execute(group_proposals.update().where(
            group_proposals.c.group_proposal_id == str(group_proposal_id)).values(proposal_version=version))
    known = set((await session.scalars(sa.select(group_members.c.citizen_id).where(
        group_members.c.group_proposal_id == str(group_proposal_id)))).all())
    added = [{"group_proposal_id": str(group_proposal_id), "citizen_id": str(c), "interest": interest, "joined_at": now}
             for c in members if str(c) not in known]
    if added:
        await session.execute(group_members.insert(), added)
