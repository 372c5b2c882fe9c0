"""Proposing new groups for waiting citizens that no activity serves."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from brobygger_contracts.events.matching import GroupProposed
from brobygger_runtime.unit_of_work import UnitOfWork
from matching.adapters import repository as repo
from matching.adapters.metrics import metrics_of
from matching.adapters.tables import proposals
from matching.domain.groups import Gap, gaps, plan_group
from matching.domain.model import CitizenProfile, Kind


async def waiting_for_community(session: AsyncSession, org: str) -> list[CitizenProfile]:
    """Clarified, consenting citizens not yet taking part in an activity."""
    joined = set((await session.scalars(sa.select(proposals.c.citizen_id).where(
        proposals.c.kind == Kind.activity.value, proposals.c.status == "accepted"))).all())
    return [p for p in await repo.profiles(session, org) if str(p.citizen_id) not in joined]


async def find_gaps(session: AsyncSession, org: str) -> list[Gap]:
    return gaps(await waiting_for_community(session, org), await repo.activity_candidates(session))


async def propose_groups(uow: UnitOfWork, newcomer: CitizenProfile) -> GroupProposed | None:
    session = uow.session
    org = uow.runtime.settings.org_id
    waiting = await waiting_for_community(session, org)
    plan = plan_group(newcomer, waiting, await repo.activity_candidates(session), await repo.proposed_groups(session))
    if plan is None:
        return None
    now = datetime.now(UTC)
    # A group that grows is proposed again under its id, with all its members.
    event = GroupProposed(
        group_proposal_id=plan.group_proposal_id or uuid.uuid4(), interest=plan.interest, postal_code=plan.postal_code,
        citizen_ids=list(plan.members), proposing_org=org, proposed_at=now,
    )
    await repo.save_group_proposal(session, event.group_proposal_id, plan.interest, plan.postal_code,
                                   list(plan.members), now, new=plan.group_proposal_id is None)
    await uow.publish(event)
    metrics_of(uow.runtime).groups.inc()
    return event


