"""The volunteer's page: my friend(s), the questions waiting for my yes or no,
log a meeting in two taps, pause. Built on matching's volunteer routes of
issue 14 (`GET /volunteers/me`, `GET /friendships/questions`,
`POST /proposals/{id}/volunteer-answer`, `POST /volunteers/{id}/pause`,
`POST /friendships/{id}/meetings`); where the volunteer's organisation's
matching does not have them yet (404/405) each part says it is not available."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.clients.base import NotAvailable, Refused
from console.web import caller, console_of, form, go, person, render

router = APIRouter()
CHANNELS = ("in_person", "phone", "video")


async def _or_missing(call: Any) -> tuple[Any, bool]:
    """(answer, available)."""
    try:
        return await call, True
    except NotAvailable:
        return None, False


@router.get("/volunteer")
async def my_page(request: Request) -> Response:
    me = person(request, "volunteer")
    client = console_of(request).matching_of(me.organisation)
    if client is None:
        return render(request, "volunteer.html.j2", available=False, profile=None, questions=[], channels=CHANNELS)
    who = caller(request, me)
    profile, has_profile = await _or_missing(client.me(who))
    questions, has_questions = await _or_missing(client.questions(who))
    return render(request, "volunteer.html.j2", available=has_profile or has_questions, profile=profile,
                  questions=questions or [], has_questions=has_questions, channels=CHANNELS,
                  today=datetime.now(UTC).date().isoformat())


@router.post("/volunteer/{action}")
async def act(request: Request, action: str) -> Response:
    me = person(request, "volunteer")
    fields = await form(request)
    client = console_of(request).matching_of(me.organisation)
    if client is None:
        return go("/volunteer", request=request, problems=["not available"])
    who = caller(request, me)
    try:
        if action == "answer":
            await client.volunteer_answer(who, str(fields.get("proposal_id", "")), fields.get("answer") == "accept")
        elif action == "pause":
            await client.pause(who, str(fields.get("volunteer_id", "")))
        elif action == "meeting":
            await client.log_meeting(who, str(fields.get("friendship_id", "")), {
                "met_on": fields.get("met_on") or datetime.now(UTC).date().isoformat(),
                "minutes": int(fields["minutes"]) if str(fields.get("minutes", "")).isdigit() else fields.get("minutes"),
                "channel": fields.get("channel") or "in_person"})
        else:
            return render(request, "message.html.j2", status=404, title="Not found", text="No such form.")
    except NotAvailable:
        return go("/volunteer", request=request, problems=["This part is not available yet."])
    except Refused as refused:
        return go("/volunteer", request=request, problems=refused.reasons)
    return go("/volunteer", f"saved:{action}", request)
