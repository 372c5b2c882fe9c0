"""Matching's HTTP API: registries, the taxonomy, candidates with reasons, proposals and decisions.

Who may call what (DESIGN.md section 9) is stated on each route and tabled in the service's README."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from typing import Any, Iterator
from uuid import UUID

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response
from pydantic import BaseModel, ConfigDict

from brobygger_contracts.interests import InterestWords

from brobygger_contracts.reason_texts import language_of, render_all
from brobygger_contracts.sealed import readable
from brobygger_runtime.auth import Caller, Role, requires
from brobygger_runtime.body_limit import read_capped_body
from brobygger_runtime.http import runtime_of
from brobygger_runtime.service import ServiceRuntime
from matching.adapters import repository as repo
from matching.adapters.tables import activities, proposals, volunteers
from matching.domain import taxonomy
from matching.domain.model import Kind
from matching.domain.scoring import assess_all
from matching.entrypoints import csv_import
from matching.entrypoints.access import (
    MIN_CELL, Page, citizen_in_consent, log_reads, own_organisation, refusal, visible_citizen,
    visible_citizens,
)
from matching.entrypoints.schemas import ActivityIn, DeclineIn, PreferencesIn, RetireIn, VolunteerIn
from matching.friendships.api import router as friendships_router
from matching.service_layer import assignment, citizens, decisions, groups, registry
from matching.service_layer.errors import NotFound, Refused
from matching.volunteering import service as volunteering
from matching.volunteering.api import not_ready_volunteers, router as volunteering_router, step_refusals
from matching.volunteering.service import VettingSeen
from matching.volunteering.settings import rules_of
from matching.volunteering.store import DEFAULT_ROLES

router = APIRouter()
router.include_router(volunteering_router)  # first: /volunteers/me and /volunteers/report before any /volunteers/{id}
router.include_router(friendships_router)  # two-sided consent and friendships (matching.friendships)

STAFF = (Role.guide, Role.coordinator)
VOLUNTEER_FIELDS = ("interests", "languages", "postal_code", "max_travel_km", "capacity", "trained", "availability",
                    "traits", "registered_at", "retired_at", "retired_reason", "roles")
"""What a volunteer list shows; never the exact home coordinates."""


@contextmanager
def _refusals() -> Iterator[None]:
    """A use case's refusals as HTTP answers: 404 for what does not exist, 409 for what a rule forbids."""
    try:
        yield
    except NotFound as exc:
        raise HTTPException(404, detail=str(exc)) from exc
    except Refused as exc:
        raise HTTPException(409, detail=str(exc)) from exc


def _row(row: sa.Row) -> dict[str, Any]:
    return dict(row._mapping)


async def _rows(runtime: ServiceRuntime, query: sa.Select) -> list[dict[str, Any]]:
    async with runtime.db.sessions() as session:
        return [_row(r) for r in (await session.execute(query)).all()]


@router.get("/interests", tags=["taxonomy"])
async def interests(
    _caller: Caller = Depends(requires(Role.guide, Role.coordinator, Role.volunteer, Role.steering)),
) -> list[dict[str, Any]]:
    """The interest taxonomy: canonical codes with their names in English, Danish and Swedish. Any staff role."""
    return [{"code": i.code, "labels": i.labels, "words": list(i.words)} for i in taxonomy.INTERESTS]


@router.post("/volunteers", status_code=201, tags=["registry"])
async def register_volunteer(body: VolunteerIn, caller: Caller = Depends(requires(Role.coordinator)),
                             runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """Register (or update) a volunteer friend of this organisation; publishes `VolunteerRegistered`
    (without the volunteer's traits: those stay here). Coordinators of this instance's organisation;
    the answer shows the profile as stored.

    The registration counts as the volunteer's approval; `trained` true records the courses their roles
    require as completed today; `vetting` and `confidentiality_signed_on` record those steps in the same
    call. Only a volunteer who is also vetted and has signed is proposed (`GET /volunteers/{id}` shows
    what is missing). Registering a retired volunteer again brings them back (active).
    """
    own_organisation(caller, runtime, "the volunteer registry")
    volunteer = body.to_domain(runtime.settings.org_id, body.volunteer_id or uuid.uuid4())
    vetting = body.vetting and VettingSeen(body.vetting.kind, body.vetting.seen_on, body.vetting.expires_on)
    with step_refusals():
        async with runtime.unit_of_work() as uow:
            event = await volunteering.register_directly(uow, volunteer, caller.subject, rules_of(runtime.settings),
                                                         vetting, body.confidentiality_signed_on)
    return readable(event) | {
        "interests": list(volunteer.interests), "languages": list(volunteer.languages),
        "postal_code": volunteer.postal_code, "max_travel_km": volunteer.max_travel_km,
        "availability": repo.slots_json(volunteer.availability), "roles": list(volunteer.roles),
    }


@router.get("/volunteers", tags=["registry"])
async def list_volunteers(response: Response,
                          active: bool | None = Query(None, description="only active (true) or retired (false) volunteers"),
                          page: Page = Depends(), caller: Caller = Depends(requires(Role.coordinator)),
                          runtime: ServiceRuntime = Depends(runtime_of)) -> list[dict[str, Any]]:
    """The volunteers of this organisation, a page at a time (`limit`, `offset`; `X-Next-Offset` names the next
    page); a retired one has `active` false, `retired_at` and `retired_reason`. Postal code, never the exact
    home coordinates. Coordinators of this instance's organisation; each volunteer shown is in the access log."""
    own_organisation(caller, runtime, "the volunteer registry")
    query = (sa.select(volunteers.c.volunteer_id, volunteers.c.org, *(volunteers.c[f] for f in VOLUNTEER_FIELDS))
             .where(volunteers.c.org == runtime.settings.org_id)
             .order_by(volunteers.c.registered_at, volunteers.c.volunteer_id))
    if active is not None:
        query = query.where(volunteers.c.retired_at.is_(None) if active else volunteers.c.retired_at.is_not(None))
    rows = page.cut(await _rows(runtime, page.apply(query)), response)
    await log_reads(runtime, caller, (r["volunteer_id"] for r in rows), fields=VOLUNTEER_FIELDS,
                    purpose="volunteer registry")
    return [{**row, "active": row["retired_at"] is None, "roles": row["roles"] or list(DEFAULT_ROLES)} for row in rows]


@router.post("/volunteers/{volunteer_id}/retire", tags=["registry"])
async def retire_volunteer(volunteer_id: UUID, body: RetireIn | None = None,
                           caller: Caller = Depends(requires(Role.coordinator)),
                           runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """The volunteer stops (body `{"reason": "moved" | "no_time" | "health" | "other"}`, optional).
    Coordinators of this instance's organisation.

    Publishes `VolunteerRegistered` with `active` false; every pending proposal to them is withdrawn and
    every accepted match with them ends (`MatchDeclined`, `candidate_unavailable`), and those citizens are
    proposed their next best candidate. Retiring again answers the same and publishes nothing;
    `POST /volunteers` with their id brings them back.
    """
    own_organisation(caller, runtime, "the volunteer registry")
    reason = (body or RetireIn()).reason
    with _refusals():
        async with runtime.unit_of_work() as uow:
            retired = await registry.retire_volunteer(uow, volunteer_id, reason, caller.subject)
    retirement = retired.volunteer.retirement
    return {
        "volunteer_id": str(volunteer_id), "active": False, "retired_at": retirement.at.isoformat(),
        "reason": retirement.reason.value, "already_retired": retired.already,
        "declined": [readable(e) for e in retired.declined],
        "next_proposals": [readable(e) for e in retired.proposed],
    }


@router.post("/activities", status_code=201, tags=["registry"])
async def publish_activity(body: ActivityIn, caller: Caller = Depends(requires(Role.coordinator)),
                           runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """Publish (or update) an activity or group; publishes `ActivityPublished`. Coordinators of this organisation."""
    own_organisation(caller, runtime, "the activity registry")
    activity = body.to_domain(runtime.settings.org_id, body.activity_id or uuid.uuid4())
    async with runtime.unit_of_work() as uow:
        event = await registry.publish_activity(uow, activity)
    return readable(event)


@router.post("/activities/import", tags=["registry"],
             openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}, "required": True}})
async def import_activities(request: Request, caller: Caller = Depends(requires(Role.coordinator)),
                            runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """Import activities from a spreadsheet's CSV (comma or semicolon separated). Coordinators of this organisation.

    Valid rows are published; each invalid row is reported with its line number, field and reason.
    A body over `IMPORT_MAX_BYTES` is refused with 413, by its Content-Length before it is read, else
    as soon as the streamed body passes the limit.
    """
    own_organisation(caller, runtime, "the activity registry")
    body = await read_capped_body(request, runtime.settings.import_max_bytes, "the import")
    text = body.decode("utf-8-sig", errors="replace")
    try:
        parsed = csv_import.parse(text)
    except csv_import.BadFile as exc:
        raise HTTPException(422, detail=str(exc)) from exc
    published = []
    async with runtime.unit_of_work() as uow:
        for line, body in parsed.rows:
            activity = body.to_domain(runtime.settings.org_id, body.activity_id or uuid.uuid4())
            event = await registry.publish_activity(uow, activity)
            published.append({"line": line, "activity_id": str(event.activity_id), "name": event.name})
    return {"imported": len(published), "activities": published, "errors": parsed.errors}


@router.get("/activities", tags=["registry"])
async def list_activities(response: Response, page: Page = Depends(),
                          _caller: Caller = Depends(requires(*STAFF)),
                          runtime: ServiceRuntime = Depends(runtime_of)) -> list[dict[str, Any]]:
    """The published activities (public offers), a page at a time. Guides and coordinators of any trusted organisation."""
    query = sa.select(activities).order_by(activities.c.published_at, activities.c.activity_id)
    return page.cut(await _rows(runtime, page.apply(query)), response)


def reader_language(runtime: ServiceRuntime = Depends(runtime_of),
                    accept_language: str | None = Header(default=None)) -> str:
    """The language reasons are shown in: the first of da, sv, en the `Accept-Language` header names,
    else the instance's REASONS_LANGUAGE."""
    return language_of(accept_language, runtime.settings.reasons_language)


@router.get("/citizens/{citizen_id}/candidates", tags=["matching"])
async def candidates(citizen_id: UUID, kind: Kind = Query(Kind.volunteer_friend),
                     caller: Caller = Depends(requires(*STAFF)), language: str = Depends(reader_language),
                     runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """Every candidate of one kind judged for the citizen: score and reasons, or why it is excluded.
    Coordinators of an organisation the citizen's consent names, guides of such an organisation
    whose caseload holds the citizen (else 404, logged)."""
    await citizen_in_consent(runtime, caller, citizen_id, fields=("needs", "preferences", "proposals"),
                             purpose=f"candidates ({kind.value})")
    async with runtime.db.sessions() as session:
        row = await repo.citizen_row(session, citizen_id)
        profile = repo.profile_of(row) if row is not None else None
        if profile is None or runtime.settings.org_id not in profile.consented_orgs:
            raise HTTPException(404, detail=f"no clarified citizen {citizen_id} whose consent names {runtime.settings.org_id}")
        earlier = frozenset(UUID(p.candidate_id) for p in await repo.proposals_of(session, citizen_id) if p.kind == kind.value)
        judged = assess_all(profile, await repo.candidates(session, kind, rules_of(runtime.settings)), exclude=earlier,
                            language=language)
        not_ready = await not_ready_volunteers(session, profile, rules_of(runtime.settings), language) \
            if kind is Kind.volunteer_friend else []
    return {
        "citizen_id": str(citizen_id),
        "kind": kind.value,
        "candidates": [
            {"candidate_id": str(a.candidate.candidate_id), "name": a.candidate.name, "eligible": a.eligible,
             "score": a.score, "distance_km": a.distance_km, "reasons": a.reasons,
             "reason_codes": [r.as_json() for r in a.reason_codes],
             "excluded_because": {e.value: why for e, why in a.exclusions.items()}}
            for a in judged
        ] + not_ready,
    }


@router.put("/citizens/{citizen_id}/preferences", tags=["matching"])
async def set_preferences(citizen_id: UUID, body: PreferencesIn, caller: Caller = Depends(requires(*STAFF)),
                          runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """Record what the citizen would like in a volunteer friend (gender, non-smoker, no pets, similar age).
    Coordinators of an organisation the citizen's consent names, guides of such an organisation
    whose caseload holds the citizen (else 404, logged)."""
    await citizen_in_consent(runtime, caller, citizen_id, fields=("preferences",), purpose="record preferences")
    with _refusals():
        async with runtime.unit_of_work() as uow:
            await citizens.set_preferences(uow, citizen_id, body.to_domain())
    return {"citizen_id": str(citizen_id), "preferences": body.model_dump()}


@router.get("/gaps", tags=["matching"])
async def gaps(min_citizens: int = Query(MIN_CELL, ge=1, description=f"hide areas with fewer waiting citizens than "
                                         f"this; never below {MIN_CELL} (a lower value counts as {MIN_CELL})"),
               caller: Caller = Depends(requires(Role.steering, Role.coordinator)),
               runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """Where offers are missing: interests waiting citizens of an area share that no activity they could join serves.
    Counts only, every cell of fewer than `min_citizens` (at least 5) citizens suppressed.
    Steering of any trusted organisation; coordinators of this instance's organisation."""
    if not caller.has(Role.steering):
        own_organisation(caller, runtime, "this organisation's gap report")
    threshold = max(MIN_CELL, min_citizens)
    async with runtime.db.sessions() as session:
        found = await groups.find_gaps(session, runtime.settings.org_id)
    shown = [g for g in found if g.waiting >= threshold]
    return {"min_citizens": threshold, "suppressed_cells": len(found) - len(shown),
            "gaps": [{"interest": g.interest, "postal_code": g.postal_code, "waiting_citizens": g.waiting} for g in shown]}


@router.get("/proposals", tags=["matching"])
async def list_proposals(response: Response, citizen_id: UUID | None = None, page: Page = Depends(),
                         caller: Caller = Depends(requires(*STAFF)), language: str = Depends(reader_language),
                         runtime: ServiceRuntime = Depends(runtime_of)) -> list[dict[str, Any]]:
    """Proposals and their state, a page at a time (`limit`, `offset`; `X-Next-Offset` names the next page), only of
    citizens whose consent names the caller's organisation (a guide: of their own caseload). Guides and coordinators;
    a `citizen_id` the caller may not see answers an empty list, and the refusal is logged. Reasons are rendered in
    the `Accept-Language` (da, sv, en; default the instance's REASONS_LANGUAGE), with their codes in `reason_codes`;
    `transport_need` is what the guide must arrange, `cost_dkk` what the citizen pays."""
    if citizen_id is not None and await visible_citizen(runtime, caller, citizen_id, fields=("proposals",),
                                                        purpose="proposals") is None:
        return []  # the same as for a citizen without proposals: a list never tells whom the caller may not open
    query = (sa.select(proposals).where(proposals.c.citizen_id.in_(visible_citizens(caller)))
             .order_by(proposals.c.proposed_at, proposals.c.proposal_id))
    if citizen_id is not None:
        query = query.where(proposals.c.citizen_id == str(citizen_id))
    rows = page.cut(await _rows(runtime, page.apply(query)), response)
    if citizen_id is None:
        await log_reads(runtime, caller, (r["citizen_id"] for r in rows), fields=("proposals",), purpose="proposals")
    return [_shown_proposal(r, language) for r in rows]


def _shown_proposal(row: dict[str, Any], language: str) -> dict[str, Any]:
    """A proposal row with its reasons in the reader's language (rows from before codes keep their text)."""
    stored = row["reasons"]
    codes = [r for r in stored if isinstance(r, dict)]
    return row | {"reasons": render_all(stored, language), "reason_codes": codes or None}


async def _proposal_in_consent(runtime: ServiceRuntime, caller: Caller, proposal_id: UUID, purpose: str) -> None:
    """404 for a proposal that does not exist or whose citizen's consent does not name the caller's organisation."""
    async with runtime.db.sessions() as session:
        row = await repo.proposal(session, proposal_id)
    if row is None:
        raise refusal(404, "not_found", f"no proposal {proposal_id}")
    try:
        await citizen_in_consent(runtime, caller, UUID(row.citizen_id), fields=("proposals",), purpose=purpose)
    except HTTPException as exc:
        raise refusal(404, "not_found", f"no proposal {proposal_id}") from exc


@router.post("/proposals/{proposal_id}/accept", tags=["matching"])
async def accept(proposal_id: UUID, caller: Caller = Depends(requires(*STAFF)),
                 runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """The citizen accepts: publishes `MatchAccepted`; the candidate's slot stays reserved.
    Coordinators of an organisation the citizen's consent names, guides of such an organisation
    whose caseload holds the citizen (else 404, logged)."""
    await _proposal_in_consent(runtime, caller, proposal_id, "accept proposal")
    with _refusals():
        async with runtime.unit_of_work() as uow:
            event = await decisions.accept(uow, proposal_id)
    return readable(event)


@router.post("/proposals/{proposal_id}/decline", tags=["matching"])
async def decline(proposal_id: UUID, body: DeclineIn | None = None, caller: Caller = Depends(requires(*STAFF)),
                  runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """The citizen declines: publishes `MatchDeclined`, frees the slot and proposes the next candidate.
    Coordinators of an organisation the citizen's consent names, guides of such an organisation
    whose caseload holds the citizen (else 404, logged)."""
    await _proposal_in_consent(runtime, caller, proposal_id, "decline proposal")
    reason = (body or DeclineIn()).reason
    with _refusals():
        async with runtime.unit_of_work() as uow:
            declined, following = await decisions.decline(uow, proposal_id, reason)
    return {"declined": readable(declined),
            "next_proposal": readable(following) if following else None}


@router.post("/assignments/run", tags=["matching"])
async def run_assignment(caller: Caller = Depends(requires(Role.coordinator)),
                         runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """Assign waiting citizens to volunteer friends at once, maximising total match quality under capacities.
    Coordinators of this instance's organisation."""
    own_organisation(caller, runtime, "the batch assignment")
    async with runtime.unit_of_work() as uow:
        made = await assignment.assign_waiting_citizens(uow)
    return {"proposed": len(made), "proposals": [readable(e) for e in made]}


class GroupRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    interests: InterestWords
    """What the citizen would like a new group for: words in Danish, Swedish or English, or codes."""


@router.post("/citizens/{citizen_id}/group-request", status_code=202, tags=["matching"])
async def request_group(citizen_id: UUID, body: GroupRequestIn, caller: Caller = Depends(requires(*STAFF)),
                        runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """The citizen (with the guide) asks for a new group rather than an existing activity: kept, and a group is
    proposed (`GroupProposed`) as soon as nearby citizens want the same, now or when they come. Coordinators of an
    organisation the citizen's consent names, guides of such an organisation whose caseload holds the citizen
    (else 404, logged); 409 for a citizen not yet clarified."""
    await citizen_in_consent(runtime, caller, citizen_id, fields=("needs",), purpose="request a new group")
    proposed = []
    async with runtime.unit_of_work() as uow:
        row = await repo.citizen_row(uow.session, citizen_id)
        profile = repo.profile_of(row) if row is not None else None
        if profile is None or runtime.settings.org_id not in profile.consented_orgs:
            raise refusal(409, "not_clarified", f"citizen {citizen_id} has no clarification here yet")
        for interest in body.interests:
            event = await groups.request_group(uow, profile, interest)
            if event is not None:
                proposed.append(event)
    return {"citizen_id": str(citizen_id), "interests": list(body.interests),
            "group_proposals": [readable(e) for e in proposed]}
