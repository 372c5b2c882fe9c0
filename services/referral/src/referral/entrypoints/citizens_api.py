"""HTTP API about citizens: consent, erasure, and contact details for consented organisations."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from brobygger_contracts.types import OrgId
from referral.domain.consent import ConsentGiver
from referral.domain.errors import Forbidden
from referral.entrypoints.auth import AccessDep, CallerDep, Metrics, Runtime
from referral.service_layer import citizens

router = APIRouter(tags=["citizens"])


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organisations: list[OrgId] = Field(max_length=50)
    """Every organisation that may receive the citizen's data from now on; empty withdraws consent."""
    given_by: ConsentGiver
    """Who gave (or withdrew) the consent."""


class ConsentOut(BaseModel):
    citizen_id: uuid.UUID
    consented_orgs: list[str]
    added: list[str]
    removed: list[str]


@router.put("/citizens/{citizen_id}/consent", response_model=ConsentOut)
async def change_consent(citizen_id: uuid.UUID, body: ConsentIn, runtime: Runtime, caller: CallerDep, access: AccessDep) -> ConsentOut:
    """Replace the consented organisations; publishes `ConsentChanged` when they changed."""
    async with runtime.unit_of_work() as uow:
        consented, added, removed = await citizens.change_consent(uow, citizen_id, body.organisations, body.given_by, caller, access.partnership)
    return ConsentOut(citizen_id=citizen_id, consented_orgs=consented, added=added, removed=removed)


class ErasureOut(BaseModel):
    citizen_id: uuid.UUID
    erased_at: datetime


@router.delete("/citizens/{citizen_id}", response_model=ErasureOut)
async def erase_citizen(citizen_id: uuid.UUID, runtime: Runtime, caller: CallerDep, access: AccessDep, metrics: Metrics) -> ErasureOut:
    """Erase the citizen's personal data on request; publishes `CitizenErased` so every service forgets them."""
    async with runtime.unit_of_work() as uow:
        erased_at = await citizens.erase_citizen(uow, citizen_id, caller, access.partnership)
    metrics.erased.inc()
    return ErasureOut(citizen_id=citizen_id, erased_at=erased_at)


class ContactView(BaseModel):
    citizen_id: uuid.UUID
    name: str
    phone: str | None
    email: str | None
    address: str | None
    postal_code: str
    language: str


@router.get("/citizens/{citizen_id}/contact", response_model=ContactView)
async def contact(citizen_id: uuid.UUID, runtime: Runtime, caller: CallerDep, metrics: Metrics) -> ContactView:
    """Contact details for delivering messages (notify), only to organisations in the citizen's consent.

    Every request, granted or refused, is written to the access log.
    """
    async with runtime.unit_of_work() as uow:
        found = await citizens.contact_details(uow, citizen_id, caller)
    return ContactView(**_granted(found, caller, metrics, f"{caller.org} is not in the citizen's consent").__dict__)


def _granted(found, caller, metrics, refusal: str):  # noqa: ANN001, ANN202
    """Count the request (granted or not) and refuse with 403 when nothing was granted."""
    metrics.contact_requests.labels(caller.org, str(found is not None).lower()).inc()
    if found is None:
        raise Forbidden(refusal)
    return found


class ReferrerContactView(BaseModel):
    referral_id: uuid.UUID
    name: str
    phone: str | None
    email: str | None
    language: str


@router.get("/referrals/{referral_id}/referrer-contact", response_model=ReferrerContactView, tags=["referrals"])
async def referrer_contact(referral_id: uuid.UUID, runtime: Runtime, caller: CallerDep, metrics: Metrics) -> ReferrerContactView:
    """The referring person's contact details, for telling them about milestones (notify): only when they
    asked for that on the card, and only to organisations in the citizen's consent. Logged like citizens'."""
    async with runtime.unit_of_work() as uow:
        found = await citizens.referrer_contact(uow, referral_id, caller)
    refusal = f"the referrer did not ask to hear about milestones, or {caller.org} is not in the citizen's consent"
    return ReferrerContactView(**_granted(found, caller, metrics, refusal).__dict__)
