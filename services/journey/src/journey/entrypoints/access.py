"""Who may see and act on which journey (DESIGN.md section 9), decided at the HTTP edge.

Consent decides the organisation: a caller of organisation O reaches citizen C only if C's
current consent names O (and names the organisation running this instance: otherwise the
journey is hidden). The role decides the rest: a guide reaches the journeys of their own
caseload (guide_id == the token's subject, the guide being of this instance's organisation),
a coordinator every journey their organisation may see. Anything else is answered 404, as if
the citizen did not exist, and the refusal goes to the access log."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from fastapi import HTTPException

from brobygger_runtime import access_log
from brobygger_runtime.auth import Caller, Role
from brobygger_runtime.service import ServiceRuntime
from brobygger_runtime.unit_of_work import UnitOfWork
from journey.adapters import repository as repo
from journey.domain.errors import NotFound
from journey.service_layer.context import Context

JOURNEY_FIELDS = ("clarification", "barriers", "loneliness", "relatives_involved", "postal_code", "exit")
"""The personal data GET /journeys/{id} shows."""


def consent_of(journey: Any, ctx: Context) -> frozenset[str]:
    """The organisations the citizen's consent names; journeys from before consent was kept: the owner only."""
    return frozenset(journey.consented_orgs) if journey.consented_orgs is not None else frozenset({ctx.org_id})


def may_reach(caller: Caller, ctx: Context, journey: Any) -> bool:
    if journey is None or journey.erased or journey.hidden:
        return False
    if caller.organisation not in consent_of(journey, ctx):
        return False
    if caller.has(Role.coordinator):
        return True
    return caller.has(Role.guide) and caller.organisation == ctx.org_id and journey.guide_id == caller.subject


def is_owner_coordinator(caller: Caller, ctx: Context) -> bool:
    return caller.has(Role.coordinator) and caller.organisation == ctx.org_id


def require_owner_coordinator(caller: Caller, ctx: Context, what: str) -> None:
    """Organisation registries (guides, groups) belong to the coordinators of the instance's organisation."""
    if not is_owner_coordinator(caller, ctx):
        raise HTTPException(403, {"error": "not_registry_owner",
                                  "reason": f"{what} belong to {ctx.org_id}'s coordinators"})


class Refused(NotFound):
    """The caller may not reach this citizen: answered 404 like an unknown one, and logged
    (by the error handler, after the request's transaction has ended)."""

    def __init__(self, caller: Caller, citizen_id: UUID, fields: tuple[str, ...], purpose: str) -> None:
        super().__init__(f"no journey for citizen {citizen_id}")
        self.caller, self.citizen_id, self.fields, self.purpose = caller, citizen_id, fields or ("journey",), purpose


async def log_refusal(runtime: ServiceRuntime, refused: Refused) -> None:
    async with runtime.db.transaction() as session:
        await access_log.record(session, runtime.tables.access_log, refused.caller, refused.citizen_id,
                                fields=refused.fields, purpose=refused.purpose, allowed=False)


async def reachable_journey(uow: UnitOfWork, runtime: ServiceRuntime, ctx: Context, caller: Caller,
                            citizen_id: UUID, *, fields: Iterable[str], purpose: str) -> Any:
    """The citizen's journey if `caller` may reach it, the read of `fields` logged in the caller's
    transaction; otherwise Refused."""
    journey = await repo.journey_by_citizen(uow.session, citizen_id)
    fields = tuple(fields)
    if not may_reach(caller, ctx, journey):
        raise Refused(caller, citizen_id, fields, purpose)
    if fields:
        await access_log.record(uow.session, runtime.tables.access_log, caller, citizen_id, fields=fields,
                                purpose=purpose, allowed=True)
    return journey


def visible_query(query: sa.Select, table: sa.Table) -> sa.Select:
    """Journeys anyone may be shown at all: not erased, not hidden."""
    return query.where(table.c.erased.is_(False), table.c.hidden.is_(False))


def own_work_scope(caller: Caller, ctx: Context, what: str = "tasks") -> str | None:
    """Whose share of this organisation's work (tasks, groups) the caller sees: a guide of this organisation
    their own (their subject: their caseload's tasks, the groups they facilitate), this organisation's
    coordinators all of it (None); it is this organisation's work, so anyone else is refused (403)."""
    if is_owner_coordinator(caller, ctx):
        return None
    if caller.has(Role.guide) and caller.organisation == ctx.org_id:
        return caller.subject
    raise HTTPException(403, {"error": "not_this_organisations_staff",
                              "reason": f"{what} are for {ctx.org_id}'s guides and coordinators"})
