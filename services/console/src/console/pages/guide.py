"""The guide's day: my citizens with their state, who waits too long, the next
follow-up, the tasks that need a person; and a citizen's page: the journey's
timeline, contacts, clarification with the UCLA-3 questions, proposals with
their reasons to choose from together with the citizen, the first visit
(accompanied or not, drawn from the punch card) and the exit. Everything is
asked of journey, referral and matching with the guide's own token, so a
citizen outside their caseload or their organisation's consent is not found."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.clients.base import Caller, NotAvailable, Refused, Unreachable
from console.waiting import parse_time, waiting
from console.web import caller, console_of, form, go, many, person, render

router = APIRouter()
STAFF = ("guide", "coordinator")
OPEN_DETAILS_AT_MOST = 40
"""The next follow-up of at most this many open journeys is read for the list (one call each)."""
BARRIERS = ("transport", "distance", "health", "mobility", "money", "caring_for_spouse", "hearing", "language")
WISHES = ("friend", "activity", "group")
COMPANIONS = ("guide", "volunteer", "home_care", "relative")
OUTCOMES = ("completed", "dropped_out", "escalated", "declined")
FOLLOW_UP_OUTCOMES = ("still_going", "paused", "stopped", "needs_new_proposal")
STOP_REASONS = ("health", "moved", "did_not_click", "transport", "cost", "activity_ended", "found_own_community", "other")
DECLINE_REASONS = ("not_interested", "too_far", "wrong_time", "did_not_click", "health", "other")
UCLA = ("lack_companionship", "left_out", "isolated")
LANGUAGE_CODES = ("da", "sv", "en", "de", "ar", "tr", "pl", "uk")


@router.get("/guide")
async def my_day(request: Request) -> Response:
    me = person(request, *STAFF)
    console = console_of(request)
    who = caller(request, me)
    caseload, cards, open_tasks = await asyncio.gather(console.journey.caseload(who), console.referral.names(who),
                                                       _tasks_of(console, who))
    open_ones = [j for j in caseload if j.get("state") != "exited"][:OPEN_DETAILS_AT_MOST]
    details = await asyncio.gather(*(console.journey.journey(who, str(j["citizen_id"])) for j in open_ones),
                                   return_exceptions=True)
    next_due = {str(j["citizen_id"]): _next_timer(d) for j, d in zip(open_ones, details, strict=True)
                if isinstance(d, dict)}
    rows = []
    for j in caseload:
        cid = str(j["citizen_id"])
        rows.append({"journey": j, "card": cards.get(cid), "waiting": waiting(j.get("state", ""), j.get("referred_at")),
                     "next": next_due.get(cid)})
    rows.sort(key=lambda r: (r["journey"].get("state") == "exited", -(r["waiting"].days if r["waiting"] else -1)))
    tasks = [_task(t, cards) for t in open_tasks] + [task for r in rows for task in _arrange_visit(r)]
    return render(request, "guide.html.j2", rows=rows, tasks=tasks)


def _next_timer(detail: dict[str, Any]) -> dict[str, Any] | None:
    pending = detail.get("pending_timers") or []
    return pending[0] if pending else None


async def _tasks_of(console: Any, who: Caller) -> list[dict[str, Any]]:
    """The open tasks; none for staff of another organisation than journey's (the list is its organisation's work)."""
    try:
        return await console.journey.tasks(who)
    except Refused:
        return []


def _task(task: dict[str, Any], cards: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Journey's task (first contact, follow-up, exit review, ask UCLA, still taking part, arrange transport, call
    or write a letter) with the citizen's name; a timer's task is due when it is made, so it is late after a day."""
    cid = str(task.get("citizen_id"))
    name = ((cards.get(cid) or {}).get("citizen") or {}).get("name") or "–"
    details = task.get("details") or {}
    made = task.get("created_at") or task.get("due_at")
    late = bool(made) and (datetime.now(UTC) - parse_time(made)).days >= 1
    return {"kind": task.get("kind"), "task_id": task.get("task_id"), "name": name, "cid": cid, "late": late,
            "what": details.get("transport_need") or details.get("time_point"), "letter": details.get("letter")}


def _arrange_visit(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The first visit to arrange once a match is accepted (journey has no task for it: the state says it)."""
    j, card = row["journey"], row["card"] or {}
    if j.get("state") != "match_accepted":
        return []
    return [{"kind": "arrange_visit", "name": (card.get("citizen") or {}).get("name") or "–",
             "cid": str(j["citizen_id"]), "late": bool(row["waiting"] and row["waiting"].too_long)}]


@router.post("/guide/tasks/{task_id}/done")
async def task_done(request: Request, task_id: uuid.UUID) -> Response:
    me = person(request, *STAFF)
    await form(request)
    try:
        await console_of(request).journey.task_done(caller(request, me), str(task_id))
    except Refused as refused:
        return go("/guide#tasks", request=request, problems=refused.reasons)
    return go("/guide#tasks", "saved:task", request)


@router.get("/guide/citizens/{citizen_id}")
async def citizen(request: Request, citizen_id: uuid.UUID) -> Response:
    me = person(request, *STAFF)
    console = console_of(request)
    who = caller(request, me)
    cid = str(citizen_id)
    try:
        journey = await console.journey.journey(who, cid)
    except Refused as refused:
        if refused.status in (403, 404, 410):
            return render(request, "message.html.j2", status=404, title="Not found",
                          text="No citizen of yours has this page.")
        raise
    cards = await console.referral.names(who)
    proposals = await _proposals(console, who, cid)
    return render(request, "citizen.html.j2", cid=cid, journey=journey, card=cards.get(cid), proposals=proposals,
                  waiting=waiting(journey.get("state", ""), journey.get("referred_at")), barriers=BARRIERS,
                  wishes=WISHES, companions=COMPANIONS, outcomes=OUTCOMES,
                  follow_up_outcomes=FOLLOW_UP_OUTCOMES, stop_reasons=STOP_REASONS, decline_reasons=DECLINE_REASONS,
                  ucla=UCLA, language_codes=LANGUAGE_CODES)


async def _proposals(console: Any, who: Caller, cid: str) -> list[dict[str, Any]]:
    """Every matching instance's proposals for the citizen, with the instance's organisation; one that does not
    answer is listed as such rather than failing the page."""
    async def one(org: str, client: Any) -> list[dict[str, Any]]:
        try:
            return [p | {"org": org, "choice_key": p.get("choice_id") or p.get("proposal_id"),
                         "rank_key": p.get("rank") or 0} for p in await client.proposals(who, cid)]
        except (Refused, Unreachable, NotAvailable):
            return [{"org": org, "unavailable": True}]
    found = await asyncio.gather(*(one(org, client) for org, client in console.matching.items()))
    return [p for group in found for p in group]


def _ucla(fields: dict[str, Any], prefix: str) -> dict[str, int] | None:
    answers = {q: fields.get(f"{prefix}.{q}") for q in UCLA}
    if not any(answers.values()):
        return None
    return {q: int(v) if isinstance(v, str) and v.isdigit() else v for q, v in answers.items()}  # type: ignore[misc]


def _number(value: Any) -> Any:
    try:
        return float(str(value).replace(",", "."))
    except ValueError:
        return value  # the API says why it is not a number


@router.post("/guide/citizens/{citizen_id}/{step}")
async def record(request: Request, citizen_id: uuid.UUID, step: str) -> Response:
    me = person(request, *STAFF)
    fields = await form(request)
    console = console_of(request)
    who = caller(request, me)
    cid = str(citizen_id)
    back = f"/guide/citizens/{cid}"
    body: dict[str, Any]
    if step == "contacts":
        body = {"kind": fields.get("kind") or "call"}
        if fields.get("note", "").strip():
            body["note"] = fields["note"].strip()
    elif step == "clarification":
        body = {
            "interests": [w.strip() for w in str(fields.get("interests", "")).replace(";", ",").split(",") if w.strip()],
            "languages": many(fields, "languages") or None, "barriers": many(fields, "barriers"),
            "wishes": many(fields, "wishes") or ["friend", "activity"],
            "wants_accompaniment": bool(fields.get("wants_accompaniment")),
            "needs_step_free": bool(fields.get("needs_step_free")),
            "relatives_involved": bool(fields.get("relatives_involved")),
            "max_travel_km": _number(fields.get("max_travel_km") or 5),
        }
        if fields.get("postal_code", "").strip():
            body["postal_code"] = fields["postal_code"].strip()
        baseline = _ucla(fields, "baseline")
        if baseline:
            body["baseline"] = baseline
    elif step in ("first-visit", "attendance"):
        body = {"hours": _number(fields.get("hours") or 0)}
        if step == "attendance":
            body["attended"] = fields.get("attended") != "no"
        if fields.get("companion"):
            body["companion"] = fields["companion"]
        if fields.get("proposal_id"):
            body["proposal_id"] = fields["proposal_id"]
    elif step == "grants":
        body = {"hours": _number(fields.get("hours") or 0)}
        step = "punch-card/grants"
    elif step == "exit":
        body = {"outcome": fields.get("outcome")}
        final = _ucla(fields, "final")
        if final:
            body["final"] = final
    elif step == "follow-ups":
        body = {"outcome": fields.get("outcome")}
        for optional in ("reason", "proposal_id"):
            if fields.get(optional):
                body[optional] = fields[optional]
    elif step == "proposal":
        return await _answer_proposal(request, console, who, fields, back)
    else:
        return render(request, "message.html.j2", status=404, title="Not found", text="No such form.")
    try:
        await console.journey.record(who, cid, step, body)
    except Refused as refused:
        return go(back + f"#{step}", request=request, problems=refused.reasons)
    return go(back, f"saved:{step.rsplit('/', 1)[-1]}", request)


async def _answer_proposal(request: Request, console: Any, who: Caller, fields: dict[str, Any], back: str) -> Response:
    client = console.matching_of(str(fields.get("org", "")))
    if client is None:
        return go(back, request=request, problems=["no such matching instance"])
    accept = fields.get("answer") == "accept"
    try:
        await client.answer(who, str(fields.get("proposal_id", "")), accept, fields.get("reason") or None)
    except Refused as refused:
        return go(back + "#proposals", request=request, problems=refused.reasons)
    return go(back, "saved:accepted" if accept else "saved:declined", request)
