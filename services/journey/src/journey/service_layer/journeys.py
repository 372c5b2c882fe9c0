"""Use cases of a citizen's journey: one function per command or event, each
inside the caller's unit of work (one transaction)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from brobygger_contracts.events.journey import GuideAssigned, JourneyCompleted, JourneyStateChanged, NeedsClarified
from brobygger_contracts.types import UclaScore
from brobygger_runtime.unit_of_work import UnitOfWork
from brobygger_runtime import erasure
from journey.adapters import repository as repo
from journey.adapters.anonymise import _month_start, anonymise_journey, ucla_total
from journey.adapters.tables import contacts, follow_ups, group_members, journeys, measures, proposals, tasks as task_table
from journey.domain.clarification import Clarification, Ucla
from journey.domain.errors import NotFound
from journey.domain.guides import least_loaded
from journey.domain.journey import EXIT_STEPS, State, Step, next_state
from journey.domain.referral import Referral
from journey.domain.follow_through import FollowUpOutcome
from journey.domain.tasks import TaskKind
from journey.domain.timers import TimerKind, exit_review_due, first_contact_due
from journey.service_layer import follow_through, participation, tasks
from journey.service_layer.context import Context


async def advance(uow: UnitOfWork, journey: sa.Row, step: Step, at: datetime, **values: Any) -> State:
    """Apply `step` to the journey (refused by the state machine if illegal) and keep the transition."""
    before = State(journey.state)
    after = next_state(before, step)
    await repo.update_journey(uow.session, journey.journey_id, state=after.value, **values)
    await record_transition(uow, journey.journey_id, journey.citizen_id, step.value, before.value, after.value, at)
    return after


async def record_transition(uow: UnitOfWork, journey_id: str, citizen_id: str, step: str, before: str, after: str,
                            at: datetime) -> None:
    """Keep the transition in the journey's log and tell the bus (every transition is an event)."""
    await repo.record_transition(uow.session, journey_id, step, before, after, at)
    await uow.publish(JourneyStateChanged(
        journey_id=UUID(str(journey_id)), citizen_id=UUID(str(citizen_id)), step=step, from_state=before,
        to_state=after, changed_at=at,
    ))


async def journey_of(uow: UnitOfWork, citizen_id: UUID | str) -> sa.Row:
    journey = await repo.journey_by_citizen(uow.session, citizen_id, lock=True)
    if journey is None:
        raise NotFound(f"no journey for citizen {citizen_id}")
    return journey


async def open_journey(uow: UnitOfWork, ctx: Context, referral: Referral) -> str | None:
    """A referral opens a journey, or is merged into the citizen's existing one.

    Returns the journey id, or None when the citizen's consent does not name our org.
    """
    if not referral.consents_to(ctx.org_id):
        return None
    existing = await repo.journey_by_citizen(uow.session, referral.citizen_id, lock=True)
    if existing is not None and existing.state != State.exited.value:
        # A repeated referral of a citizen on their way adds to that journey, never a second one;
        # after an exit, a new referral starts a new journey.
        await repo.update_journey(uow.session, existing.journey_id, referral_count=existing.referral_count + 1)
        return existing.journey_id
    journey_id = str(uuid.uuid4())
    await repo.insert_journey(
        uow.session,
        dict(
            journey_id=journey_id, citizen_id=str(referral.citizen_id), state=State.referred.value,
            source=referral.source, referrer_org=referral.referrer_org, urgency=referral.urgency,
            postal_code=referral.postal_code, age_band=referral.age_band, language=referral.language,
            referral_count=1, referred_at=referral.received_at, relatives_involved=referral.source == "relative",
            erased=False, consented_orgs=sorted(referral.consented_orgs), hidden=False,
        ),
    )
    await record_transition(uow, journey_id, str(referral.citizen_id), "open", "", State.referred.value, referral.received_at)
    await repo.schedule_timer(uow.session, journey_id, TimerKind.first_contact, first_contact_due(referral.received_at, ctx.policy, referral.urgency))
    await repo.schedule_timer(uow.session, journey_id, TimerKind.exit_review, exit_review_due(referral.received_at, ctx.policy))
    await follow_through.journey_opened(uow, ctx, journey_id, referral.received_at)
    await assign_waiting_journeys(uow, ctx)
    return journey_id


async def register_guide(uow: UnitOfWork, ctx: Context, guide_id: str, display_name: str | None, capacity: int, active: bool = True) -> int:
    """Registers or updates a guide, then gives waiting journeys a guide; returns how many were assigned."""
    await repo.upsert_guide(uow.session, guide_id, display_name, capacity, active, ctx.now())
    return await assign_waiting_journeys(uow, ctx)


async def assign_waiting_journeys(uow: UnitOfWork, ctx: Context) -> int:
    assigned = 0
    for journey in await repo.unassigned_journeys(uow.session):
        guide = least_loaded(await repo.guide_loads(uow.session))
        if guide is None:
            break
        now = ctx.now()
        if not await repo.assign_guide(uow.session, journey.journey_id, guide.guide_id, now):
            continue  # a concurrent transaction assigned it first
        await uow.publish(
            GuideAssigned(
                journey_id=UUID(journey.journey_id), citizen_id=UUID(journey.citizen_id), guide_id=guide.guide_id,
                guide_org=ctx.org_id, assigned_at=now,
            )
        )
        assigned += 1
    return assigned


async def log_contact(uow: UnitOfWork, ctx: Context, citizen_id: UUID, kind: str, by: str | None, at: datetime | None, note: str | None) -> State:
    """A phone call or home visit; the first one ends the wait for first contact, a later one restarts
    the follow-up timer (the guide has just followed up)."""
    journey = await journey_of(uow, citizen_id)
    at = at or ctx.now()
    first = journey.first_contact_at is None
    state = await advance(uow, journey, Step.contact, at, **({"first_contact_at": at} if first else {}))
    await uow.session.execute(contacts.insert().values(journey_id=journey.journey_id, kind=kind, by=by, at=at, note=note))
    if first:
        await repo.cancel_timers(uow.session, journey.journey_id, ctx.now(), TimerKind.first_contact)
        await tasks.close_open(uow, journey.journey_id, (TaskKind.first_contact,), by, ctx.now())
    await follow_through.restart_follow_up_timer(uow, ctx, journey.journey_id, at)
    return state


async def follow_up(uow: UnitOfWork, ctx: Context, citizen_id: UUID, outcome: follow_through.FollowUp) -> dict:
    """The outcome of a follow-up; one that needs a new proposal goes back to matching, which is asked
    again with the kept clarification (as after a fall-through)."""
    journey = await journey_of(uow, citizen_id)
    recorded = await follow_through.record_follow_up(uow, ctx, journey, outcome)
    state = State(journey.state)
    if outcome.outcome is FollowUpOutcome.needs_new_proposal:
        state = await advance(uow, journey, Step.ask_again, recorded["recorded_at"])
        await follow_through.ask_matching_again(uow, ctx, journey)
    return recorded | {"state": state.value}


async def clarify(uow: UnitOfWork, ctx: Context, citizen_id: UUID, clarification: Clarification) -> NeedsClarified:
    journey = await journey_of(uow, citizen_id)
    now = ctx.now()
    values: dict[str, Any] = {"clarification": _clarification_json(clarification), "clarified_at": now}
    if clarification.baseline is not None:
        values["baseline"] = clarification.baseline.as_dict()
    if clarification.relatives_involved:
        values["relatives_involved"] = True
    if journey.first_contact_at is None:
        # Clarifying means the guide met the citizen: that was the first contact.
        values["first_contact_at"] = now
    await advance(uow, journey, Step.clarify, now, **values)
    if journey.first_contact_at is None:
        await repo.cancel_timers(uow.session, journey.journey_id, now, TimerKind.first_contact)
    c = clarification
    event = NeedsClarified(
        journey_id=UUID(journey.journey_id), citizen_id=UUID(journey.citizen_id), guide_id=journey.guide_id,
        interests=list(c.interests), languages=list(c.languages), postal_code=c.postal_code,
        barriers=list(c.barriers), wishes=list(c.wishes), wants_accompaniment=c.wants_accompaniment,
        max_travel_km=c.max_travel_km, needs_step_free=c.needs_step_free,
        availability=[{"day": s.day, "part": s.part} for s in c.availability],
        baseline=UclaScore(**c.baseline.as_dict()) if c.baseline else None, clarified_at=now,
    )
    await uow.publish(event)
    return event


def _clarification_json(c: Clarification) -> dict:
    return {
        "interests": list(c.interests), "languages": list(c.languages), "postal_code": c.postal_code,
        "wishes": list(c.wishes), "barriers": list(c.barriers), "wants_accompaniment": c.wants_accompaniment,
        "max_travel_km": c.max_travel_km, "needs_step_free": c.needs_step_free,
        "availability": [{"day": s.day, "part": s.part} for s in c.availability],
    }


@dataclass(frozen=True)
class Proposal:
    proposal_id: UUID
    citizen_id: UUID
    kind: str
    candidate_id: UUID
    candidate_name: str | None
    proposing_org: str
    at: datetime
    transport_need: str | None = None
    """How the citizen gets there (volunteer driver, flex transport, accompanied bus ride): the guide arranges it."""


async def match_proposed(uow: UnitOfWork, proposal: Proposal) -> bool:
    """False when the citizen has no journey with us (another org's citizen)."""
    journey = await repo.journey_by_citizen(uow.session, proposal.citizen_id, lock=True)
    if journey is None:
        return False
    await advance(uow, journey, Step.propose, proposal.at)
    await uow.session.execute(
        proposals.insert().values(
            proposal_id=str(proposal.proposal_id), journey_id=journey.journey_id, kind=proposal.kind,
            candidate_id=str(proposal.candidate_id), candidate_name=proposal.candidate_name,
            proposing_org=proposal.proposing_org, status="proposed", proposed_at=proposal.at,
            transport_need=proposal.transport_need,
        )
    )
    return True


async def match_decided(uow: UnitOfWork, citizen_id: UUID, proposal_id: UUID, accepted: bool, at: datetime) -> bool:
    journey = await repo.journey_by_citizen(uow.session, citizen_id, lock=True)
    if journey is None:
        return False
    values = {"match_accepted_at": journey.match_accepted_at or at} if accepted else {}
    if accepted:
        step = Step.accept
    else:
        status = await uow.session.scalar(sa.select(proposals.c.status).where(proposals.c.proposal_id == str(proposal_id)))
        step = Step.fall_through if status == "accepted" else Step.decline
    await advance(uow, journey, step, at, **values)
    await uow.session.execute(
        proposals.update()
        .where(proposals.c.proposal_id == str(proposal_id))
        .values(status="accepted" if accepted else "declined", decided_at=at)
    )
    if accepted:
        await follow_through.transport_to_arrange(uow, journey, str(proposal_id), at)
    return True


@dataclass(frozen=True)
class Exit:
    outcome_step: Step
    final: Ucla | None = None
    relatives_involved: bool | None = None
    note: str | None = None


async def exit_journey(uow: UnitOfWork, ctx: Context, citizen_id: UUID, exit: Exit) -> JourneyCompleted:
    """Exit (udslusning) with the outcome and the end measure; pending timers stop."""
    journey = await journey_of(uow, citizen_id)
    now = ctx.now()
    outcome = EXIT_STEPS[exit.outcome_step]
    relatives = journey.relatives_involved if exit.relatives_involved is None else exit.relatives_involved
    await advance(
        uow, journey, exit.outcome_step, now, outcome=outcome.value, exited_at=now,
        final=exit.final.as_dict() if exit.final else None, relatives_involved=relatives, exit_note=exit.note,
    )
    await repo.cancel_timers(uow.session, journey.journey_id, now)
    await follow_through.journey_ended(uow, ctx, journey, outcome.value, exit.final, now)
    await participation.journey_ended(uow, UUID(journey.citizen_id), now)  # their group places are free
    event = JourneyCompleted(
        journey_id=UUID(journey.journey_id), citizen_id=UUID(journey.citizen_id), outcome=outcome.value,
        baseline=UclaScore(**journey.baseline) if journey.baseline else None,
        final=UclaScore(**exit.final.as_dict()) if exit.final else None,
        days_in_journey=max(0, (now - journey.referred_at).days), relatives_involved=relatives,
        completed_at=now,
    )
    await uow.publish(event)
    return event


async def consent_changed(uow: UnitOfWork, ctx: Context, citizen_id: UUID, consented_orgs: list[str]) -> int:
    """The citizen's consent now names `consented_orgs`. Never an erasure (only CitizenErased erases):
    when the owning organisation is no longer named the journeys are hidden (not shown, not acted
    on, no follow-ups) and their data stays until erasure or retention; named again, they show again.
    Returns how many journeys were updated."""
    result = await uow.session.execute(
        journeys.update().where(journeys.c.citizen_id == str(citizen_id), journeys.c.erased.is_(False)).values(
            consented_orgs=sorted(set(consented_orgs)), hidden=ctx.org_id not in consented_orgs,
        )
    )
    return result.rowcount or 0


async def erase_citizen(uow: UnitOfWork, ctx: Context, citizen_id: UUID) -> bool:
    """Forget who the citizen is and every free-text note; keep anonymous counts
    (`anonymise_journey`: fresh random ids, times coarsened to the month, UCLA totals only).
    Their group places go, and the sealed boxes of journey's outbox rows about them."""
    s = uow.session
    ids = (await s.scalars(sa.select(journeys.c.journey_id).where(journeys.c.citizen_id == str(citizen_id)))).all()
    await s.execute(group_members.delete().where(group_members.c.citizen_id == str(citizen_id)))
    for journey_id in ids:
        await _forget_journey(uow, ctx, journey_id)
    await erasure.forget_copies(uow, citizen_id)
    return bool(ids)


async def forget_ended_journeys(uow: UnitOfWork, ctx: Context, before: datetime) -> int:
    """Retention (the runtime's sweeper calls it): journeys that ended before `before` keep only
    their anonymous counts, as after an erasure; returns how many were forgotten now."""
    ids = (await uow.session.scalars(sa.select(journeys.c.journey_id).where(
        journeys.c.exited_at.is_not(None), journeys.c.exited_at < before, journeys.c.erased.is_(False),
    ))).all()
    for journey_id in ids:
        await _forget_journey(uow, ctx, journey_id)
    return len(ids)


async def _forget_journey(uow: UnitOfWork, ctx: Context, journey_id: str) -> None:  # noqa: ARG001
    """Who it was about and every note: gone; states, spans, source and UCLA totals stay, under a random id.
    Its tasks go (they point at the person); outcomes and measures stay as codes and totals, by month."""
    s = uow.session
    await s.execute(task_table.delete().where(task_table.c.journey_id == journey_id))
    new_id = await anonymise_journey(s, journey_id)
    for row in (await s.execute(sa.select(measures).where(measures.c.journey_id == journey_id))).all():
        await s.execute(measures.update().where(measures.c.id == row.id).values(
            journey_id=new_id, answers=ucla_total(row.answers), measured_at=_month_start(row.measured_at)))
    for row in (await s.execute(sa.select(follow_ups).where(follow_ups.c.journey_id == journey_id))).all():
        await s.execute(follow_ups.update().where(follow_ups.c.id == row.id).values(
            journey_id=new_id, proposal_id=None, recorded_by=None, recorded_at=_month_start(row.recorded_at)))
