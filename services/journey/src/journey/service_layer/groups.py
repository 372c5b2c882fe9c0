"""Groups: proposed by matching or formed by hand, facilitated until they run themselves."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from brobygger_contracts.events.journey import GroupBecameSelfRunning, GroupFormed, ParticipationEnded, ParticipationEndReason
from brobygger_runtime.unit_of_work import UnitOfWork
from journey.adapters import repository as repo
from journey.adapters.tables import group_members, groups, meetings
from journey.domain.errors import DomainError, NotFound
from journey.domain.groups import Group, GroupState, SelfRunningReason, after_meeting
from journey.domain.journey import TRANSITIONS, State, Step
from journey.service_layer import follow_through, journeys, participation, visits
from journey.service_layer.context import Context

PROPOSED = "proposed"
"""A GroupProposed waiting for a facilitator; not yet a group."""


@dataclass(frozen=True)
class GroupProposal:
    proposal_id: UUID
    interest: str
    postal_code: str
    citizen_ids: tuple[UUID, ...]
    at: datetime
    version: int = 1


async def group_proposed(uow: UnitOfWork, proposal: GroupProposal) -> None:
    """Keep the proposal until a coordinator names its facilitator (`form_group`); its members confirm one by
    one (`confirm_member`). A later version (the group grew) adds its newcomers, also once the group meets;
    an older or repeated version changes nothing, and a member who left is not brought back."""
    s = uow.session
    row = (await s.execute(sa.select(groups).where(groups.c.group_proposal_id == str(proposal.proposal_id))
                           .with_for_update())).first()
    if row is not None:
        if proposal.version <= row.proposal_version:
            return
        await s.execute(groups.update().where(groups.c.group_id == row.group_id).values(proposal_version=proposal.version))
        for citizen in proposal.citizen_ids:
            await _add_member(uow, row.group_id, citizen)
        return
    group_id = str(uuid.uuid4())
    await s.execute(
        groups.insert().values(
            group_id=group_id, group_proposal_id=str(proposal.proposal_id), interest=proposal.interest,
            postal_code=proposal.postal_code, facilitator_id=None, state=PROPOSED, meetings_held=0,
            consecutive_without_facilitator=0, formed_at=proposal.at, proposal_version=proposal.version,
        )
    )
    for citizen in proposal.citizen_ids:
        await s.execute(group_members.insert().values(group_id=group_id, citizen_id=str(citizen)))


async def confirm_member(uow: UnitOfWork, ctx: Context, group_proposal_id: UUID, citizen_id: UUID) -> dict:
    """A proposed member says yes. Before the group forms they are counted in; once it meets they join at once
    (their accepted match, as for the founders)."""
    row = (await uow.session.execute(sa.select(groups).where(
        groups.c.group_proposal_id == str(group_proposal_id)).with_for_update())).first()
    if row is None:
        raise NotFound(f"no group proposal {group_proposal_id}")
    member = (await uow.session.execute(sa.select(group_members).where(
        group_members.c.group_id == row.group_id, group_members.c.citizen_id == str(citizen_id)))).first()
    if member is None or member.left_at is not None:
        raise NotFound(f"citizen {citizen_id} is not proposed for group proposal {group_proposal_id}")
    now = ctx.now()
    if member.confirmed_at is None:
        await uow.session.execute(group_members.update().where(
            group_members.c.group_id == row.group_id, group_members.c.citizen_id == str(citizen_id)).values(confirmed_at=now))
        if row.state != PROPOSED:
            await _joined(uow, str(citizen_id), now)
    return {"group_proposal_id": str(group_proposal_id), "group_id": row.group_id, "group_state": row.state,
            "citizen_id": str(citizen_id), "confirmed": True}


async def leave(uow: UnitOfWork, ctx: Context, group_id: UUID, citizen_id: UUID) -> ParticipationEnded:
    """A member leaves the group: their place is free (`ParticipationEnded`, `left`)."""
    ended = await participation.end(uow, str(group_id), str(citizen_id), ParticipationEndReason.left, ctx.now())
    if ended is None:
        raise NotFound(f"citizen {citizen_id} is not a member of group {group_id}")
    return ended


@dataclass(frozen=True)
class NewGroup:
    facilitator_id: str
    group_proposal_id: UUID | None = None
    interest: str | None = None
    postal_code: str | None = None
    member_citizen_ids: tuple[UUID, ...] = ()


async def form_group(uow: UnitOfWork, ctx: Context, new: NewGroup) -> GroupFormed:
    """From a stored GroupProposed (its interest, area and citizens) or by hand."""
    s = uow.session
    now = ctx.now()
    if new.group_proposal_id is not None:
        row = (await s.execute(sa.select(groups).where(groups.c.group_proposal_id == str(new.group_proposal_id)).with_for_update())).first()
        if row is None:
            raise NotFound(f"no group proposal {new.group_proposal_id}")
        if row.state != PROPOSED:
            raise DomainError(f"the proposal already formed group {row.group_id}")
        group_id, interest, postal_code = row.group_id, row.interest, row.postal_code
        await _keep_confirmed(uow, group_id)
        for citizen in new.member_citizen_ids:
            await _add_member(uow, group_id, citizen)
    else:
        if not new.interest or not new.postal_code:
            raise DomainError("a group formed by hand needs an interest and a postal code")
        group_id, interest, postal_code = str(uuid.uuid4()), new.interest, new.postal_code
        await s.execute(
            groups.insert().values(
                group_id=group_id, interest=interest, postal_code=postal_code, state=PROPOSED, meetings_held=0,
                consecutive_without_facilitator=0, formed_at=now,
            )
        )
        for citizen in new.member_citizen_ids:
            await _add_member(uow, group_id, citizen)
    await s.execute(
        groups.update().where(groups.c.group_id == group_id).values(
            facilitator_id=new.facilitator_id, state=GroupState.facilitated.value, formed_at=now
        )
    )
    members = await _members(uow, group_id)
    await uow.session.execute(group_members.update().where(
        group_members.c.group_id == group_id, group_members.c.confirmed_at.is_(None)).values(confirmed_at=now))
    for citizen in members:
        await _joined(uow, citizen, now)
    event = GroupFormed(
        group_id=UUID(group_id), group_proposal_id=new.group_proposal_id, interest=interest, postal_code=postal_code,
        facilitator_id=new.facilitator_id, member_citizen_ids=[UUID(m) for m in members], formed_at=now,
    )
    await uow.publish(event)
    return event


async def _keep_confirmed(uow: UnitOfWork, group_id: str) -> None:
    """A proposed group forms with the members who confirmed; when none has yet, the coordinator forming it
    speaks for all of them (as before members confirmed one by one)."""
    confirmed = await uow.session.scalar(sa.select(sa.func.count()).select_from(group_members).where(
        group_members.c.group_id == group_id, group_members.c.confirmed_at.is_not(None)))
    if confirmed:
        await uow.session.execute(group_members.delete().where(
            group_members.c.group_id == group_id, group_members.c.confirmed_at.is_(None)))


async def _members(uow: UnitOfWork, group_id: str) -> list[str]:
    """The group's members who still take part."""
    query = sa.select(group_members.c.citizen_id).where(
        group_members.c.group_id == group_id, group_members.c.left_at.is_(None)).order_by(group_members.c.citizen_id)
    return list((await uow.session.scalars(query)).all())


async def _joined(uow: UnitOfWork, citizen_id: str, at: datetime) -> None:
    """Joining a new group is the citizen's accepted match, for members with an open journey here."""
    journey = await repo.journey_by_citizen(uow.session, citizen_id, lock=True)
    if journey is not None and (State(journey.state), Step.accept) in TRANSITIONS:
        await journeys.advance(uow, journey, Step.accept, at, match_accepted_at=journey.match_accepted_at or at)


async def _attended(uow: UnitOfWork, ctx: Context, citizen_id: str, held_at: datetime) -> None:
    """A member's first meeting is their first visit; later ones are attendance."""
    journey = await repo.journey_by_citizen(uow.session, citizen_id)
    if journey is None:
        return
    if journey.state == State.match_accepted.value:
        await visits.record_first_visit(uow, ctx, UUID(citizen_id), visits.Visit(visited_at=held_at))
    elif journey.state in (State.first_visit.value, State.active.value):
        await visits.record_attendance(uow, ctx, UUID(citizen_id), visits.Visit(visited_at=held_at))


async def _add_member(uow: UnitOfWork, group_id: str, citizen_id: UUID) -> None:
    """Add the citizen unless they are (or were: a member who left is not brought back) in the group."""
    present = await uow.session.scalar(
        sa.select(sa.func.count()).select_from(group_members).where(
            group_members.c.group_id == group_id, group_members.c.citizen_id == str(citizen_id)
        )
    )
    if not present:
        await uow.session.execute(group_members.insert().values(group_id=group_id, citizen_id=str(citizen_id)))


async def _formed_group(uow: UnitOfWork, group_id: UUID) -> tuple[sa.Row, Group]:
    row = (await uow.session.execute(sa.select(groups).where(groups.c.group_id == str(group_id)).with_for_update())).first()
    if row is None or row.state == PROPOSED:
        raise NotFound(f"no group {group_id}")
    return row, Group(GroupState(row.state), row.meetings_held, row.consecutive_without_facilitator)


async def record_meeting(
    uow: UnitOfWork, ctx: Context, group_id: UUID, held_at: datetime | None, facilitator_present: bool,
    attendees: int, attending_members: tuple[UUID, ...] = (),
) -> dict:
    """Log a meeting; members named as attending move on in their journeys."""
    row, group = await _formed_group(uow, group_id)
    held_at = held_at or ctx.now()
    members = set(await _members(uow, row.group_id))
    strangers = {str(c) for c in attending_members} - members
    if strangers:
        raise DomainError(f"not members of the group: {sorted(strangers)}")
    for citizen in sorted({str(c) for c in attending_members}):
        await _attended(uow, ctx, citizen, held_at)
    if attending_members:  # who came is known: the others missed it
        await _count_absences(uow, ctx, row.group_id, {str(c) for c in attending_members}, held_at)
    attendees = max(attendees, len(set(attending_members)))
    after, reason = group.record_meeting(facilitator_present, ctx.self_running_after_meetings)
    await uow.session.execute(
        meetings.insert().values(group_id=row.group_id, held_at=held_at, facilitator_present=facilitator_present, attendees=attendees)
    )
    await _save(uow, row, after)
    if reason is not None:
        await _became_self_running(uow, ctx, row, after, reason)
    return {"group_id": row.group_id, "state": after.state.value, "meetings_held": after.meetings_held,
            "consecutive_without_facilitator": after.consecutive_without_facilitator}


async def _count_absences(uow: UnitOfWork, ctx: Context, group_id: str, came: set[str], held_at: datetime) -> None:
    """Each confirmed member's run of missed meetings; one who missed `stopped_attending_after_meetings` in a row
    stopped attending: their place is freed (`ParticipationEnded`, `stopped_attending`)."""
    rows = (await uow.session.execute(sa.select(group_members).where(
        group_members.c.group_id == group_id, group_members.c.left_at.is_(None),
        group_members.c.confirmed_at.is_not(None)))).all()
    for member in rows:
        missed, stopped = after_meeting(member.missed_in_a_row, member.citizen_id in came,
                                        ctx.stopped_attending_after_meetings)
        await uow.session.execute(group_members.update().where(
            group_members.c.group_id == group_id, group_members.c.citizen_id == member.citizen_id).values(
            missed_in_a_row=missed))
        if stopped:
            await participation.end(uow, group_id, member.citizen_id, ParticipationEndReason.stopped_attending, held_at)


async def facilitator_releases(uow: UnitOfWork, ctx: Context, group_id: UUID) -> None:
    row, group = await _formed_group(uow, group_id)
    after = group.release_facilitator()
    await _save(uow, row, after)
    await _became_self_running(uow, ctx, row, after, SelfRunningReason.facilitator_decision)


async def _save(uow: UnitOfWork, row: sa.Row, group: Group) -> None:
    await uow.session.execute(
        groups.update().where(groups.c.group_id == row.group_id).values(
            state=group.state.value, meetings_held=group.meetings_held,
            consecutive_without_facilitator=group.consecutive_without_facilitator,
        )
    )


async def _became_self_running(uow: UnitOfWork, ctx: Context, row: sa.Row, group: Group, reason: SelfRunningReason) -> None:
    now = ctx.now()
    await uow.session.execute(groups.update().where(groups.c.group_id == row.group_id).values(self_running_at=now))
    await uow.publish(
        GroupBecameSelfRunning(
            group_id=UUID(row.group_id), facilitator_id=row.facilitator_id, reason=reason.value,
            meetings_held=group.meetings_held, became_self_running_at=now,
        )
    )
    await follow_through.group_runs_itself(uow, ctx, row.group_id, now)  # members asked later whether they still take part


async def list_groups(uow: UnitOfWork, facilitator: str | None, limit: int, offset: int) -> list[dict]:
    """Groups newest first (only those `facilitator` facilitates, when given), each as `group_view` shows it."""
    query = sa.select(groups.c.group_id).order_by(groups.c.formed_at.desc(), groups.c.group_id)
    if facilitator is not None:
        query = query.where(groups.c.facilitator_id == facilitator)
    ids = (await uow.session.scalars(query.limit(limit).offset(offset))).all()
    return [await group_view(uow, UUID(group_id)) for group_id in ids]


async def group_view(uow: UnitOfWork, group_id: UUID) -> dict:
    row = (await uow.session.execute(sa.select(groups).where(groups.c.group_id == str(group_id)))).first()
    if row is None:
        raise NotFound(f"no group {group_id}")
    members = await _members(uow, row.group_id)
    places = (await uow.session.execute(sa.select(group_members).where(group_members.c.group_id == row.group_id)
                                        .order_by(group_members.c.citizen_id))).all()
    return {
        "group_id": row.group_id, "group_proposal_id": row.group_proposal_id, "interest": row.interest,
        "postal_code": row.postal_code, "facilitator_id": row.facilitator_id, "state": row.state,
        "proposal_version": row.proposal_version,
        "members": [{"citizen_id": m.citizen_id, "confirmed": m.confirmed_at is not None,
                     "left_at": m.left_at, "left_reason": m.left_reason, "missed_in_a_row": m.missed_in_a_row}
                    for m in places],
        "meetings_held": row.meetings_held, "consecutive_without_facilitator": row.consecutive_without_facilitator,
        "member_citizen_ids": sorted(members), "formed_at": row.formed_at,
        "self_running_at": row.self_running_at,
    }
