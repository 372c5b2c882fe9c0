"""HTTP API about citizens: consent, erasure, and contact details for consented organisations."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from brobygger_contracts.types import OrgId
from brobygger_runtime.paging import DEFAULT_LIMIT, Limit, Offset
from brobygger_runtime.auth import Caller, Role, requires
from referral.domain.consent import ConsentGiver
from referral.domain.errors import Forbidden
from referral.entrypoints.auth import AccessDep, Metrics, Runtime
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
async def change_consent(
    citizen_id: uuid.UUID, body: ConsentIn, runtime: Runtime, access: AccessDep,
    caller: Caller = Depends(requires(Role.coordinator)),  # noqa: B008
) -> ConsentOut:
    """Replace the consented organisations, for a coordinator of an organisation the citizen's consent
    names (others: 404); publishes `ConsentChanged` when they changed. An empty list withdraws consent
    (a `ConsentChanged`, never an erasure). The only way a citizen's consent changes."""
    async with runtime.unit_of_work() as uow:
        consented, added, removed = await citizens.change_consent(uow, citizen_id, body.organisations, body.given_by, caller, access.partnership)
    return ConsentOut(citizen_id=citizen_id, consented_orgs=consented, added=added, removed=removed)


class ErasureOut(BaseModel):
    citizen_id: uuid.UUID
    erased_at: datetime


@router.delete("/citizens/{citizen_id}", response_model=ErasureOut)
async def erase_citizen(
    citizen_id: uuid.UUID, runtime: Runtime, access: AccessDep, metrics: Metrics,
    caller: Caller = Depends(requires(Role.coordinator)),  # noqa: B008
) -> ErasureOut:
    """Erase the citizen's personal data on request (coordinators of the owning organisation);
    publishes `CitizenErased` so every service forgets them."""
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
async def contact(
    citizen_id: uuid.UUID, runtime: Runtime, access: AccessDep, metrics: Metrics,
    caller: Caller = Depends(requires(Role.service, Role.coordinator)),  # noqa: B008
) -> ContactView:
    """Contact details for delivering messages (notify's service token) or for a coordinator, only for
    organisations in the citizen's consent (others: 404, as for an unknown citizen).
    Every request, granted or refused, is written to the access log."""
    granted = False
    try:
        async with runtime.unit_of_work() as uow:
            found = await citizens.contact_details(uow, citizen_id, caller, access.partnership)
        granted = True
    finally:
        metrics.contact_requests.labels(caller.organisation, str(granted).lower()).inc()
    return ContactView(**found.__dict__)


class ReferrerContactView(BaseModel):
    referral_id: uuid.UUID
    name: str
    phone: str | None
    email: str | None
    language: str


@router.get("/referrals/{referral_id}/referrer-contact", response_model=ReferrerContactView, tags=["referrals"])
async def referrer_contact(
    referral_id: uuid.UUID, runtime: Runtime, access: AccessDep, metrics: Metrics,
    caller: Caller = Depends(requires(Role.service, Role.coordinator)),  # noqa: B008
) -> ReferrerContactView:
    """The referring person's contact details, for telling them about milestones (notify): only to a service
    or coordinator of an organisation in the citizen's consent (else 404), and only when they asked for that
    on the card (else 403). Logged like citizens'."""
    found = None
    try:
        async with runtime.unit_of_work() as uow:
            found = await citizens.referrer_contact(uow, referral_id, caller, access.partnership)
    finally:
        metrics.contact_requests.labels(caller.organisation, str(found is not None).lower()).inc()
    if found is None:
        raise Forbidden("the referrer did not ask to hear about milestones")
    return ReferrerContactView(**found.__dict__)


@router.get("/possible-duplicates", response_model=list[citizens.PossibleDuplicate], tags=["citizens"])
async def possible_duplicates(
    runtime: Runtime, access: AccessDep,
    open_only: bool = True,
    limit: Limit = DEFAULT_LIMIT, offset: Offset = 0,
    caller: Caller = Depends(requires(Role.coordinator)),  # noqa: B008
) -> list[citizens.PossibleDuplicate]:
    """Cards that resembled a known citizen but came from an organisation outside that citizen's consent,
    newest first, paged: for the owning organisation's coordinators to confirm (merge) or dismiss (distinct).
    Each person shown is written to the access log."""
    async with runtime.unit_of_work() as uow:
        return await citizens.possible_duplicates(uow, caller, access.partnership, open_only=open_only, limit=limit, offset=offset)


class Resolution(str, Enum):
    merge = "merge"
    distinct = "distinct"


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resolution: Resolution
    """`merge`: one person (the card joins the known citizen, whose details and consent stay; the new
    record is erased); `distinct`: two people."""


class ResolveOut(BaseModel):
    duplicate_id: uuid.UUID
    resolution: Resolution


@router.post("/possible-duplicates/{duplicate_id}/resolve", response_model=ResolveOut, tags=["citizens"])
async def resolve_duplicate(
    duplicate_id: uuid.UUID, body: ResolveIn, runtime: Runtime, access: AccessDep,
    caller: Caller = Depends(requires(Role.coordinator)),  # noqa: B008
) -> ResolveOut:
    """Confirm (merge) or dismiss (distinct) a possible duplicate; coordinators of the owning organisation.
    Resolved once (409 after)."""
    async with runtime.unit_of_work() as uow:
        await citizens.resolve_duplicate(uow, duplicate_id, body.resolution is Resolution.merge, caller, access.partnership)
    return ResolveOut(duplicate_id=duplicate_id, resolution=body.resolution)
