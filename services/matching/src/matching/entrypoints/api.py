"""Matching's HTTP API: registries, the taxonomy, candidates with reasons, proposals and decisions."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from typing import Any, Iterator
from uuid import UUID

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Query, Request

from brobygger_runtime.http import runtime_of
from brobygger_runtime.service import ServiceRuntime
from matching.adapters import repository as repo
from matching.adapters.tables import activities, proposals, volunteers
from matching.domain import taxonomy
from matching.domain.model import Kind
from matching.domain.scoring import assess_all
from matching.entrypoints import csv_import
from matching.entrypoints.schemas import ActivityIn, DeclineIn, PreferencesIn, RetireIn, VolunteerIn
from matching.service_layer import assignment, citizens, decisions, groups, registry
from matching.service_layer.errors import NotFound, Refused

router = APIRouter()


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
async def interests() -> list[dict[str, Any]]:
    """The interest taxonomy: canonical codes with their names in English, Danish and Swedish."""
    return [{"code": i.code, "labels": i.labels, "words": list(i.words)} for i in taxonomy.INTERESTS]


@router.post("/volunteers", status_code=201, tags=["registry"])
async def register_volunteer(body: VolunteerIn, runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """Register (or update) a volunteer friend of this organisation; publishes `VolunteerRegistered`.

    Registering a retired volunteer again brings them back (active).
    """
    volunteer = body.to_domain(runtime.settings.org_id, body.volunteer_id or uuid.uuid4())
    async with runtime.unit_of_work() as uow:
        event = await registry.register_volunteer(uow, volunteer)
    return event.model_dump(mode="json")


@router.get("/volunteers", tags=["registry"])
async def list_volunteers(active: bool | None = Query(None, description="only active (true) or retired (false) volunteers"),
                          runtime: ServiceRuntime = Depends(runtime_of)) -> list[dict[str, Any]]:
    """The volunteers of this organisation; a retired one has `active` false, `retired_at` and `retired_reason`."""
    query = sa.select(volunteers).order_by(volunteers.c.registered_at)
    if active is not None:
        query = query.where(volunteers.c.retired_at.is_(None) if active else volunteers.c.retired_at.is_not(None))
    return [{**row, "active": row["retired_at"] is None} for row in await _rows(runtime, query)]


@router.post("/volunteers/{volunteer_id}/retire", tags=["registry"])
async def retire_volunteer(volunteer_id: UUID, body: RetireIn | None = None,
                           runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """The volunteer stops (body `{"reason": "moved" | "no_time" | "health" | "other"}`, optional).

    Publishes `VolunteerRegistered` with `active` false; every pending proposal to them is withdrawn and
    every accepted match with them ends (`MatchDeclined`, `candidate_unavailable`), and those citizens are
    proposed their next best candidate. Retiring again answers the same and publishes nothing;
    `POST /volunteers` with their id brings them back.
    """
    reason = (body or RetireIn()).reason
    with _refusals():
        async with runtime.unit_of_work() as uow:
            retired = await registry.retire_volunteer(uow, volunteer_id, reason)
    retirement = retired.volunteer.retirement
    return {
        "volunteer_id": str(volunteer_id), "active": False, "retired_at": retirement.at.isoformat(),
        "reason": retirement.reason.value, "already_retired": retired.already,
        "declined": [e.model_dump(mode="json") for e in retired.declined],
        "next_proposals": [e.model_dump(mode="json") for e in retired.proposed],
    }


@router.post("/activities", status_code=201, tags=["registry"])
async def publish_activity(body: ActivityIn, runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """Publish (or update) an activity or group; publishes `ActivityPublished`."""
    activity = body.to_domain(runtime.settings.org_id, body.activity_id or uuid.uuid4())
    async with runtime.unit_of_work() as uow:
        event = await registry.publish_activity(uow, activity)
    return event.model_dump(mode="json")


@router.post("/activities/import", tags=["registry"],
             openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}, "required": True}})
async def import_activities(request: Request, runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """Import activities from a spreadsheet's CSV (comma or semicolon separated).

    Valid rows are published; each invalid row is reported with its line number, field and reason.
    """
    text = (await request.body()).decode("utf-8-sig", errors="replace")
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
async def list_activities(runtime: ServiceRuntime = Depends(runtime_of)) -> list[dict[str, Any]]:
    return await _rows(runtime, sa.select(activities).order_by(activities.c.published_at))


@router.get("/citizens/{citizen_id}/candidates", tags=["matching"])
async def candidates(citizen_id: UUID, kind: Kind = Query(Kind.volunteer_friend),
                     runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """Every candidate of one kind judged for the citizen: score and reasons, or why it is excluded."""
    async with runtime.db.sessions() as session:
        row = await repo.citizen_row(session, citizen_id)
        profile = repo.profile_of(row) if row is not None else None
        if profile is None or runtime.settings.org_id not in profile.consented_orgs:
            raise HTTPException(404, detail=f"no clarified citizen {citizen_id} whose consent names {runtime.settings.org_id}")
        earlier = frozenset(UUID(p.candidate_id) for p in await repo.proposals_of(session, citizen_id) if p.kind == kind.value)
        judged = assess_all(profile, await repo.candidates(session, kind), exclude=earlier,
                            language=runtime.settings.reasons_language)
    return {
        "citizen_id": str(citizen_id),
        "kind": kind.value,
        "candidates": [
            {"candidate_id": str(a.candidate.candidate_id), "name": a.candidate.name, "eligible": a.eligible,
             "score": a.score, "distance_km": a.distance_km, "reasons": a.reasons,
             "excluded_because": {e.value: why for e, why in a.exclusions.items()}}
            for a in judged
        ],
    }


@router.put("/citizens/{citizen_id}/preferences", tags=["matching"])
async def set_preferences(citizen_id: UUID, body: PreferencesIn, runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """Record what the citizen would like in a volunteer friend (gender, non-smoker, no pets, similar age)."""
    with _refusals():
        async with runtime.unit_of_work() as uow:
            await citizens.set_preferences(uow, citizen_id, body.to_domain())
    return {"citizen_id": str(citizen_id), "preferences": body.model_dump()}


@router.get("/gaps", tags=["matching"])
async def gaps(runtime: ServiceRuntime = Depends(runtime_of)) -> list[dict[str, Any]]:
    """Where offers are missing: interests waiting citizens of an area share that no activity they could join serves."""
    async with runtime.db.sessions() as session:
        found = await groups.find_gaps(session, runtime.settings.org_id)
    return [{"interest": g.interest, "postal_code": g.postal_code, "waiting_citizens": g.waiting} for g in found]


@router.get("/proposals", tags=["matching"])
async def list_proposals(citizen_id: UUID | None = None, runtime: ServiceRuntime = Depends(runtime_of)) -> list[dict[str, Any]]:
    query = sa.select(proposals).order_by(proposals.c.proposed_at)
    if citizen_id is not None:
        query = query.where(proposals.c.citizen_id == str(citizen_id))
    return await _rows(runtime, query)


@router.post("/proposals/{proposal_id}/accept", tags=["matching"])
async def accept(proposal_id: UUID, runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """The citizen accepts: publishes `MatchAccepted`; the candidate's slot stays reserved."""
    with _refusals():
        async with runtime.unit_of_work() as uow:
            event = await decisions.accept(uow, proposal_id)
    return event.model_dump(mode="json")


@router.post("/proposals/{proposal_id}/decline", tags=["matching"])
async def decline(proposal_id: UUID, body: DeclineIn | None = None,
                  runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """The citizen declines: publishes `MatchDeclined`, frees the slot and proposes the next candidate."""
    reason = (body or DeclineIn()).reason
    with _refusals():
        async with runtime.unit_of_work() as uow:
            declined, following = await decisions.decline(uow, proposal_id, reason)
    return {"declined": declined.model_dump(mode="json"),
            "next_proposal": following.model_dump(mode="json") if following else None}


@router.post("/assignments/run", tags=["matching"])
async def run_assignment(runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """Assign waiting citizens to volunteer friends at once, maximising total match quality under capacities."""
    async with runtime.unit_of_work() as uow:
        made = await assignment.assign_waiting_citizens(uow)
    return {"proposed": len(made), "proposals": [e.model_dump(mode="json") for e in made]}
