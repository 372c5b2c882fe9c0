"""HTTP API of the referral service."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from brobygger_contracts.events.referral import ReferralSource, Urgency
from brobygger_runtime.http import runtime_of
from brobygger_runtime.service import ServiceRuntime
from referral.adapters import repository as repo
from referral.domain.access import Caller, Role, is_owner_staff
from referral.domain.card import ReferralCard
from referral.domain.errors import Erased, Forbidden, NotFound, Refused
from referral.service_layer import referrals as cases
from referral.service_layer.referrals import CardRefused, Partnership

router = APIRouter()
_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <key> (API_KEYS); not needed when none are configured")


@dataclass(frozen=True)
class Access:
    partnership: Partnership
    keys: dict[str, Caller]


class NotAuthenticated(Exception):
    pass


def access_of(request: Request) -> Access:
    return request.app.state.access


def caller_of(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Caller:
    """The calling organisation and role, from its API key; the owning org's staff when auth is off."""
    access = access_of(request)
    if not access.keys:
        return Caller(org=access.partnership.owning_org, role=Role.staff, key_name="anonymous")
    if credentials is None:
        raise NotAuthenticated("send Authorization: Bearer <key>")
    caller = access.keys.get(credentials.credentials)
    if caller is None:
        raise NotAuthenticated("unknown API key")
    return caller


Runtime = Annotated[ServiceRuntime, Depends(runtime_of)]
CallerDep = Annotated[Caller, Depends(caller_of)]
AccessDep = Annotated[Access, Depends(access_of)]


class ReferralAccepted(BaseModel):
    referral_id: uuid.UUID
    citizen_id: uuid.UUID
    repeat_referral: bool
    """True when the citizen was known: merged into the existing journey."""


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
    repeat_referral: bool
    received_at: datetime
    state: str
    triage_decision: str | None
    triaged_at: datetime | None
    citizen: CitizenView


def _view(row, citizen) -> ReferralView:  # noqa: ANN001 - table rows
    return ReferralView(
        referral_id=row.referral_id, citizen_id=row.citizen_id, source=row.source, referrer_org=row.referrer_org,
        submitted_by_org=row.submitted_by_org, urgency=row.urgency, reason=row.reason,
        repeat_referral=row.repeat_referral, received_at=repo.as_utc(row.received_at), state=row.state,
        triage_decision=row.triage_decision, triaged_at=repo.as_utc(row.triaged_at),
        citizen=CitizenView(
            name=citizen.name, birth_year=citizen.birth_year, postal_code=citizen.postal_code,
            address=citizen.address, phone=citizen.phone, email=citizen.email, language=citizen.language,
            lives_alone=citizen.lives_alone, consented_orgs=list(citizen.consented_orgs),
            erased=citizen.erased_at is not None,
        ),
    )


@router.post("/referrals", status_code=201, response_model=ReferralAccepted, tags=["referrals"])
async def submit_referral(card: ReferralCard, runtime: Runtime, caller: CallerDep, access: AccessDep) -> ReferralAccepted:
    """Accept a referral card: store it here, publish `ReferralReceived` without personal data.

    A card without consent, with an organisation outside the partnership or with
    missing source-specific fields is refused with 422 naming the field.
    """
    async with runtime.unit_of_work() as uow:
        accepted = await cases.submit_referral(uow, card, caller, access.partnership)
    return ReferralAccepted(**accepted.__dict__)


@router.get("/referrals", response_model=list[ReferralView], tags=["referrals"])
async def list_referrals(
    runtime: Runtime, caller: CallerDep, access: AccessDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100, offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> list[ReferralView]:
    """Referrals visible to the caller: all for the owning organisation's staff, else the caller's organisation's own."""
    only = None if is_owner_staff(caller, access.partnership.owning_org) else caller.org
    if caller.role is Role.service:
        raise Forbidden("services do not list referrals")
    async with runtime.db.sessions() as session:
        rows = await repo.referral_list(session, only, limit, offset)
        return [_view(row, await repo.citizen(session, row.citizen_id)) for row in rows]


@router.get("/referrals/{referral_id}", response_model=ReferralView, tags=["referrals"])
async def get_referral(referral_id: uuid.UUID, runtime: Runtime, caller: CallerDep, access: AccessDep) -> ReferralView:
    """One referral card with its citizen, for the referrer who sent it and the owning organisation's staff."""
    async with runtime.unit_of_work() as uow:
        row = await cases.visible_referral(uow, referral_id, caller, access.partnership)
        return _view(row, await repo.citizen(uow.session, row.citizen_id))


def _error(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"detail": reason}, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CardRefused)
    async def card_refused(_request: Request, exc: CardRefused) -> JSONResponse:
        detail = [{"type": "value_error", "loc": ["body", *p.loc], "msg": p.msg} for p in exc.problems]
        return JSONResponse({"detail": detail}, status_code=422)

    handlers = {NotAuthenticated: 401, Forbidden: 403, NotFound: 404, Refused: 409, Erased: 410}
    for exc_cls, status in handlers.items():
        async def handler(_request: Request, exc: Exception, status: int = status) -> JSONResponse:
            response = _error(status, str(exc))
            if status == 401:
                response.headers["WWW-Authenticate"] = "Bearer"
            return response

        app.add_exception_handler(exc_cls, handler)
