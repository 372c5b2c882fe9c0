"""HTTP API of referral cards: submit, read, triage, follow the status."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response
from pydantic import BaseModel, ConfigDict

from brobygger_contracts.events.referral import EscalationReason, ReferralSource, TriageDecision, Urgency
from brobygger_contracts.types import StaffId
from referral.adapters import repository as repo
from referral.domain.access import Role, is_owner_staff
from referral.domain.card import Problem, ReferralCard
from referral.domain.errors import Forbidden
from referral.domain.status import Milestone
from referral.domain.text import line, paragraphs
from referral.domain.triage import ReferralState
from referral.entrypoints.auth import AccessDep, CallerDep, Metrics, Runtime
from referral.service_layer import citizens, referrals as cases, triage
from referral.service_layer.referrals import Unprocessable

router = APIRouter(tags=["referrals"])


class ReferralAccepted(BaseModel):
    referral_id: uuid.UUID
    citizen_id: uuid.UUID
    repeat_referral: bool
    """True when the citizen was known: merged into the existing journey as a further referral."""


class CitizenView(BaseModel):
    name: str | None
    birth_year: int | None
    postal_code: str | None
    address: str | None
    phone: str | None
    email: str | None
    language: str | None
    lives_alone: bool | None
    consented_orgs: list[str]
    erased: bool


class ReferralView(BaseModel):
    referral_id: uuid.UUID
    citizen_id: uuid.UUID
    source: ReferralSource
    referrer_org: str | None
    submitted_by_org: str
    urgency: Urgency
    reason: str | None
    """The referrer's words; empty after erasure."""
    repeat_referral: bool
    received_at: datetime
    state: ReferralState
    triage_decision: TriageDecision | None
    triaged_at: datetime | None
    citizen: CitizenView


def referral_view(row, citizen) -> ReferralView:  # noqa: ANN001 - table rows
    return ReferralView(
        referral_id=row.referral_id, citizen_id=row.citizen_id, source=row.source, referrer_org=row.referrer_org,
        submitted_by_org=row.submitted_by_org, urgency=row.urgency, reason=row.reason,
        repeat_referral=row.repeat_referral, received_at=row.received_at, state=row.state,
        triage_decision=row.triage_decision, triaged_at=row.triaged_at,
        citizen=CitizenView(
            name=citizen.name, birth_year=citizen.birth_year, postal_code=citizen.postal_code,
            address=citizen.address, phone=citizen.phone, email=citizen.email, language=citizen.language,
            lives_alone=citizen.lives_alone, consented_orgs=list(citizen.consented_orgs),
            erased=citizen.erased_at is not None,
        ),
    )


IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=100, pattern=r"^[\x21-\x7e]+$",
           description="makes a retried submission safe: the same key from the same organisation answers the first result"),
]


@router.post("/referrals", status_code=201, response_model=ReferralAccepted)
async def submit_referral(
    card: ReferralCard, response: Response, runtime: Runtime, caller: CallerDep, access: AccessDep, metrics: Metrics,
    idempotency_key: IdempotencyKey = None,
) -> ReferralAccepted:
    """Accept a referral card: store it here, publish `ReferralReceived` without personal data.

    A card without consent, with an organisation outside the partnership or with
    missing source-specific fields is refused with 422 naming the field. A citizen
    referred before (same birth year, name and address or postal code, or the
    explicit `citizen_id`) keeps their citizen id: `repeat_referral` is true.
    A retry with the same `Idempotency-Key` answers 200 with the first result.
    """
    async with runtime.unit_of_work() as uow:
        accepted = await cases.submit_referral(uow, card, caller, access.partnership, idempotency_key)
    if accepted.replayed:
        response.status_code = 200
    else:
        metrics.received.labels(card.referrer.source.value, str(accepted.repeat_referral).lower()).inc()
    return ReferralAccepted(referral_id=accepted.referral_id, citizen_id=accepted.citizen_id, repeat_referral=accepted.repeat_referral)


@router.get("/referrals", response_model=list[ReferralView])
async def list_referrals(
    runtime: Runtime, caller: CallerDep, access: AccessDep,
    state: ReferralState | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100, offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> list[ReferralView]:
    """Referrals visible to the caller, newest first: all for the owning organisation's staff, else the
    caller's organisation's own. `state=received` is the guides' triage queue."""
    if caller.role is Role.service:
        raise Forbidden("services do not list referrals")
    only = None if is_owner_staff(caller, access.partnership.owning_org) else caller.org
    async with runtime.db.sessions() as session:
        rows = await repo.referral_list(session, only, state and state.value, limit, offset)
        return [referral_view(row, await repo.citizen(session, row.citizen_id)) for row in rows]


@router.get("/referrals/{referral_id}", response_model=ReferralView)
async def get_referral(referral_id: uuid.UUID, runtime: Runtime, caller: CallerDep, access: AccessDep) -> ReferralView:
    """One referral card with its citizen, for the referrer's organisation and the owning organisation's staff."""
    async with runtime.unit_of_work() as uow:
        row = await cases.visible_referral(uow, referral_id, caller, access.partnership)
        return referral_view(row, await repo.citizen(uow.session, row.citizen_id))


class MilestoneView(BaseModel):
    milestone: Milestone
    reached_at: datetime


class StatusView(BaseModel):
    referral_id: uuid.UUID
    status: Milestone
    """received, contacted, matched, first_visit_done, active, completed, dropped_out, declined or escalated."""
    milestones: list[MilestoneView]
    """Every milestone reached, in order of time."""


@router.get("/referrals/{referral_id}/status", response_model=StatusView)
async def referral_status(referral_id: uuid.UUID, runtime: Runtime, caller: CallerDep, access: AccessDep) -> StatusView:
    """Where the citizen is now, for the referrer: the closed loop, from journey events."""
    async with runtime.unit_of_work() as uow:
        row = await cases.visible_referral(uow, referral_id, caller, access.partnership)
        status, reached = await citizens.status_of(uow, row.citizen_id)
    return StatusView(
        referral_id=referral_id, status=status,
        milestones=[MilestoneView(milestone=m, reached_at=at) for m, at in reached],
    )


class FollowingView(BaseModel):
    referral_id: uuid.UUID
    follows: bool
    """Whether the referrer still hears about the citizen's milestones."""


@router.delete("/referrals/{referral_id}/follow", response_model=FollowingView)
async def stop_following(referral_id: uuid.UUID, runtime: Runtime, caller: CallerDep, access: AccessDep) -> FollowingView:
    """The referrer no longer wants to hear about milestones (asked by their organisation, or by
    the owning organisation's staff on their behalf). Their details are no longer handed out."""
    async with runtime.unit_of_work() as uow:
        await cases.stop_following(uow, referral_id, caller, access.partnership)
    return FollowingView(referral_id=referral_id, follows=False)


class TriageIn(BaseModel):
    """The guide's decision. `professional` needs the escalation reason and the receiving unit."""

    model_config = ConfigDict(extra="forbid")

    decision: TriageDecision
    triaged_by: StaffId
    """The guide's id."""
    note: paragraphs(2000) | None = None
    """The reason in the guide's words; stored here only, never published."""
    escalation_reason: EscalationReason | None = None
    receiving_unit: line(120) | None = None
    """The professional unit that takes over, e.g. `varde-psykiatri`."""


class TriageOut(BaseModel):
    referral_id: uuid.UUID
    state: str


@router.post("/referrals/{referral_id}/triage", response_model=TriageOut)
async def triage_referral(
    referral_id: uuid.UUID, body: TriageIn, runtime: Runtime, caller: CallerDep, access: AccessDep, metrics: Metrics
) -> TriageOut:
    """Record the guide's triage: publishes `ReferralTriaged`, and `ReferralEscalated` for `professional`."""
    if body.decision is TriageDecision.professional:
        missing = [Problem((f,), "required when the decision is professional") for f in ("escalation_reason", "receiving_unit") if not getattr(body, f)]
        if missing:
            raise Unprocessable(missing)
    command = triage.TriageCommand(
        decision=body.decision, triaged_by=body.triaged_by, note=body.note,
        escalation_reason=body.escalation_reason, receiving_unit=body.receiving_unit,
    )
    async with runtime.unit_of_work() as uow:
        state = await triage.triage_referral(uow, referral_id, command, caller, access.partnership)
    metrics.triaged.labels(body.decision.value).inc()
    return TriageOut(referral_id=referral_id, state=state.value)
