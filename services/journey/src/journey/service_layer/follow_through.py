"""After the first visit: follow-up outcomes, the timer a contact restarts, the UCLA-3 asked again,
the still-taking-part check after a group runs itself, transport to arrange, messages that did not reach."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from brobygger_contracts.events.journey import FollowUpRecorded, NeedsClarified
from brobygger_contracts.types import UclaScore
from brobygger_runtime.unit_of_work import UnitOfWork
from journey.adapters import repository as repo
from journey.adapters.tables import follow_ups, group_members, measures, proposals, timers
from journey.domain.clarification import Ucla
from journey.domain.errors import DomainError, InvalidInput
from journey.domain.follow_through import FollowUpOutcome, TimePoint, check_outcome, may_measure
from journey.domain.journey import State
from journey.domain.tasks import DONE_BY_FOLLOW_UP, TaskKind
from journey.domain.timers import (
    TimerKind, follow_up_after_contact, still_taking_part_due, ucla_after_exit_due, ucla_after_start_due,
)
from journey.service_layer import tasks
from journey.service_layer.context import Context


class NothingToProposeFrom(DomainError):
    """A new proposal needs the clarification matching proposes from."""


async def restart_follow_up_timer(uow: UnitOfWork, ctx: Context, journey_id: str, contact_at: datetime) -> bool:
    """A contact with the citizen is a follow-up: the pending follow-up moves to a period after it.
    Nothing happens before the first visit (no follow-up is pending then)."""
    pending = (await uow.session.execute(sa.select(timers.c.id).where(
        timers.c.journey_id == journey_id, timers.c.kind == TimerKind.follow_up.value,
        timers.c.fired_at.is_(None), timers.c.cancelled_at.is_(None),
    ))).first()
    if pending is None:
        return False
    await repo.cancel_timers(uow.session, journey_id, ctx.now(), TimerKind.follow_up)
    await repo.schedule_timer(uow.session, journey_id, TimerKind.follow_up, follow_up_after_contact(contact_at, ctx.policy))
    return True


@dataclass(frozen=True)
class FollowUp:
    outcome: FollowUpOutcome
    reason: str | None = None
    proposal_id: UUID | None = None
    by: str | None = None
    at: datetime | None = None


async def record_follow_up(uow: UnitOfWork, ctx: Context, journey: sa.Row, follow_up: FollowUp) -> dict:
    """Keep the outcome, tell the bus (FollowUpRecorded), restart the follow-up timer; a stop ends the named
    proposal. (`needs_new_proposal`: the caller then moves the journey back to matching and asks again.)"""
    check_outcome(follow_up.outcome, follow_up.reason)
    at = follow_up.at or ctx.now()
    if follow_up.outcome is FollowUpOutcome.needs_new_proposal and not journey.clarification:
        raise NothingToProposeFrom("no clarification recorded yet: clarify before asking for a new proposal")
    proposal_id = str(follow_up.proposal_id) if follow_up.proposal_id else None
    if proposal_id is not None and not await uow.session.scalar(sa.select(proposals.c.proposal_id).where(
            proposals.c.proposal_id == proposal_id, proposals.c.journey_id == journey.journey_id)):
        raise InvalidInput("proposal_id", f"no proposal {proposal_id} on this journey")
    await uow.session.execute(follow_ups.insert().values(
        journey_id=journey.journey_id, outcome=follow_up.outcome.value, reason=follow_up.reason,
        proposal_id=proposal_id, recorded_by=follow_up.by, recorded_at=at,
    ))
    await uow.publish(FollowUpRecorded(
        journey_id=UUID(journey.journey_id), citizen_id=UUID(journey.citizen_id), guide_id=journey.guide_id,
        outcome=follow_up.outcome.value, proposal_id=follow_up.proposal_id, recorded_at=at, reason=follow_up.reason,
    ))
    if proposal_id and follow_up.outcome in (FollowUpOutcome.stopped, FollowUpOutcome.needs_new_proposal):
        await uow.session.execute(proposals.update().where(proposals.c.proposal_id == proposal_id)
                                  .values(status="stopped", decided_at=at))
    await restart_follow_up_timer(uow, ctx, journey.journey_id, at)
    await tasks.close_open(uow, journey.journey_id, DONE_BY_FOLLOW_UP, follow_up.by, ctx.now())
    return {"outcome": follow_up.outcome.value, "reason": follow_up.reason, "recorded_at": at}


async def ask_matching_again(uow: UnitOfWork, ctx: Context, journey: sa.Row) -> None:
    """Matching proposes on NeedsClarified: the kept clarification again, as of now."""
    c: dict[str, Any] = journey.clarification
    await uow.publish(NeedsClarified(
        journey_id=UUID(journey.journey_id), citizen_id=UUID(journey.citizen_id), guide_id=journey.guide_id,
        interests=c["interests"], languages=c["languages"], postal_code=c["postal_code"], barriers=c["barriers"],
        wishes=c["wishes"], wants_accompaniment=c["wants_accompaniment"], max_travel_km=c["max_travel_km"],
        needs_step_free=c["needs_step_free"], availability=c["availability"],
        baseline=UclaScore(**journey.baseline) if journey.baseline and "total" not in journey.baseline else None,
        clarified_at=ctx.now(),
    ))


async def record_measure(uow: UnitOfWork, ctx: Context, journey: sa.Row, point: TimePoint, answers: Ucla,
                         by: str | None, at: datetime | None = None) -> dict:
    """The UCLA-3 answers at a time point (asked again: the newer answers replace the older). The baseline
    and the exit answers are the journey's own too, for the reports that compare them."""
    exited = journey.state == State.exited.value
    may_measure(point, exited)
    at = at or ctx.now()
    values = answers.as_dict()
    await uow.session.execute(measures.delete().where(measures.c.journey_id == journey.journey_id,
                                                      measures.c.time_point == point.value))
    await uow.session.execute(measures.insert().values(journey_id=journey.journey_id, time_point=point.value,
                                                       answers=values, measured_at=at))
    if point is TimePoint.baseline:
        await repo.update_journey(uow.session, journey.journey_id, baseline=values)
    elif point is TimePoint.exit:
        await repo.update_journey(uow.session, journey.journey_id, final=values)
    await tasks.close_open(uow, journey.journey_id, (TaskKind.ask_ucla,), by, ctx.now(), time_point=point.value)
    return {"time_point": point.value, "total": sum(values.values()), "measured_at": at}


async def journey_opened(uow: UnitOfWork, ctx: Context, journey_id: str, referred_at: datetime) -> None:
    await repo.schedule_timer(uow.session, journey_id, TimerKind.ucla_after_start, ucla_after_start_due(referred_at, ctx.policy))


async def journey_ended(uow: UnitOfWork, ctx: Context, journey: sa.Row, outcome: str, final: Ucla | None,
                        at: datetime) -> None:
    """After the exit (whose timers were cancelled): the exit answers, or a task to ask them, and the
    measure months after the exit. Not for a citizen who said no or was handed to professionals."""
    if outcome in ("declined", "escalated") or not journey.baseline:
        return  # without the baseline no later answer can be paired with it
    if final is not None:
        await uow.session.execute(measures.insert().values(journey_id=journey.journey_id, time_point=TimePoint.exit.value,
                                                           answers=final.as_dict(), measured_at=at))
    else:
        await tasks.open_task(uow, journey, TaskKind.ask_ucla, f"exit:{journey.journey_id}", at,
                              time_point=TimePoint.exit.value)
    await repo.schedule_timer(uow.session, journey.journey_id, TimerKind.ucla_after_exit, ucla_after_exit_due(at, ctx.policy))


async def group_runs_itself(uow: UnitOfWork, ctx: Context, group_id: str, at: datetime) -> int:
    """Some weeks after a group begins to run itself, each member's guide asks whether they still take part."""
    members = (await uow.session.scalars(sa.select(group_members.c.citizen_id).where(group_members.c.group_id == group_id))).all()
    scheduled = 0
    for citizen_id in members:
        journey = await repo.journey_by_citizen(uow.session, citizen_id)
        if journey is None or journey.state == State.exited.value:
            continue
        await repo.schedule_timer(uow.session, journey.journey_id, TimerKind.still_taking_part, still_taking_part_due(at, ctx.policy))
        scheduled += 1
    return scheduled


async def transport_to_arrange(uow: UnitOfWork, journey: sa.Row, proposal_id: str, at: datetime) -> bool:
    """An accepted proposal with a transport need: the guide arranges it (driver, flex transport, bus ride)."""
    need = await uow.session.scalar(sa.select(proposals.c.transport_need).where(proposals.c.proposal_id == proposal_id))
    if not need:
        return False
    return await tasks.open_task(uow, journey, TaskKind.arrange_transport, f"transport:{proposal_id}", at,
                                 transport_need=need, proposal_id=proposal_id)


async def message_did_not_reach(uow: UnitOfWork, citizen_id: UUID, notification_id: UUID, notify_org: str | None,
                                at: datetime) -> bool:
    """Notify could not reach the citizen (no e-mail, no mobile): their guide calls or writes the letter
    notify prints (GET /deliveries/{notification_id}/letter at the notify instance of `notify_org`)."""
    journey = await repo.journey_by_citizen(uow.session, citizen_id)
    if journey is None or journey.hidden:
        return False
    return await tasks.open_task(uow, journey, TaskKind.call_or_write, f"notification:{notification_id}", at,
                                 notification_id=str(notification_id), notify_org=notify_org,
                                 letter=f"/deliveries/{notification_id}/letter")
