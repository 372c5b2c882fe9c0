"""Reading and writing journey's tables inside the current transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from journey.adapters.tables import guides, journeys, timers, transitions
from journey.domain.guides import GuideLoad
from journey.domain.journey import State
from journey.domain.timers import TimerKind


async def journey_by_citizen(session: AsyncSession, citizen_id: UUID | str, lock: bool = False) -> sa.Row | None:
    """The citizen's open journey, else the latest one (an earlier one may have ended before a new referral)."""
    exited_last = sa.case((journeys.c.state == State.exited.value, 1), else_=0)
    query = (
        sa.select(journeys)
        .where(journeys.c.citizen_id == str(citizen_id), journeys.c.erased.is_(False))
        .order_by(exited_last, journeys.c.referred_at.desc(), journeys.c.journey_id)
        .limit(1)
    )
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).first()


async def journey_by_id(session: AsyncSession, journey_id: str) -> sa.Row | None:
    return (await session.execute(sa.select(journeys).where(journeys.c.journey_id == journey_id))).first()


async def insert_journey(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(journeys.insert().values(**values))


async def update_journey(session: AsyncSession, journey_id: str, **values: Any) -> None:
    await session.execute(journeys.update().where(journeys.c.journey_id == journey_id).values(**values))


async def assign_guide(session: AsyncSession, journey_id: str, guide_id: str, at: datetime) -> bool:
    """Give the journey its guide unless it has one already; False when another transaction was first."""
    assigned = await session.execute(
        journeys.update()
        .where(journeys.c.journey_id == journey_id, journeys.c.guide_id.is_(None))
        .values(guide_id=guide_id, assigned_at=at)
    )
    return assigned.rowcount == 1


async def record_transition(session: AsyncSession, journey_id: str, step: str, before: str, after: str, at: datetime) -> None:
    await session.execute(
        transitions.insert().values(journey_id=journey_id, step=step, from_state=before, to_state=after, at=at)
    )


async def guide_loads(session: AsyncSession) -> list[GuideLoad]:
    open_count = (
        sa.select(journeys.c.guide_id, sa.func.count().label("n"))
        .where(journeys.c.state != State.exited.value, journeys.c.guide_id.is_not(None), journeys.c.erased.is_(False))
        .group_by(journeys.c.guide_id)
        .subquery()
    )
    rows = await session.execute(
        sa.select(guides.c.guide_id, guides.c.capacity, guides.c.active, sa.func.coalesce(open_count.c.n, 0))
        .select_from(guides.outerjoin(open_count, open_count.c.guide_id == guides.c.guide_id))
    )
    return [GuideLoad(guide_id=g, capacity=c, active=a, open_journeys=n) for g, c, a, n in rows]


async def unassigned_journeys(session: AsyncSession) -> list[sa.Row]:
    """Open journeys still without a guide, oldest referral first."""
    query = (
        sa.select(journeys)
        .where(journeys.c.guide_id.is_(None), journeys.c.state != State.exited.value, journeys.c.erased.is_(False))
        .order_by(journeys.c.referred_at, journeys.c.journey_id)
    )
    return list((await session.execute(query)).all())


async def upsert_guide(session: AsyncSession, guide_id: str, display_name: str | None, capacity: int, active: bool, at: datetime) -> None:
    updated = await session.execute(
        guides.update().where(guides.c.guide_id == guide_id).values(display_name=display_name, capacity=capacity, active=active)
    )
    if updated.rowcount == 0:
        await session.execute(
            guides.insert().values(guide_id=guide_id, display_name=display_name, capacity=capacity, active=active, registered_at=at)
        )


async def schedule_timer(session: AsyncSession, journey_id: str, kind: TimerKind, due_at: datetime) -> None:
    await session.execute(timers.insert().values(journey_id=journey_id, kind=kind.value, due_at=due_at))


async def cancel_timers(session: AsyncSession, journey_id: str, now: datetime, kind: TimerKind | None = None) -> None:
    query = timers.update().where(
        timers.c.journey_id == journey_id, timers.c.fired_at.is_(None), timers.c.cancelled_at.is_(None)
    )
    if kind is not None:
        query = query.where(timers.c.kind == kind.value)
    await session.execute(query.values(cancelled_at=now))


async def due_timers(session: AsyncSession, now: datetime, limit: int) -> list[sa.Row]:
    query = (
        sa.select(timers)
        .where(timers.c.fired_at.is_(None), timers.c.cancelled_at.is_(None), timers.c.due_at <= now)
        .order_by(timers.c.due_at, timers.c.id)
        .limit(limit)
    )
    return list((await session.execute(query)).all())


async def claim_timer(session: AsyncSession, timer_id: int, now: datetime) -> bool:
    """Mark the timer fired; False when another replica fired or cancelled it first.

    The conditional update is what makes a timer fire once: of two transactions
    racing, the second waits for the first's row lock and then matches nothing.
    """
    claimed = await session.execute(
        timers.update()
        .where(timers.c.id == timer_id, timers.c.fired_at.is_(None), timers.c.cancelled_at.is_(None))
        .values(fired_at=now)
    )
    return claimed.rowcount == 1
