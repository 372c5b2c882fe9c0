"""New groups for waiting citizens that no activity serves: proposed once per partnership, grown under new
versions, and places freed when members leave."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from brobygger_contracts.events.matching import GroupProposed
from brobygger_runtime.unit_of_work import UnitOfWork
from matching.adapters import repository as repo
from matching.adapters.metrics import metrics_of
from matching.adapters.tables import proposals
from matching.domain.groups import Gap, gaps, group_home, plan_group
from matching.domain.model import CitizenProfile, Kind
from matching.service_layer.errors import NotFound


def matching_orgs(uow_or_settings) -> list[str]:  # noqa: ANN001
    """The partnership's organisations that run matching, in the order that picks a citizen's group home."""
    settings = getattr(uow_or_settings, "runtime", None)
    settings = settings.settings if settings is not None else uow_or_settings
    return [o.strip() for o in getattr(settings, "matching_orgs", "").split(",") if o.strip()]


async def waiting_for_community(session: AsyncSession, org: str) -> list[CitizenProfile]:
    """Clarified, consenting citizens not yet taking part in an activity."""
    joined = set((await session.scalars(sa.select(proposals.c.citizen_id).where(
        proposals.c.kind == Kind.activity.value, proposals.c.status == "accepted"))).all())
    return [p for p in await repo.profiles(session, org) if str(p.citizen_id) not in joined]


async def find_gaps(session: AsyncSession, org: str) -> list[Gap]:
    return gaps(await waiting_for_community(session, org), await repo.activity_candidates(session))


async def propose_groups(uow: UnitOfWork, newcomer: CitizenProfile) -> GroupProposed | None:
    """Start a group for the newcomer with nearby waiting citizens, or let them join one (proposed or formed)
    with room: then it is proposed again, all members, under its next version.

    Only the citizens' group home proposes (`domain.groups.group_home`): with two organisations running
    matching and consent naming both, one group proposal reaches the bus, not two.
    """
    session = uow.session
    org = uow.runtime.settings.org_id
    order = matching_orgs(uow)
    if group_home(newcomer.consented_orgs, order, org) != org:
        return None
    waiting = [c for c in await waiting_for_community(session, org) if group_home(c.consented_orgs, order, org) == org]
    plan = plan_group(newcomer, waiting, await repo.activity_candidates(session), await repo.proposed_groups(session),
                      await repo.group_request_interests(session))
    if plan is None:
        return None
    now = datetime.now(UTC)
    event = GroupProposed(
        group_proposal_id=plan.group_proposal_id or uuid.uuid4(), interest=plan.interest, postal_code=plan.postal_code,
        citizen_ids=list(plan.members), proposing_org=org, proposed_at=now, proposal_version=plan.version,
        group_id=plan.group_id,
    )
    await repo.save_group_proposal(session, event.group_proposal_id, plan.interest, plan.postal_code,
                                   list(plan.members), now, new=plan.group_proposal_id is None, version=plan.version)
    await uow.publish(event)
    metrics_of(uow.runtime).groups.inc()
    return event


async def group_formed(uow: UnitOfWork, group_proposal_id: UUID | None, group_id: UUID, members: list[UUID],
                       at: datetime) -> None:
    """Journey formed a group this instance proposed: it becomes a catalogue entry newcomers can join; the
    proposed members who did not confirm give up their places (they wait for a community again)."""
    if group_proposal_id is None or await repo.group_proposal(uow.session, group_proposal_id) is None:
        return  # formed by hand, or proposed by another organisation's instance: not ours to grow
    await repo.group_formed(uow.session, group_proposal_id, group_id, members, at)


async def participation_ended(uow: UnitOfWork, citizen_id: UUID, group_id: UUID, group_proposal_id: UUID | None) -> int:
    """A member left, stopped attending or ended their journey: their place in the group is free."""
    return await repo.leave_group(uow.session, citizen_id, group_proposal_id, group_id)


async def request_group(uow: UnitOfWork, profile: CitizenProfile, interest: str) -> GroupProposed | None:
    """The citizen (with the guide) asks for a new group for the interest rather than an existing activity:
    kept, and a group is proposed as soon as a nearby citizen wants the same (now or when they come)."""
    if profile is None:
        raise NotFound("no clarified citizen")
    await repo.request_group(uow.session, profile.citizen_id, interest, datetime.now(UTC))
    return await propose_groups(uow, profile)
