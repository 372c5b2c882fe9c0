"""The first visit, attendance after it, and the punch card they draw on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from brobygger_contracts.events.journey import FirstVisitAccompanied, FirstVisitPlanned
from brobygger_runtime.unit_of_work import UnitOfWork
from journey.adapters import repository as repo
from journey.adapters.tables import punch_cards, punch_entries, visits
from journey.domain.errors import InvalidVisitPlan
from journey.domain.journey import State, Step, next_state
from journey.domain.punch_card import PunchCard
from journey.domain.timers import TimerKind, first_follow_up_due
from journey.service_layer.context import Context
from journey.service_layer.journeys import advance, journey_of


@dataclass(frozen=True)
class Visit:
    visited_at: datetime | None = None
    proposal_id: UUID | None = None
    companion: str | None = None
    """guide, volunteer, home_care or relative; None when the citizen went alone."""
    companion_id: str | None = None
    hours: float = 0.0
    attended: bool = True


@dataclass(frozen=True)
class VisitPlan:
    visit_at: datetime
    proposal_id: UUID | None = None
    companion: str | None = None
    """guide, volunteer, home_care or relative; None when the citizen goes alone."""
    companion_id: str | None = None


async def plan_first_visit(uow: UnitOfWork, ctx: Context, citizen_id: UUID, plan: VisitPlan) -> datetime:
    """Book the first visit; a new booking replaces the earlier one (and its reminders)."""
    now = ctx.now()
    if plan.visit_at.tzinfo is None:
        raise InvalidVisitPlan("visit_at", "give the time with its UTC offset, e.g. 2026-12-01T10:00:00+01:00")
    if plan.visit_at <= now:
        raise InvalidVisitPlan("visit_at", "the visit must be in the future")
    journey = await journey_of(uow, citizen_id)
    await advance(uow, journey, Step.plan_visit, now, first_visit_planned_for=plan.visit_at)
    await uow.publish(
        FirstVisitPlanned(
            journey_id=UUID(journey.journey_id), citizen_id=UUID(journey.citizen_id), proposal_id=plan.proposal_id,
            visit_at=plan.visit_at, companion=plan.companion, companion_id=plan.companion_id, planned_at=now,
        )
    )
    return plan.visit_at


async def _card(uow: UnitOfWork, journey_id: str) -> PunchCard:
    row = (await uow.session.execute(sa.select(punch_cards).where(punch_cards.c.journey_id == journey_id).with_for_update())).first()
    return PunchCard(row.granted_hours, row.drawn_hours) if row else PunchCard()


async def _save_card(uow: UnitOfWork, journey_id: str, card: PunchCard, kind: str, hours: float, by: str | None, at: datetime) -> None:
    s = uow.session
    updated = await s.execute(
        punch_cards.update().where(punch_cards.c.journey_id == journey_id).values(granted_hours=card.granted, drawn_hours=card.drawn)
    )
    if updated.rowcount == 0:
        await s.execute(punch_cards.insert().values(journey_id=journey_id, granted_hours=card.granted, drawn_hours=card.drawn))
    await s.execute(punch_entries.insert().values(journey_id=journey_id, kind=kind, hours=hours, by=by, at=at))


def card_view(card: PunchCard) -> dict:
    return {"granted_hours": card.granted, "drawn_hours": card.drawn, "balance_hours": card.balance}


async def grant_hours(uow: UnitOfWork, ctx: Context, citizen_id: UUID, hours: float, by: str | None, extension: bool) -> dict:
    """A grant of accompaniment hours, or a coordinator's extension of the card."""
    journey = await journey_of(uow, citizen_id)
    card = (await _card(uow, journey.journey_id)).grant(hours)
    await _save_card(uow, journey.journey_id, card, "extend" if extension else "grant", hours, by, ctx.now())
    return card_view(card)


async def punch_card(uow: UnitOfWork, citizen_id: UUID) -> dict:
    journey = await journey_of(uow, citizen_id)
    return card_view(await _card(uow, journey.journey_id))


async def _accompany(uow: UnitOfWork, journey_id: str, visit: Visit, at: datetime) -> None:
    """Draws the accompaniment from the punch card; refused beyond its balance."""
    if visit.companion is None or visit.hours <= 0:
        return
    card = (await _card(uow, journey_id)).draw(visit.hours)
    await _save_card(uow, journey_id, card, "draw", visit.hours, visit.companion_id, at)


async def record_first_visit(uow: UnitOfWork, ctx: Context, citizen_id: UUID, visit: Visit) -> dict:
    journey = await journey_of(uow, citizen_id)
    at = visit.visited_at or ctx.now()
    await advance(uow, journey, Step.first_visit, at, first_visit_at=journey.first_visit_at or at)
    await _accompany(uow, journey.journey_id, visit, at)
    await _insert_visit(uow, journey.journey_id, visit, at, first=True)
    await repo.cancel_timers(uow.session, journey.journey_id, ctx.now(), TimerKind.follow_up)
    await repo.schedule_timer(uow.session, journey.journey_id, TimerKind.follow_up, first_follow_up_due(at, ctx.policy))
    if visit.companion is not None:
        await uow.publish(
            FirstVisitAccompanied(
                journey_id=UUID(journey.journey_id), citizen_id=UUID(journey.citizen_id), proposal_id=visit.proposal_id,
                companion=visit.companion, companion_id=visit.companion_id, hours=visit.hours, visited_at=at,
            )
        )
    return card_view(await _card(uow, journey.journey_id))


async def record_attendance(uow: UnitOfWork, ctx: Context, citizen_id: UUID, visit: Visit) -> dict:
    """A later visit; attending makes the journey active, a missed one only gets logged."""
    journey = await journey_of(uow, citizen_id)
    at = visit.visited_at or ctx.now()
    if visit.attended:
        await advance(uow, journey, Step.attend, at)
    else:
        # Still refused outside first_visit/active, by the same rule as attending.
        next_state(State(journey.state), Step.attend)
    await _accompany(uow, journey.journey_id, visit, at)
    await _insert_visit(uow, journey.journey_id, visit, at, first=False)
    return card_view(await _card(uow, journey.journey_id))


async def _insert_visit(uow: UnitOfWork, journey_id: str, visit: Visit, at: datetime, first: bool) -> None:
    await uow.session.execute(
        visits.insert().values(
            journey_id=journey_id, proposal_id=str(visit.proposal_id) if visit.proposal_id else None, first=first,
            attended=visit.attended, companion=visit.companion, companion_id=visit.companion_id, hours=visit.hours,
            visited_at=at,
        )
    )
