"""Firing due timers: each publishes FollowUpDue exactly once and opens the guide's task for it."""

from __future__ import annotations

from uuid import UUID

from brobygger_contracts.events.journey import FollowUpDue
from brobygger_runtime.unit_of_work import UnitOfWork
from journey.adapters import repository as repo
from journey.domain.follow_through import MEASURE_TIMERS
from journey.domain.tasks import TIMER_TASKS
from journey.domain.timers import TimerKind, next_follow_up_due
from journey.service_layer import tasks
from journey.service_layer.context import Context


async def fire_due_timers(uow: UnitOfWork, ctx: Context, limit: int = 200) -> list[TimerKind]:
    """Fire the timers due by now; the FollowUpDue events go to the outbox in the
    same transaction that marks the timers fired, so a crash fires none or all.
    Returns the kinds of the timers this round fired."""
    now = ctx.now()
    fired: list[TimerKind] = []
    for timer in await repo.due_timers(uow.session, now, limit):
        if not await repo.claim_timer(uow.session, timer.id, now):
            continue
        journey = await repo.journey_by_id(uow.session, timer.journey_id)
        if journey is None or journey.erased or journey.hidden:
            continue  # hidden: the owning organisation is no longer in the citizen's consent, so no follow-ups
        kind = TimerKind(timer.kind)
        due_at = timer.due_at
        await uow.publish(
            FollowUpDue(
                journey_id=UUID(journey.journey_id), citizen_id=UUID(journey.citizen_id), guide_id=journey.guide_id,
                kind=kind.value, due_at=due_at,
            )
        )
        point = MEASURE_TIMERS.get(kind)
        await tasks.open_task(uow, journey, TIMER_TASKS[kind], f"timer:{timer.id}", now,
                              time_point=point.value if point else None, due_at=due_at.isoformat())
        if kind is TimerKind.follow_up:
            await repo.schedule_timer(uow.session, journey.journey_id, TimerKind.follow_up, next_follow_up_due(due_at, ctx.policy))
        fired.append(kind)
    return fired
