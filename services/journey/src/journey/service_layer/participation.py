"""A citizen stops taking part in a group: their place is free, and matching hears of it (`ParticipationEnded`)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from brobygger_contracts.events.journey import ParticipationEnded, ParticipationEndReason
from brobygger_runtime.unit_of_work import UnitOfWork
from journey.adapters.tables import group_members, groups


async def end(uow: UnitOfWork, group_id: str, citizen_id: str, reason: ParticipationEndReason,
              at: datetime) -> ParticipationEnded | None:
    """The member's place ends (once: a member who already left is left alone, None)."""
    done = await uow.session.execute(group_members.update().where(
        group_members.c.group_id == group_id, group_members.c.citizen_id == citizen_id,
        group_members.c.left_at.is_(None)).values(left_at=at, left_reason=reason.value))
    if not done.rowcount:
        return None
    proposal = await uow.session.scalar(sa.select(groups.c.group_proposal_id).where(groups.c.group_id == group_id))
    event = ParticipationEnded(citizen_id=UUID(citizen_id), group_id=UUID(group_id),
                               group_proposal_id=UUID(proposal) if proposal else None, reason=reason, ended_at=at)
    await uow.publish(event)
    return event


async def journey_ended(uow: UnitOfWork, citizen_id: UUID, at: datetime) -> list[ParticipationEnded]:
    """The citizen's journey ended: every group place they hold is free."""
    held = (await uow.session.scalars(sa.select(group_members.c.group_id).where(
        group_members.c.citizen_id == str(citizen_id), group_members.c.left_at.is_(None)))).all()
    ended = [await end(uow, group_id, str(citizen_id), ParticipationEndReason.journey_ended, at) for group_id in held]
    return [e for e in ended if e is not None]
