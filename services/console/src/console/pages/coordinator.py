"""The coordinator's page: volunteers by status with vetting or training due
and supervision overdue (matching's `GET /volunteers/report` and
`GET /volunteers`), the proposals awaiting a volunteer's answer
(`GET /friendships/questions`), activities with their free seats, the guides
and their room, the groups with facilitator, meetings and the way to running
themselves (journey's `GET /groups`)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.clients.base import NotAvailable, Refused, Unreachable
from console.web import caller, console_of, person, render

router = APIRouter()


async def _maybe(call: Any) -> Any:
    """The answer, or None when this organisation's instance has no such list for this person."""
    try:
        return await call
    except (Refused, NotAvailable, Unreachable):
        return None


@router.get("/coordinator")
async def overview(request: Request) -> Response:
    me = person(request, "coordinator")
    console = console_of(request)
    who = caller(request, me)
    own = console.matching_of(me.organisation)
    any_matching = own or next(iter(console.matching.values()), None)
    volunteers, report, questions, activities, guides, proposals, groups = await asyncio.gather(
        _maybe(own.volunteers(who)) if own else asyncio.sleep(0, None),
        _maybe(own.volunteer_report(who)) if own else asyncio.sleep(0, None),
        _maybe(own.questions(who)) if own else asyncio.sleep(0, None),
        _maybe(any_matching.activities(who)) if any_matching else asyncio.sleep(0, None),
        _maybe(console.journey.guides(who)),
        _maybe(own.all_proposals(who)) if own else asyncio.sleep(0, None),
        _maybe(console.journey.groups(who)),
    )
    taken: dict[str, int] = defaultdict(int)  # seats held by accepted proposals (matching keeps the slot reserved)
    for p in proposals or []:
        if p.get("kind") == "activity" and p.get("status") == "accepted":
            taken[str(p.get("candidate_id"))] += 1
    for a in activities or []:
        seats = a.get("seats")
        a["free_seats"] = None if seats is None else max(seats - taken[str(a.get("activity_id"))], 0)
    known = {str(v.get("volunteer_id")): v for v in volunteers or []}
    return render(request, "coordinator.html.j2", report=report, has_volunteers=volunteers is not None,
                  volunteers=volunteers or [], known=known, questions=questions, activities=activities,
                  guides=guides, groups=groups)
