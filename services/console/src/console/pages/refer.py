"""Refer: the referral card for staff (home care, GP, nurse; their organisation
from their login) and the public page for relatives and self-referral, which
the console sends with its own client (role referrer, no organisation on the
card: referral accepts such cards from any caller). A receipt says what happens
next and by when."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from brobygger_runtime.auth import FailureThrottle
from console.clients.base import Caller, Refused
from console.referral_form import (
    CONSENT_GIVERS,
    PUBLIC_SOURCES,
    STAFF_SOURCES,
    URGENCIES,
    card_from_form,
    first_contact_by,
)
from console.web import caller, console_of, form, language_of, many, person, render, session_of

router = APIRouter()
STAFF = ("referrer", "guide", "coordinator")
PUBLIC_CARDS_PER_ADDRESS = FailureThrottle(limit=5, window_seconds=600)
"""The public page sends at most 5 cards per address in 10 minutes (a person refers one or two)."""


def _page(request: Request, public: bool, status: int = 200, fields: dict | None = None,
          refused: Refused | None = None) -> Response:
    home = console_of(request).settings.org_id
    organisations = sorted(console_of(request).login.organisations(), key=lambda org: (org != home, org))
    fields = fields or {}
    if not fields.get("form_id"):  # one id per form shown: a resent form is the same card (Idempotency-Key)
        fields["form_id"] = str(uuid.uuid4())
    return render(request, "refer.html.j2", status=status, public=public, fields=fields,
                  sources=PUBLIC_SOURCES if public else STAFF_SOURCES, givers=CONSENT_GIVERS, urgencies=URGENCIES,
                  organisations=organisations, chosen=set(many(fields, "consent.organisations")),
                  errors=refused.by_field() if refused else {}, refused=refused)


@router.get("/refer")
async def staff_form(request: Request) -> Response:
    person(request, *STAFF)
    return _page(request, public=False)


@router.get("/refer/public")
async def public_form(request: Request) -> Response:
    return _page(request, public=True)


@router.post("/refer")
async def staff_submit(request: Request) -> Response:
    me = person(request, *STAFF)
    fields = await form(request)
    return await _submit(request, fields, caller(request, me), staff_org=me.organisation, public=False)


@router.post("/refer/public")
async def public_submit(request: Request) -> Response:
    fields = await form(request)
    address = request.client.host if request.client else "unknown"
    wait = PUBLIC_CARDS_PER_ADDRESS.retry_after(address)
    if wait is not None:
        return render(request, "message.html.j2", status=429, title="Too many cards",
                      text="Too many cards were sent from here. Try again in {seconds} seconds, or call the municipality.",
                      values={"seconds": wait})
    PUBLIC_CARDS_PER_ADDRESS.record_failure(address)  # counts every card sent, not only failures
    source = console_of(request).public_referrals
    if source is None:
        return render(request, "message.html.j2", status=503, title="Not available yet",
                      text="This console cannot take referrals from the public; call the municipality instead.")
    token = Caller(token=await source.token(), language=language_of(request))
    if fields.get("referrer.source") not in PUBLIC_SOURCES:
        fields["referrer.source"] = "relative"
    return await _submit(request, fields, token, staff_org=None, public=True)


async def _submit(request: Request, fields: dict, who: Caller, *, staff_org: str | None, public: bool) -> Response:
    card = card_from_form(fields, many(fields, "consent.organisations"), staff_org=staff_org)
    try:
        answer = await console_of(request).referral.submit(who, card, idempotency_key=str(fields.get("form_id")))
    except Refused as refused:
        return _page(request, public, status=422, fields=fields, refused=refused)
    session_of(request).flash.clear()
    sent = datetime.now(UTC)
    return render(request, "receipt.html.j2", public=public, answer=answer, urgency=card["urgency"],
                  call_by=first_contact_by(sent.date(), card["urgency"]), sent=sent,
                  organisations=card["consent"]["organisations"], language=language_of(request))
