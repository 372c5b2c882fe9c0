"""HTTP API of the journey service: the guide's and the coordinator's commands."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from brobygger_contracts.events.journey import Companion, JourneyOutcome, Wish
from brobygger_contracts.interests import InterestWords
from brobygger_contracts.types import Barrier, TimeSlot
from brobygger_runtime.paging import Limit, Offset
from brobygger_runtime.text import line, paragraphs
from brobygger_runtime.auth import Caller, Role, requires
from brobygger_runtime.http import runtime_of
from brobygger_runtime.service import ServiceRuntime
from journey.adapters import repository as repo
from journey.adapters.tables import groups as group_table, guides, journeys as journeys_table, timers, transitions
from journey.domain.clarification import Clarification, Slot, Ucla
from journey.adapters.tables import follow_ups as follow_up_table, measures as measure_table
from journey.domain.errors import DomainError, IllegalTransition, InvalidInput, NotFound
from journey.domain.follow_through import STOP_REASONS, FollowUpOutcome, TimePoint
from journey.domain.journey import State, Step
from journey.entrypoints import access
from journey.entrypoints.access import JOURNEY_FIELDS, reachable_journey
from journey.service_layer import follow_through, groups, journeys, tasks, visits
from journey.service_layer.context import Context

router = APIRouter()
Runtime = Annotated[ServiceRuntime, Depends(runtime_of)]
InterestCode = Annotated[str, Field(pattern=r"^[a-z][a-z_]+$", max_length=41)]
StaffId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]


def context_of(request: Request) -> Context:
    return request.app.state.journey_context


Ctx = Annotated[Context, Depends(context_of)]

# who may call (DESIGN.md section 9); which journey a caller reaches is decided in access.py
Coordinator = Annotated[Caller, Depends(requires(Role.coordinator))]
Staff = Annotated[Caller, Depends(requires(Role.guide, Role.coordinator))]


class UclaAnswers(BaseModel):
    """Three-item UCLA loneliness scale: each answer 1 (hardly ever) to 3 (often)."""

    lack_companionship: int = Field(ge=1, le=3)
    left_out: int = Field(ge=1, le=3)
    isolated: int = Field(ge=1, le=3)

    def domain(self) -> Ucla:
        return Ucla(self.lack_companionship, self.left_out, self.isolated)


class GuideIn(BaseModel):
    guide_id: StaffId
    display_name: line(200) | None = None  # type: ignore[valid-type]
    capacity: int = Field(default=15, ge=0, le=500)
    active: bool = True


class ClarificationIn(BaseModel):
    interests: InterestWords
    languages: list[Annotated[str, Field(pattern=r"^[a-z]{2}$")]] | None = Field(
        default=None, min_length=1, description="defaults to the referral's language"
    )
    postal_code: str | None = Field(default=None, pattern=r"^[0-9]{3,5}$", description="defaults to the referral's")
    barriers: list[Barrier] = []
    wishes: list[Wish] = Field(default=[Wish.friend, Wish.activity], min_length=1)
    wants_accompaniment: bool = False
    max_travel_km: float = Field(default=5.0, ge=0, le=200)
    needs_step_free: bool = False
    availability: list[TimeSlot] = []
    baseline: UclaAnswers | None = None
    relatives_involved: bool = False


class ContactIn(BaseModel):
    kind: Literal["call", "home_visit", "meeting"] = "call"
    by: StaffId | None = Field(default=None, description="who made the contact; defaults to the caller's login subject")
    at: datetime | None = None
    note: paragraphs(4000) | None = Field(default=None, description="free text, erased with the citizen")  # type: ignore[valid-type]


class VisitIn(BaseModel):
    visited_at: datetime | None = None
    proposal_id: uuid.UUID | None = None
    companion: Companion | None = Field(default=None, description="who went along; empty when the citizen went alone")
    companion_id: StaffId | None = None
    hours: float = Field(default=0.0, ge=0, le=24, description="accompaniment hours drawn from the punch card")
    attended: bool = True

    def domain(self) -> visits.Visit:
        return visits.Visit(
            visited_at=self.visited_at, proposal_id=self.proposal_id,
            companion=self.companion.value if self.companion else None, companion_id=self.companion_id,
            hours=self.hours, attended=self.attended,
        )


class VisitPlanIn(BaseModel):
    visit_at: datetime = Field(description="when the visit takes place, with its UTC offset; must be in the future")
    proposal_id: uuid.UUID | None = None
    companion: Companion | None = Field(default=None, description="who will go along; empty when the citizen goes alone")
    companion_id: StaffId | None = None

    def domain(self) -> visits.VisitPlan:
        return visits.VisitPlan(
            visit_at=self.visit_at, proposal_id=self.proposal_id,
            companion=self.companion.value if self.companion else None, companion_id=self.companion_id,
        )


class HoursIn(BaseModel):
    hours: float = Field(gt=0, le=200)
    by: StaffId | None = Field(default=None, description="who granted; defaults to the caller's login subject")


class ExtensionIn(BaseModel):
    hours: float = Field(gt=0, le=200)
    coordinator_id: StaffId | None = Field(
        default=None, description="ignored: the extension is recorded as the calling coordinator's (their login subject)")


class ExitIn(BaseModel):
    outcome: JourneyOutcome
    final: UclaAnswers | None = None
    relatives_involved: bool | None = None
    note: paragraphs(4000) | None = None  # type: ignore[valid-type]


class GroupIn(BaseModel):
    facilitator_id: StaffId
    group_proposal_id: uuid.UUID | None = None
    interest: InterestCode | None = None
    postal_code: str | None = Field(default=None, pattern=r"^[0-9]{3,5}$")
    member_citizen_ids: list[uuid.UUID] = []


class MeetingIn(BaseModel):
    held_at: datetime | None = None
    facilitator_present: bool
    attendees: int = Field(default=0, ge=0, le=500, description="how many came (at least the members named below)")
    attending_member_ids: list[uuid.UUID] = Field(default=[], description="members who came: their first meeting is their first visit")


class FollowUpIn(BaseModel):
    outcome: FollowUpOutcome
    reason: Literal[STOP_REASONS] | None = Field(  # type: ignore[valid-type]
        default=None, description="why the citizen stopped, as a code (required for `stopped`; never free text)")
    proposal_id: uuid.UUID | None = Field(default=None, description="the accepted proposal the outcome is about")
    at: datetime | None = None


class MeasureIn(UclaAnswers):
    time_point: TimePoint = Field(description="baseline, after_start (3 months), exit, after_exit (6 months after)")
    measured_at: datetime | None = None


class TaskDoneIn(BaseModel):
    done: bool = True


_EXIT_STEP = {
    JourneyOutcome.completed: Step.complete,
    JourneyOutcome.dropped_out: Step.drop_out,
    JourneyOutcome.escalated: Step.escalate,
    JourneyOutcome.declined: Step.refuse,
}


@router.post("/guides", status_code=201, tags=["guides"])
async def register_guide(body: GuideIn, runtime: Runtime, ctx: Ctx, caller: Coordinator) -> dict:
    """Registers (or updates) a guide of this organisation; waiting journeys get a guide.
    `guide_id` is the guide's login subject at this organisation's identity provider."""
    access.require_owner_coordinator(caller, ctx, "guides")
    async with runtime.unit_of_work() as uow:
        assigned = await journeys.register_guide(uow, ctx, body.guide_id, body.display_name, body.capacity, body.active)
    return {"guide_id": body.guide_id, "assigned_journeys": assigned}


@router.get("/guides", tags=["guides"])
async def list_guides(runtime: Runtime, ctx: Ctx, caller: Coordinator, limit: Limit = 50, offset: Offset = 0) -> list[dict]:
    access.require_owner_coordinator(caller, ctx, "guides")
    async with runtime.unit_of_work() as uow:
        loads = {g.guide_id: g.open_journeys for g in await repo.guide_loads(uow.session)}
        rows = (await uow.session.execute(sa.select(guides).order_by(guides.c.guide_id).limit(limit).offset(offset))).all()
    return [
        {"guide_id": r.guide_id, "display_name": r.display_name, "capacity": r.capacity, "active": r.active,
         "open_journeys": loads.get(r.guide_id, 0)}
        for r in rows
    ]


@router.get("/journeys", tags=["journeys"])
async def caseload(runtime: Runtime, ctx: Ctx, caller: Staff, guide_id: str | None = Query(None, max_length=64),
                   state: State | None = None, limit: Limit = 50, offset: Offset = 0) -> list[dict]:
    """Open and past journeys the caller may open, oldest referral first; filter by guide (a caseload)
    or state. A guide sees their own caseload, a coordinator their organisation's citizens (within consent)."""
    t = journeys_table
    query = access.visible_query(sa.select(t), t).order_by(t.c.referred_at, t.c.journey_id)
    if guide_id:
        query = query.where(t.c.guide_id == guide_id)
    if state:
        query = query.where(t.c.state == state.value)
    if not caller.has(Role.coordinator):  # a guide: their own caseload at this organisation only
        if caller.organisation != ctx.org_id:
            return []
        query = query.where(t.c.guide_id == caller.subject)
    async with runtime.unit_of_work() as uow:
        if access.is_owner_coordinator(caller, ctx) or not caller.has(Role.coordinator):
            rows = (await uow.session.execute(query.limit(limit).offset(offset))).all()
        else:  # a partner's coordinator: only the citizens whose consent names their organisation
            rows = [j for j in (await uow.session.execute(query)).all() if access.may_reach(caller, ctx, j)]
            rows = rows[offset:offset + limit]
    return [
        {"journey_id": j.journey_id, "citizen_id": j.citizen_id, "state": j.state, "outcome": j.outcome,
         "guide_id": j.guide_id, "source": j.source, "urgency": j.urgency, "referred_at": j.referred_at}
        for j in rows
    ]


@router.get("/journeys/{citizen_id}", tags=["journeys"])
async def get_journey(citizen_id: uuid.UUID, runtime: Runtime, ctx: Ctx, caller: Staff) -> dict:
    async with runtime.unit_of_work() as uow:
        j = await reachable_journey(uow, runtime, ctx, caller, citizen_id, fields=JOURNEY_FIELDS, purpose="journey view")
        steps = (await uow.session.execute(
            sa.select(transitions).where(transitions.c.journey_id == j.journey_id).order_by(transitions.c.id)
        )).all()
        card = await visits.punch_card(uow, citizen_id)
        pending = (await uow.session.execute(
            sa.select(timers.c.kind, timers.c.due_at)
            .where(timers.c.journey_id == j.journey_id, timers.c.fired_at.is_(None), timers.c.cancelled_at.is_(None))
            .order_by(timers.c.due_at)
        )).all()
        outcomes = (await uow.session.execute(sa.select(follow_up_table).where(
            follow_up_table.c.journey_id == j.journey_id).order_by(follow_up_table.c.id))).all()
        measured = (await uow.session.execute(sa.select(measure_table).where(
            measure_table.c.journey_id == j.journey_id).order_by(measure_table.c.id))).all()
    return {
        "journey_id": j.journey_id, "citizen_id": j.citizen_id, "state": j.state, "outcome": j.outcome,
        "guide_id": j.guide_id, "source": j.source, "postal_code": j.postal_code, "referral_count": j.referral_count,
        "referred_at": j.referred_at, "first_contact_at": j.first_contact_at,
        "clarified_at": j.clarified_at, "match_accepted_at": j.match_accepted_at,
        "first_visit_planned_for": j.first_visit_planned_for,
        "first_visit_at": j.first_visit_at, "exited_at": j.exited_at,
        "clarification": j.clarification, "baseline": j.baseline, "final": j.final,
        "relatives_involved": j.relatives_involved, "punch_card": card,
        "pending_timers": [{"kind": t.kind, "due_at": t.due_at} for t in pending],
        "follow_ups": [{"outcome": f.outcome, "reason": f.reason, "proposal_id": f.proposal_id, "at": f.recorded_at}
                       for f in outcomes],
        "measures": {m.time_point: {"answers": m.answers, "measured_at": m.measured_at} for m in measured},
        "transitions": [{"step": s.step, "from": s.from_state, "to": s.to_state, "at": s.at} for s in steps],
    }


@router.post("/journeys/{citizen_id}/contacts", status_code=201, tags=["journeys"])
async def log_contact(citizen_id: uuid.UUID, body: ContactIn, runtime: Runtime, ctx: Ctx, caller: Staff) -> dict:
    """Logs a call or home visit; the first one ends the wait for first contact."""
    async with runtime.unit_of_work() as uow:
        await reachable_journey(uow, runtime, ctx, caller, citizen_id, fields=(), purpose="contacts")
        state = await journeys.log_contact(uow, ctx, citizen_id, body.kind, body.by or caller.subject[:64], body.at, body.note)
    return {"state": state.value}


@router.post("/journeys/{citizen_id}/clarification", status_code=201, tags=["journeys"])
async def clarify(citizen_id: uuid.UUID, body: ClarificationIn, runtime: Runtime, ctx: Ctx, caller: Staff) -> dict:
    """Records wishes, barriers and the baseline UCLA; publishes NeedsClarified for matching."""
    async with runtime.unit_of_work() as uow:
        await reachable_journey(uow, runtime, ctx, caller, citizen_id, fields=(), purpose="clarification")
        journey = await journeys.journey_of(uow, citizen_id)
        clarification = Clarification(
            interests=tuple(body.interests), languages=tuple(body.languages or [journey.language]),
            postal_code=body.postal_code or journey.postal_code, wishes=tuple(w.value for w in body.wishes),
            barriers=tuple(b.value for b in body.barriers), wants_accompaniment=body.wants_accompaniment,
            max_travel_km=body.max_travel_km, needs_step_free=body.needs_step_free,
            availability=tuple(Slot(s.day.value, s.part.value) for s in body.availability),
            baseline=body.baseline.domain() if body.baseline else None, relatives_involved=body.relatives_involved,
        )
        event = await journeys.clarify(uow, ctx, citizen_id, clarification)
    return {"state": "clarified", "journey_id": str(event.journey_id)}


@router.post("/journeys/{citizen_id}/first-visit/plan", status_code=201, tags=["visits"])
async def plan_first_visit(citizen_id: uuid.UUID, body: VisitPlanIn, runtime: Runtime, ctx: Ctx, caller: Staff) -> dict:
    """Books the first visit after an accepted match (FirstVisitPlanned: notify reminds the
    citizen and the companion before it). Booking again replaces the earlier time."""
    async with runtime.unit_of_work() as uow:
        await reachable_journey(uow, runtime, ctx, caller, citizen_id, fields=(), purpose="first visit plan")
        visit_at = await visits.plan_first_visit(uow, ctx, citizen_id, body.domain())
    return {"state": "match_accepted", "first_visit_planned_for": visit_at}


@router.post("/journeys/{citizen_id}/first-visit", status_code=201, tags=["visits"])
async def first_visit(citizen_id: uuid.UUID, body: VisitIn, runtime: Runtime, ctx: Ctx, caller: Staff) -> dict:
    """The first visit, accompanied (FirstVisitAccompanied, hours drawn from the punch card) or not."""
    async with runtime.unit_of_work() as uow:
        await reachable_journey(uow, runtime, ctx, caller, citizen_id, fields=(), purpose="first visit")
        card = await visits.record_first_visit(uow, ctx, citizen_id, body.domain())
    return {"state": "first_visit", "punch_card": card}


@router.post("/journeys/{citizen_id}/attendance", status_code=201, tags=["visits"])
async def attendance(citizen_id: uuid.UUID, body: VisitIn, runtime: Runtime, ctx: Ctx, caller: Staff) -> dict:
    async with runtime.unit_of_work() as uow:
        await reachable_journey(uow, runtime, ctx, caller, citizen_id, fields=(), purpose="attendance")
        card = await visits.record_attendance(uow, ctx, citizen_id, body.domain())
        state = (await journeys.journey_of(uow, citizen_id)).state
    return {"state": state, "punch_card": card}


@router.get("/journeys/{citizen_id}/punch-card", tags=["punch cards"])
async def get_punch_card(citizen_id: uuid.UUID, runtime: Runtime, ctx: Ctx, caller: Staff) -> dict:
    async with runtime.unit_of_work() as uow:
        await reachable_journey(uow, runtime, ctx, caller, citizen_id, fields=("punch_card",), purpose="punch card view")
        return await visits.punch_card(uow, citizen_id)


@router.post("/journeys/{citizen_id}/punch-card/grants", status_code=201, tags=["punch cards"])
async def grant_hours(citizen_id: uuid.UUID, body: HoursIn, runtime: Runtime, ctx: Ctx, caller: Staff) -> dict:
    async with runtime.unit_of_work() as uow:
        await reachable_journey(uow, runtime, ctx, caller, citizen_id, fields=(), purpose="punch card grant")
        return await visits.grant_hours(uow, ctx, citizen_id, body.hours, body.by or caller.subject[:64], extension=False)


@router.post("/journeys/{citizen_id}/punch-card/extensions", status_code=201, tags=["punch cards"])
async def extend_card(citizen_id: uuid.UUID, body: ExtensionIn, runtime: Runtime, ctx: Ctx, caller: Coordinator) -> dict:
    """A coordinator extends the card beyond what was granted."""
    async with runtime.unit_of_work() as uow:
        await reachable_journey(uow, runtime, ctx, caller, citizen_id, fields=(), purpose="punch card extension")
        return await visits.grant_hours(uow, ctx, citizen_id, body.hours, caller.subject[:64], extension=True)


@router.post("/journeys/{citizen_id}/exit", status_code=201, tags=["journeys"])
async def exit_journey(citizen_id: uuid.UUID, body: ExitIn, runtime: Runtime, ctx: Ctx, caller: Staff) -> dict:
    """Exit with the outcome and the final UCLA; publishes JourneyCompleted."""
    exit = journeys.Exit(_EXIT_STEP[body.outcome], body.final.domain() if body.final else None, body.relatives_involved, body.note)
    async with runtime.unit_of_work() as uow:
        await reachable_journey(uow, runtime, ctx, caller, citizen_id, fields=(), purpose="exit")
        event = await journeys.exit_journey(uow, ctx, citizen_id, exit)
    return {"state": "exited", "outcome": body.outcome.value, "days_in_journey": event.days_in_journey}


@router.post("/journeys/{citizen_id}/follow-ups", status_code=201, tags=["follow-through"])
async def record_follow_up(citizen_id: uuid.UUID, body: FollowUpIn, runtime: Runtime, ctx: Ctx, caller: Staff) -> dict:
    """The outcome of a follow-up: still going, paused, stopped (with a reason code) or needs a new
    proposal (back to matching, which is asked again). Restarts the follow-up timer; FollowUpRecorded."""
    outcome = follow_through.FollowUp(body.outcome, body.reason, body.proposal_id, caller.subject[:64], body.at)
    async with runtime.unit_of_work() as uow:
        await reachable_journey(uow, runtime, ctx, caller, citizen_id, fields=(), purpose="follow-up")
        return await journeys.follow_up(uow, ctx, citizen_id, outcome)


@router.post("/journeys/{citizen_id}/loneliness", status_code=201, tags=["follow-through"])
async def record_loneliness(citizen_id: uuid.UUID, body: MeasureIn, runtime: Runtime, ctx: Ctx, caller: Staff) -> dict:
    """The UCLA-3 answers at a time point (asked again: the newer answers replace the older)."""
    async with runtime.unit_of_work() as uow:
        await reachable_journey(uow, runtime, ctx, caller, citizen_id, fields=(), purpose="loneliness measure")
        journey = await journeys.journey_of(uow, citizen_id)
        return await follow_through.record_measure(uow, ctx, journey, body.time_point, body.domain(),
                                                   caller.subject[:64], body.measured_at)


@router.get("/tasks", tags=["tasks"])
async def list_tasks(runtime: Runtime, ctx: Ctx, caller: Staff, done: bool | None = None,
                     limit: Limit = 50, offset: Offset = 0) -> list[dict]:
    """Things that need a person (call, letter, arrange transport, ask the UCLA-3, follow up), oldest first:
    a guide's own caseload's, or for this organisation's coordinators all of them; `done` filters."""
    guide = access.own_work_scope(caller, ctx)
    async with runtime.unit_of_work() as uow:
        return await tasks.list_tasks(uow, guide, done, limit, offset)


@router.post("/tasks/{task_id}/done", tags=["tasks"])
async def mark_task(task_id: uuid.UUID, body: TaskDoneIn, runtime: Runtime, ctx: Ctx, caller: Staff) -> dict:
    """Done (`{"done": true}`) or not done after all (`false`); a guide only their own caseload's tasks."""
    guide = access.own_work_scope(caller, ctx)
    async with runtime.unit_of_work() as uow:
        return await tasks.set_done(uow, str(task_id), guide, body.done, caller.subject[:64], ctx.now())


@router.post("/groups", status_code=201, tags=["groups"])
async def form_group(body: GroupIn, runtime: Runtime, ctx: Ctx, caller: Coordinator) -> dict:
    """Forms a group from a GroupProposed (give its id) or by hand (interest, postal code, members)."""
    access.require_owner_coordinator(caller, ctx, "groups")
    new = groups.NewGroup(body.facilitator_id, body.group_proposal_id, body.interest, body.postal_code, tuple(body.member_citizen_ids))
    async with runtime.unit_of_work() as uow:
        event = await groups.form_group(uow, ctx, new)
        return await groups.group_view(uow, event.group_id)


@router.get("/groups", tags=["groups"])
async def list_groups(runtime: Runtime, ctx: Ctx, caller: Staff, limit: Limit = 50, offset: Offset = 0) -> list[dict]:
    """This organisation's groups, newest first, each with its facilitator, members, meetings held and the
    meetings in a row without the facilitator (the way to running itself): every group for its coordinators,
    the groups a guide facilitates for that guide; anyone else 403."""
    facilitator = access.own_work_scope(caller, ctx, "groups")
    async with runtime.unit_of_work() as uow:
        return await groups.list_groups(uow, facilitator, limit, offset)


@router.get("/groups/{group_id}", tags=["groups"])
async def get_group(group_id: uuid.UUID, runtime: Runtime, ctx: Ctx, caller: Staff) -> dict:
    async with runtime.unit_of_work() as uow:
        await _group_of_caller(uow, ctx, caller, group_id)
        return await groups.group_view(uow, group_id)


@router.post("/groups/{group_id}/meetings", status_code=201, tags=["groups"])
async def log_meeting(group_id: uuid.UUID, body: MeetingIn, runtime: Runtime, ctx: Ctx, caller: Staff) -> dict:
    async with runtime.unit_of_work() as uow:
        await _group_of_caller(uow, ctx, caller, group_id)
        return await groups.record_meeting(
            uow, ctx, group_id, body.held_at, body.facilitator_present, body.attendees, tuple(body.attending_member_ids)
        )


@router.post("/groups/{group_id}/self-running", status_code=201, tags=["groups"])
async def release_facilitator(group_id: uuid.UUID, runtime: Runtime, ctx: Ctx, caller: Staff) -> dict:
    """The facilitator decides the group runs itself and is released."""
    async with runtime.unit_of_work() as uow:
        await _group_of_caller(uow, ctx, caller, group_id)
        await groups.facilitator_releases(uow, ctx, group_id)
        return await groups.group_view(uow, group_id)


@router.post("/group-proposals/{group_proposal_id}/members/{citizen_id}/confirm", tags=["groups"])
async def confirm_member(group_proposal_id: uuid.UUID, citizen_id: uuid.UUID, runtime: Runtime, ctx: Ctx,
                         caller: Staff) -> dict:
    """The citizen (with the guide) says yes to a proposed group: it forms with the members who confirmed; once it
    meets, a member who confirms joins at once. The citizen's guide or a coordinator of an organisation in their
    consent (else 404, logged)."""
    async with runtime.unit_of_work() as uow:
        await reachable_journey(uow, runtime, ctx, caller, citizen_id, fields=(), purpose="confirm group place")
        return await groups.confirm_member(uow, ctx, group_proposal_id, citizen_id)


@router.post("/groups/{group_id}/members/{citizen_id}/leave", tags=["groups"])
async def leave_group(group_id: uuid.UUID, citizen_id: uuid.UUID, runtime: Runtime, ctx: Ctx, caller: Staff) -> dict:
    """The member leaves the group: their place is free (`ParticipationEnded`, `left`). The citizen's guide, a
    coordinator of an organisation in their consent, or the guide facilitating the group (else 404, logged)."""
    async with runtime.unit_of_work() as uow:
        try:
            await _group_of_caller(uow, ctx, caller, group_id)
        except NotFound:
            await reachable_journey(uow, runtime, ctx, caller, citizen_id, fields=(), purpose="leave group")
        ended = await groups.leave(uow, ctx, group_id, citizen_id)
    return {"group_id": str(group_id), "citizen_id": str(citizen_id), "reason": ended.reason.value,
            "ended_at": ended.ended_at}


async def _group_of_caller(uow, ctx: Context, caller: Caller, group_id: uuid.UUID) -> None:  # noqa: ANN001
    """A group is this organisation's: its coordinators, and the guide facilitating it, reach it."""
    if access.is_owner_coordinator(caller, ctx):
        return
    facilitator = (await uow.session.execute(
        sa.select(group_table.c.facilitator_id).where(group_table.c.group_id == str(group_id))
    )).scalar_one_or_none()
    if not (caller.has(Role.guide) and caller.organisation == ctx.org_id and facilitator == caller.subject):
        raise NotFound(f"no group {group_id}")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def refused(request: Request, exc: DomainError) -> JSONResponse:
        if isinstance(exc, access.Refused):
            await access.log_refusal(runtime_of(request), exc)
        if isinstance(exc, NotFound):
            return JSONResponse({"detail": str(exc)}, status_code=404)
        if isinstance(exc, InvalidInput):
            return JSONResponse({"detail": str(exc), "field": exc.field}, status_code=422)
        body: dict = {"detail": str(exc)}
        if isinstance(exc, IllegalTransition):
            body.update(current_state=exc.state, step=exc.step)
        return JSONResponse(body, status_code=409)
