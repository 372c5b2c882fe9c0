"""HTTP API of referral cards: submit, read, triage, follow the status."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response
from pydantic import BaseModel, ConfigDict

from brobygger_contracts.events.referral import EscalationReason, ReferralSource, TriageDecision, Urgency
from brobygger_contracts.types import StaffId
from brobygger_runtime.paging import DEFAULT_LIMIT, Limit, Offset
from brobygger_runtime import access_log
from brobygger_runtime.auth import Caller, Role, requires
from referral.adapters import repository as repo
from referral.domain.access import STAFF, in_consent, sees_everything_of
from referral.domain.card import Problem, ReferralCard
from referral.domain.status import Milestone
from brobygger_runtime.text import line, paragraphs
from referral.domain.triage import ReferralState
from referral.entrypoints.auth import AccessDep, Metrics, Runtime
from referral.service_layer import citizens, referrals as cases, triage
from referral.service_layer.referrals import Unprocessable

router = APIRouter(tags=["referrals"])


class ReferralAccepted(BaseModel):
    referral_id: uuid.UUID
    citizen_id: uuid.UUID
    repeat_referral: bool
    """True when the citizen was known and the submitting organisation is in their consent: linked to
    the existing journey as a further referral. Never true for an organisation outside the consent."""


class CitizenView(BaseModel):
    name: str | None
    birth_year: int | None
    postal_code: str | None
    address: str | None
    phone: str | None
    email: str | None
    language: str | None
    lives_alone: bool | None
    consented_orgs: list[str] | None
    """The citizen's current consent; empty (null) in an `own_card` view."""
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
    scope: str
    """`full`: staff within the citizen's consent see the stored citizen; `own_card`: the person who
    submitted the card sees only what the card said."""
    citizen: CitizenView


VIEW_FIELDS = ("name", "birth_year", "postal_code", "address", "phone", "email", "language", "lives_alone", "reason")


def referral_view(row, citizen, full: bool) -> ReferralView:  # noqa: ANN001 - table rows
    if full:
        person = CitizenView(
            name=citizen.name, birth_year=citizen.birth_year, postal_code=citizen.postal_code,
            address=citizen.address, phone=citizen.phone, email=citizen.email, language=citizen.language,
            lives_alone=citizen.lives_alone, consented_orgs=list(citizen.consented_orgs),
            erased=citizen.erased_at is not None,
        )
    else:
        supplied = row.supplied or {}
        person = CitizenView(**{f: supplied.get(f) for f in ("name", "birth_year", "postal_code", "address", "phone",
                                                             "email", "language", "lives_alone")},
                             consented_orgs=None, erased=citizen.erased_at is not None)
    return ReferralView(
        referral_id=row.referral_id, citizen_id=row.citizen_id, source=row.source, referrer_org=row.referrer_org,
        submitted_by_org=row.submitted_by_org, urgency=row.urgency, reason=row.reason,
        repeat_referral=row.repeat_referral, received_at=row.received_at, state=row.state,
        triage_decision=row.triage_decision, triaged_at=row.triaged_at, scope="full" if full else "own_card",
        citizen=person,
    )


IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=100, pattern=r"^[\x21-\x7e]+$",
           description="makes a retried submission safe: the same key from the same organisation answers the first result"),
]


@router.post("/referrals", status_code=201, response_model=ReferralAccepted)
async def submit_referral(
    card: ReferralCard, response: Response, runtime: Runtime, access: AccessDep, metrics: Metrics,
    idempotency_key: IdempotencyKey = None,
    caller: Caller = Depends(requires(Role.referrer, Role.guide, Role.coordinator)),  # noqa: B008
) -> ReferralAccepted:
    """Accept a referral card: store it here, publish `ReferralReceived` without personal data.

    For referrers (cards of their own organisation), guides and coordinators (the owning
    organisation's may enter any card). A card without consent, with an organisation outside
    the partnership or with missing source-specific fields is refused with 422 naming the field.
    A citizen referred before (same birth year, name and address or postal code, or the explicit
    `citizen_id`) keeps their citizen id only when the caller's organisation is in their consent
    (`repeat_referral` true); otherwise the card becomes a new citizen record and the owning
    organisation's coordinators are asked to confirm a possible duplicate. A card never changes a
    known citizen's details or consent. A retry with the same `Idempotency-Key` answers 200 with
    the first result.
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
    runtime: Runtime, access: AccessDep,
    state: ReferralState | None = None,
    limit: Limit = DEFAULT_LIMIT, offset: Offset = 0,
    caller: Caller = Depends(requires(Role.coordinator, Role.guide, Role.referrer)),  # noqa: B008
) -> list[ReferralView]:
    """Referrals the caller may open, newest first, paged (`limit` at most 500, `offset`): the owning
    organisation's coordinators see all; guides and coordinators those whose citizen's consent names
    their organisation; everyone the cards they submitted themselves (only what the card said).
    `state=received` is the guides' triage queue. Every citizen shown is written to the access log."""
    everything = sees_everything_of(caller, access.partnership.owning_org)
    staff = caller.has(*STAFF)
    async with runtime.db.transaction() as session:
        rows = await repo.referral_list(
            session, everything=everything, consent_org=caller.organisation if staff else None,
            submitter=(caller.organisation, caller.subject), state=state and state.value, limit=limit, offset=offset,
        )
        views = []
        for row in rows:
            full = everything or (staff and in_consent(caller, row.citizen_consent))
            views.append(referral_view(row, await repo.citizen(session, row.citizen_id), full))
            await access_log.record(session, runtime.tables.access_log, caller, row.citizen_id, fields=VIEW_FIELDS,
                                    purpose="list referrals" if full else "list referrals (own card)", allowed=True)
        return views


@router.get("/referrals/{referral_id}", response_model=ReferralView)
async def get_referral(
    referral_id: uuid.UUID, runtime: Runtime, access: AccessDep,
    caller: Caller = Depends(requires(Role.coordinator, Role.guide, Role.referrer)),  # noqa: B008
) -> ReferralView:
    """One referral card with its citizen: whole for guides and coordinators of an organisation in the
    citizen's consent (the owning organisation's coordinators: every referral); for the person who
    submitted it, only what their card said. Anyone else: 404 (logged as refused)."""
    async with runtime.unit_of_work() as uow:
        seen = await cases.visible_referral(uow, referral_id, caller, access.partnership, fields=VIEW_FIELDS)
        return referral_view(seen.referral, seen.citizen, seen.full)


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
async def referral_status(
    referral_id: uuid.UUID, runtime: Runtime, access: AccessDep,
    caller: Caller = Depends(requires(Role.referrer, Role.coordinator)),  # noqa: B008
) -> StatusView:
    """Where the citizen is now, for the person who submitted the card (the closed loop, from journey
    events) and coordinators who may open the referral. Anyone else: 404."""
    async with runtime.unit_of_work() as uow:
        seen = await cases.visible_referral(uow, referral_id, caller, access.partnership, fields=("status",),
                                            purpose="status of a referral")
        status, reached = await citizens.status_of(uow, seen.referral.citizen_id)
    return StatusView(
        referral_id=referral_id, status=status,
        milestones=[MilestoneView(milestone=m, reached_at=at) for m, at in reached],
    )


class FollowingView(BaseModel):
    referral_id: uuid.UUID
    follows: bool
    """Whether the referrer still hears about the citizen's milestones."""


@router.delete("/referrals/{referral_id}/follow", response_model=FollowingView)
async def stop_following(
    referral_id: uuid.UUID, runtime: Runtime, access: AccessDep,
    caller: Caller = Depends(requires(Role.referrer, Role.coordinator)),  # noqa: B008
) -> FollowingView:
    """The referrer no longer wants to hear about milestones: the person who submitted the card, or a
    coordinator who may open it on their behalf. Their details are no longer handed out."""
    async with runtime.unit_of_work() as uow:
        await cases.stop_following(uow, referral_id, caller, access.partnership)
    return FollowingView(referral_id=referral_id, follows=False)


class TriageIn(BaseModel):
    """The guide's decision. `professional` needs the escalation reason and the receiving unit."""

    model_config = ConfigDict(extra="forbid")

    decision: TriageDecision
    triaged_by: StaffId | None = None
    """Ignored: who triaged is the verified caller (the token's subject), never what a body says."""
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
    referral_id: uuid.UUID, body: TriageIn, runtime: Runtime, access: AccessDep, metrics: Metrics,
    caller: Caller = Depends(requires(Role.coordinator, Role.guide)),  # noqa: B008
) -> TriageOut:
    """Record the guide's triage (guides and coordinators of the owning organisation): publishes
    `ReferralTriaged`, and `ReferralEscalated` for `professional`."""
    if body.decision is TriageDecision.professional:
        missing = [Problem((f,), "required when the decision is professional") for f in ("escalation_reason", "receiving_unit") if not getattr(body, f)]
        if missing:
            raise Unprocessable(missing)
    command = triage.TriageCommand(
        decision=body.decision, triaged_by=caller.subject, note=body.note,
        escalation_reason=body.escalation_reason, receiving_unit=body.receiving_unit,
    )
    async with runtime.unit_of_work() as uow:
        state = await triage.triage_referral(uow, referral_id, command, caller, access.partnership)
    metrics.triaged.labels(body.decision.value).inc()
    return TriageOut(referral_id=referral_id, state=state.value)
