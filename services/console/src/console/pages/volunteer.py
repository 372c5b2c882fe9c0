"""The volunteer's page: the questions waiting for my yes or no, my friends
with their meetings (log one in two taps: how, then "we met today"), pause
and resume. All from the volunteer's own organisation's matching (issue 14):
`GET /volunteers/me`, `GET /friendships/questions`, `GET /friendships`,
`POST /proposals/{id}/volunteer-answer`, `POST /friendships/{id}/meetings`,
`POST /volunteers/{id}/pause|resume`. A login that is no volunteer there yet
(no application) sees that said, not an error."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.clients.base import NotAvailable, Refused
from console.web import caller, console_of, form, go, person, render

router = APIRouter()
CHANNELS = ("in_person", "phone", "video")
PAUSE_REASONS = ("holiday", "illness", "other")
MEETING_MINUTES = 60
"""A meeting logged in two taps counts an hour; the coordinator's report sums them."""


async def _profile(client: Any, who: Any) -> dict[str, Any] | None:
    try:
        return await client.me(who)
    except NotAvailable:  # their login has no volunteer record at this organisation (yet)
        return None


@router.get("/volunteer")
async def my_page(request: Request) -> Response:
    me = person(request, "volunteer")
    client = console_of(request).matching_of(me.organisation)
    if client is None:
        return render(request, "volunteer.html.j2", available=False, profile=None, questions=[], friendships=[],
                      channels=CHANNELS, pause_reasons=PAUSE_REASONS)
    who = caller(request, me)
    profile, questions, friendships = await asyncio.gather(_profile(client, who), client.questions(who),
                                                           client.friendships(who))
    today = datetime.now(UTC).date().isoformat()
    paused = bool(profile) and any(p.get("from") and p["from"] <= today and (not p.get("until") or p["until"] >= today)
                                   for p in profile.get("pauses") or [])
    return render(request, "volunteer.html.j2", available=True, profile=profile, questions=questions,
                  friendships=[f for f in friendships if f.get("active", True)], paused=paused,
                  channels=CHANNELS, pause_reasons=PAUSE_REASONS, today=today)


@router.post("/volunteer/{action}")
async def act(request: Request, action: str) -> Response:
    me = person(request, "volunteer")
    fields = await form(request)
    client = console_of(request).matching_of(me.organisation)
    if client is None:
        return go("/volunteer", request=request, problems=["not available"])
    who = caller(request, me)
    today = datetime.now(UTC).date().isoformat()
    try:
        if action == "answer":
            await client.volunteer_answer(who, str(fields.get("proposal_id", "")), fields.get("answer") == "accept")
        elif action == "pause":
            body = {"from": fields.get("from") or today, "reason": fields.get("reason") or "other"}
            if fields.get("until"):
                body["until"] = fields["until"]
            await client.pause(who, str(fields.get("volunteer_id", "")), body)
        elif action == "resume":
            await client.resume(who, str(fields.get("volunteer_id", "")))
        elif action == "meeting":
            await client.log_meeting(who, str(fields.get("friendship_id", "")), {
                "met_on": fields.get("met_on") or today, "minutes": MEETING_MINUTES,
                "channel": fields.get("channel") or "in_person"})
        else:
            return render(request, "message.html.j2", status=404, title="Not found", text="No such form.")
    except Refused as refused:
        return go("/volunteer", request=request, problems=refused.reasons)
    return go("/volunteer", f"saved:{action}", request)
