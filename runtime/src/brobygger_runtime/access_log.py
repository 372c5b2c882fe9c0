"""The access log every service with personal data keeps (DESIGN.md section 9):
each read of a person's data, refusals included: who (subject, organisation,
roles), which fields, for what purpose, when. It never holds the data itself.

    await access_log.record(session, runtime.tables.access_log, caller, citizen_id,
                            fields=("barriers", "loneliness"), purpose="guide's caseload", allowed=True)

`router()` serves `GET /citizens/{id}/access-log` to the coordinators of the
organisation running the instance (the controller of this copy of the data).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from brobygger_runtime.auth.caller import Caller
from brobygger_runtime.auth.roles import Role
from brobygger_runtime.auth.route_guard import require_own_organisation, requires
from brobygger_runtime.http import runtime_of
from brobygger_runtime.paging import DEFAULT_LIMIT, Limit


async def record(session: AsyncSession, table: sa.Table, caller: Caller, subject_id: Any, *,
                 fields: Iterable[str], purpose: str, allowed: bool) -> None:
    await session.execute(table.insert().values(
        subject_id=str(subject_id)[:200],
        caller=caller.subject[:200],
        organisation=caller.organisation[:100],
        roles=",".join(sorted(caller.roles))[:200],
        fields=",".join(fields)[:500],
        purpose=purpose[:200],
        allowed=allowed,
        at=datetime.now(UTC),
    ))


async def entries(session: AsyncSession, table: sa.Table, subject_id: Any, *, limit: int,
                  before_id: int | None = None) -> list[dict[str, Any]]:
    query = sa.select(table).where(table.c.subject_id == str(subject_id))
    if before_id is not None:
        query = query.where(table.c.id < before_id)
    rows = (await session.execute(query.order_by(table.c.id.desc()).limit(limit))).mappings().all()
    return [
        {"id": r["id"], "at": r["at"].isoformat(), "caller": r["caller"], "organisation": r["organisation"],
         "roles": [x for x in r["roles"].split(",") if x], "fields": [x for x in r["fields"].split(",") if x],
         "purpose": r["purpose"], "allowed": r["allowed"]}
        for r in rows
    ]


def router() -> APIRouter:
    routes = APIRouter(tags=["access log"])

    @routes.get("/citizens/{citizen_id}/access-log")
    async def access_log(
        citizen_id: str,
        limit: Limit = DEFAULT_LIMIT,
        before_id: int | None = Query(None, ge=1, le=2**63 - 1,
                                      description="page on: the previous page's next_before_id"),
        caller: Caller = Depends(requires(Role.coordinator)),  # noqa: B008
        runtime: Any = Depends(runtime_of),  # noqa: B008
    ) -> dict[str, Any]:
        """Who read this citizen's data in this service, newest first (part of the subject-access report).
        For the coordinators of the organisation running this instance."""
        org = runtime.settings.org_id
        require_own_organisation(caller, org, f"this log belongs to {org}'s coordinators", error="not_data_owner")
        async with runtime.db.transaction() as session:
            await record(session, runtime.tables.access_log, caller, citizen_id, fields=("access_log",),
                         purpose="subject-access report", allowed=True)
            found = await entries(session, runtime.tables.access_log, citizen_id, limit=limit, before_id=before_id)
        return {"citizen_id": citizen_id, "entries": found,
                "next_before_id": found[-1]["id"] if len(found) == limit else None}

    return routes
