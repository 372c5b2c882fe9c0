"""The volunteer lifecycle's HTTP routes (included by matching's router; README's API table says who may call).

Coordinators of this instance's organisation record every step; a volunteer (role `volunteer` of this
organisation whose token's `sub` is their `account`) applies, reads their own record and pauses or resumes
themself. A coordinator or volunteer of another organisation is refused with 403 as on the other volunteer
routes; a volunteer asking for someone else's record gets 404, as for a volunteer nobody knows.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from datetime import date
from typing import Any, Iterator
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy.ext.asyncio import AsyncSession

from brobygger_contracts.sealed import readable
from brobygger_runtime.auth import Caller, Role, requires
from brobygger_runtime.auth.route_guard import refusal
from brobygger_runtime.http import runtime_of
from brobygger_runtime.service import ServiceRuntime
from matching.adapters import repository as repo
from matching.domain.model import CitizenProfile
from matching.domain.scoring import assess_all
from matching.entrypoints.access import log_reads, own_organisation
from matching.service_layer.errors import NotFound, Refused
from matching.volunteering import lifecycle, service, store
from matching.volunteering.lifecycle import LifecycleRules, VolunteerRecord
from matching.volunteering.schemas import (
    ApplicationIn, ConfidentialityIn, InterviewIn, PauseIn, SupervisionIn, TrainingIn, VettingIn,
)
from matching.volunteering.service import InvalidStep, VettingSeen
from matching.volunteering.settings import rules_of

router = APIRouter(tags=["volunteers"])

REGISTRY = "the volunteer registry"
RECORD_FIELDS = ("profile", "roles", "lifecycle steps", "vetting dates", "trainings", "pauses", "supervision")


@contextmanager
def step_refusals() -> Iterator[None]:
    """404 for an unknown volunteer, 422 for a step whose data does not hold together, 409 for a rule."""
    try:
        yield
    except NotFound as exc:
        raise HTTPException(404, detail=str(exc)) from exc
    except InvalidStep as exc:
        raise HTTPException(422, detail=str(exc)) from exc
    except Refused as exc:
        raise HTTPException(409, detail=str(exc)) from exc


async def _own_volunteer(runtime: ServiceRuntime, caller: Caller) -> UUID:
    """The volunteer whose account the caller is, or 404."""
    own_organisation(caller, runtime, REGISTRY)
    async with runtime.db.sessions() as session:
        mine = await service.volunteer_of_account(session, caller.subject)
    if mine is None:
        raise refusal(404, "not_found", f"no volunteer of {runtime.settings.org_id} has the account {caller.subject}")
    return mine


async def self_or_coordinator(runtime: ServiceRuntime, caller: Caller, volunteer_id: UUID) -> None:
    """A coordinator of this organisation, or the volunteer themself; any other volunteer of it gets 404."""
    own_organisation(caller, runtime, REGISTRY)
    if caller.has(Role.coordinator):
        return
    if await _own_volunteer(runtime, caller) != volunteer_id:
        raise refusal(404, "not_found", f"no volunteer {volunteer_id} you may see")


def _rules(runtime: ServiceRuntime) -> LifecycleRules:
    return rules_of(runtime.settings)


async def not_ready_volunteers(session: AsyncSession, citizen: CitizenProfile, rules: LifecycleRules,
                               language: str) -> list[dict[str, Any]]:
    """The volunteers not proposed today because of their lifecycle, as `GET /citizens/{id}/candidates` shows
    excluded candidates: judged like the others, with `not_ready` naming what blocks each role."""
    _ready, unready = await repo.volunteer_pool(session, rules)
    blocked = {candidate.candidate_id: found for candidate, found in unready}
    shown = []
    for a in assess_all(citizen, [candidate for candidate, _ in unready], language=language):
        why = "; ".join(f"{role.value}: {', '.join(b.value for b in found)}"
                        for role, found in blocked[a.candidate.candidate_id].items())
        shown.append({"candidate_id": str(a.candidate.candidate_id), "name": None, "eligible": False,
                      "score": a.score, "distance_km": a.distance_km, "reasons": a.reasons,
                      "reason_codes": [r.as_json() for r in a.reason_codes],
                      "excluded_because": {e.value: text for e, text in a.exclusions.items()}
                      | {"not_ready": f"not proposed until ready ({why})"}})
    return shown


# -- reading ------------------------------------------------------------------------------------------

@router.get("/volunteers/me")
async def my_record(caller: Caller = Depends(requires(Role.volunteer)),
                    runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """The logged-in volunteer's own record (as `GET /volunteers/{id}`). Volunteers of this organisation
    whose account is their token's `sub`; 404 when none is."""
    return await _record(runtime, caller, await _own_volunteer(runtime, caller))


@router.get("/volunteers/report")
async def volunteer_report(caller: Caller = Depends(requires(Role.coordinator, Role.steering)),
                           runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """The coordinator's report: volunteers by status, vetting or training expiring within 30 days (ids, what,
    when), supervision overdue, average days from application to the first accepted match, and the friendship
    figures (hours given in logged meetings, friendships in all and ongoing, and how many lasted 3, 6 and 12 months).
    Coordinators of this organisation; steering of any trusted organisation gets the counts only."""
    full = caller.has(Role.coordinator) and caller.organisation == runtime.settings.org_id
    if not full and not caller.has(Role.steering):
        own_organisation(caller, runtime, "this organisation's volunteer report")
    async with runtime.db.sessions() as session:
        summary, friendships = await service.report(session, runtime.settings.org_id, _rules(runtime))
    counts = {
        "org": runtime.settings.org_id, "by_status": summary.by_status, "expiring_within_30_days": len(summary.expiring),
        "supervision_overdue": len(summary.supervision_overdue),
        "days_from_application_to_first_match": summary.days_to_first_match,
        "volunteers_matched": summary.matched_volunteers,
        "friendships": friendships,
    }
    if not full:
        return counts
    return counts | {
        "expiring": [{"volunteer_id": str(e.volunteer_id), "what": e.what, "code": e.code,
                      "expires_on": e.expires_on.isoformat()} for e in summary.expiring],
        "supervision_overdue_volunteers": [
            {"volunteer_id": str(o.volunteer_id),
             "last_supervised_on": o.last_supervised_on.isoformat() if o.last_supervised_on else None}
            for o in summary.supervision_overdue],
    }


@router.get("/volunteers/{volunteer_id}")
async def volunteer_record(volunteer_id: UUID, caller: Caller = Depends(requires(Role.coordinator, Role.volunteer)),
                           runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """One volunteer's full record: profile, roles, every step with its date and who recorded it, the computed
    `status` (applied, interviewed, rejected, ready, paused, retired), per role what blocks proposing them
    (`blockers`), and `flags` (supervision_overdue). Coordinators of this organisation; the volunteer themself."""
    await self_or_coordinator(runtime, caller, volunteer_id)
    return await _record(runtime, caller, volunteer_id)


async def _record(runtime: ServiceRuntime, caller: Caller, volunteer_id: UUID) -> dict[str, Any]:
    async with runtime.db.sessions() as session:
        found = await store.record_of(session, volunteer_id)
        if found is None or found[0].org != runtime.settings.org_id:
            raise refusal(404, "not_found", f"no volunteer {volunteer_id}")
        row, record = found
        steps = await store.steps_of(session, volunteer_id)
    await log_reads(runtime, caller, [volunteer_id], fields=RECORD_FIELDS, purpose="volunteer record")
    return shown_record(row, record, steps, service.today(), _rules(runtime))


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def shown_record(row: Any, record: VolunteerRecord, steps: list[Any], today: date,
                 rules: LifecycleRules) -> dict[str, Any]:
    vetting = lifecycle.current_vetting(record)
    return {
        "volunteer_id": row.volunteer_id, "org": row.org, "account": row.account,
        "roles": sorted(r.value for r in record.roles),
        "status": lifecycle.status(record, today, rules).value,
        "ready_roles": sorted(r.value for r in lifecycle.ready_roles(record, today, rules)),
        "blockers": {role.value: [b.value for b in found]
                     for role, found in lifecycle.blockers_by_role(record, today, rules).items()},
        "missing_courses": {role.value: lifecycle.missing_courses(record, role, today, rules)
                            for role in sorted(record.roles)},
        "flags": {"supervision_overdue": lifecycle.supervision_overdue(record, today, rules)},
        "applied_on": _day(record.applied_on), "approved_on": _day(lifecycle.approved_on(record)),
        "vetting": None if vetting is None else {"kind": vetting.kind.value, "seen_on": _day(vetting.seen_on),
                                                 "expires_on": _day(vetting.expires_on),
                                                 "valid": lifecycle.vetted(record, today)},
        "confidentiality_signed_on": _day(record.confidentiality_signed_on),
        "trainings": [{"course": t.course, "completed_on": _day(t.completed_on), "expires_on": _day(t.expires_on)}
                      for t in record.trainings],
        "pauses": [{"from": _day(p.starts_on), "until": _day(p.ends_on), "reason": p.reason.value}
                   for p in record.pauses],
        "paused": lifecycle.paused(record, today),
        "last_supervised_on": _day(lifecycle.last_supervised(record)),
        "retired_at": row.retired_at.isoformat() if row.retired_at else None, "retired_reason": row.retired_reason,
        "profile": {"interests": row.interests, "languages": row.languages, "postal_code": row.postal_code,
                    "max_travel_km": row.max_travel_km, "capacity": row.capacity, "availability": row.availability,
                    "traits": row.traits},
        "steps": [{"step": s.step, "on": _day(s.happened_on), "until": _day(s.valid_until), "code": s.code,
                   "recorded_by": s.recorded_by, "recorded_at": s.recorded_at.isoformat()} for s in steps],
    }


# -- steps --------------------------------------------------------------------------------------------

@router.post("/volunteers/applications", status_code=201)
async def apply(body: ApplicationIn, caller: Caller = Depends(requires(Role.volunteer, Role.coordinator)),
                runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """A volunteer applies: the profile they offer and their roles; status `applied`, proposed to nobody until
    approved, vetted, signed and trained. The volunteer themself (their account is the token's `sub`) or a
    coordinator on their behalf (optional `account`); both of this organisation. Publishes `VolunteerRegistered`
    (trained false)."""
    own_organisation(caller, runtime, REGISTRY)
    account = body.account
    if not caller.has(Role.coordinator):
        if account not in (None, caller.subject):
            raise refusal(403, "not_your_account", "a volunteer applies for themself: account is your token's sub")
        account = caller.subject
    volunteer = body.model_copy(update={"account": account}).to_domain(
        runtime.settings.org_id, body.volunteer_id or uuid.uuid4())
    with step_refusals():
        async with runtime.unit_of_work() as uow:
            event = await service.apply(uow, volunteer, caller.subject)
    return readable(event) | {"status": lifecycle.Status.applied.value, "roles": list(volunteer.roles),
                              "account": account}


@router.post("/volunteers/supervision-sessions", status_code=201)
async def supervision_session(body: SupervisionIn, caller: Caller = Depends(requires(Role.coordinator)),
                              runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """A supervision session (handledning: group or individual) with who attended. Coordinators of this
    organisation; every attendee must be a volunteer of it (else 404)."""
    own_organisation(caller, runtime, REGISTRY)
    with step_refusals():
        async with runtime.unit_of_work() as uow:
            session_id = await service.supervise(uow, body.held_on, body.kind, body.attendees, caller.subject)
    return {"session_id": str(session_id), "held_on": body.held_on.isoformat(), "kind": body.kind.value,
            "attendees": [str(a) for a in dict.fromkeys(body.attendees)]}


@router.post("/volunteers/{volunteer_id}/interview")
async def interview(volunteer_id: UUID, body: InterviewIn, caller: Caller = Depends(requires(Role.coordinator)),
                    runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """The interview's date and outcome (approved or rejected). Coordinators of this organisation."""
    own_organisation(caller, runtime, REGISTRY)
    with step_refusals():
        async with runtime.unit_of_work() as uow:
            await service.interview(uow, volunteer_id, body.held_on, body.outcome, caller.subject)
    return await _after_step(runtime, volunteer_id)


@router.post("/volunteers/{volunteer_id}/vetting")
async def vetting(volunteer_id: UUID, body: VettingIn, caller: Caller = Depends(requires(Role.coordinator)),
                  runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """That a criminal-record extract (DK straffeattest / børneattest) or a belastningsregister extract (SE) was
    seen: kind, the day seen and when it stops counting (default seen_on + VETTING_VALID_MONTHS). Only the fact
    and the dates are kept, never the document. Coordinators of this organisation."""
    own_organisation(caller, runtime, REGISTRY)
    seen = VettingSeen(body.kind, body.seen_on, body.expires_on)
    with step_refusals():
        async with runtime.unit_of_work() as uow:
            await service.vet(uow, volunteer_id, seen, caller.subject, _rules(runtime))
    return await _after_step(runtime, volunteer_id)


@router.post("/volunteers/{volunteer_id}/confidentiality")
async def confidentiality(volunteer_id: UUID, body: ConfidentialityIn,
                          caller: Caller = Depends(requires(Role.coordinator)),
                          runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """The day the volunteer signed the confidentiality agreement. Coordinators of this organisation."""
    own_organisation(caller, runtime, REGISTRY)
    with step_refusals():
        async with runtime.unit_of_work() as uow:
            await service.sign_confidentiality(uow, volunteer_id, body.signed_on, caller.subject)
    return await _after_step(runtime, volunteer_id)


@router.post("/volunteers/{volunteer_id}/training")
async def training(volunteer_id: UUID, body: TrainingIn, caller: Caller = Depends(requires(Role.coordinator)),
                   runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """A course completed (its code, the day, an optional expiry); a role requires the courses
    ROLE_REQUIRED_COURSES names. Publishes `VolunteerRegistered` when the volunteer becomes (or stops being)
    trained for their roles. Coordinators of this organisation."""
    own_organisation(caller, runtime, REGISTRY)
    with step_refusals():
        async with runtime.unit_of_work() as uow:
            await service.complete_training(uow, volunteer_id, body.course, body.completed_on, body.expires_on,
                                            caller.subject, _rules(runtime))
    return await _after_step(runtime, volunteer_id)


@router.post("/volunteers/{volunteer_id}/pause")
async def pause(volunteer_id: UUID, body: PauseIn,
                caller: Caller = Depends(requires(Role.coordinator, Role.volunteer)),
                runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """A pause (`from`, optional `until`, reason holiday, illness or other): while today falls within it the
    volunteer is proposed to nobody. The volunteer themself or a coordinator of this organisation."""
    await self_or_coordinator(runtime, caller, volunteer_id)
    with step_refusals():
        async with runtime.unit_of_work() as uow:
            await service.pause(uow, volunteer_id, body.starts_on, body.until, body.reason, caller.subject)
    return await _after_step(runtime, volunteer_id)


@router.post("/volunteers/{volunteer_id}/resume")
async def resume(volunteer_id: UUID, caller: Caller = Depends(requires(Role.coordinator, Role.volunteer)),
                 runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """The volunteer is back from today: pauses not over end yesterday, planned ones are cancelled. The volunteer
    themself or a coordinator of this organisation; resuming with no pause to end changes nothing."""
    await self_or_coordinator(runtime, caller, volunteer_id)
    with step_refusals():
        async with runtime.unit_of_work() as uow:
            ended = await service.resume(uow, volunteer_id, caller.subject)
    return await _after_step(runtime, volunteer_id) | {"resumed": ended}


async def _after_step(runtime: ServiceRuntime, volunteer_id: UUID) -> dict[str, Any]:
    """What the step changed: the volunteer's status, ready roles and blockers now."""
    async with runtime.db.sessions() as session:
        _row, record = await store.record_of(session, volunteer_id)
    today, rules = service.today(), _rules(runtime)
    return {"volunteer_id": str(volunteer_id), "status": lifecycle.status(record, today, rules).value,
            "ready_roles": sorted(r.value for r in lifecycle.ready_roles(record, today, rules)),
            "blockers": {role.value: [b.value for b in found]
                         for role, found in lifecycle.blockers_by_role(record, today, rules).items()}}

