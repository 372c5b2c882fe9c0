"""Subject access (GDPR art. 15): what this service holds about one citizen, as JSON.

Each service registers one provider with its runtime:

    @runtime.provides_personal_data
    async def personal_data(session, citizen_id, org) -> dict | None: ...

returning what it holds about the citizen (None: nothing, or the citizen's consent
does not name this organisation). The runtime serves it, with the service's access-log
entries about the citizen, at `GET /citizens/{id}/personal-data` to referral's service
client (which assembles the whole report) and to the coordinators of the organisation
running the instance; every answer is itself written to the access log.

`gather(...)` is referral's side: each other service's part fetched over HTTP with
referral's service token; a service that does not answer is reported as unavailable
instead of failing the whole report.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession

from brobygger_runtime import access_log
from brobygger_runtime.auth.caller import Caller
from brobygger_runtime.auth.roles import Role
from brobygger_runtime.auth.route_guard import refusal, require_own_organisation, requires
from brobygger_runtime.http import runtime_of

PersonalData = Callable[[AsyncSession, str, str], Awaitable[dict[str, Any] | None]]
"""(session, citizen id, the organisation running this instance) -> what is held, or None."""

REPORT_CLIENT = "brobygger-referral"
"""The service client that may ask every service for its part: referral's."""

LOG_ENTRIES = 5000
"""At most this many access-log entries in one part (newest first)."""

PURPOSE = "subject-access report"


def as_json(rows: Any) -> list[dict[str, Any]]:
    """Table rows as JSON objects (times in ISO 8601), for a provider's answer."""
    return [{k: v.isoformat() if isinstance(v, datetime) else v for k, v in row._mapping.items()} for row in rows]


async def rows_about(session: AsyncSession, table: Any, column: str, value: Any) -> list[dict[str, Any]]:
    """Every row of `table` whose `column` is `value`, as JSON objects."""
    return as_json((await session.execute(sa.select(table).where(table.c[column] == str(value)))).all())


async def part(runtime: Any, caller: Caller, citizen_id: str) -> dict[str, Any] | None:
    """This service's part of the report (None: it holds nothing about the citizen); logged."""
    provider: PersonalData | None = runtime.personal_data
    async with runtime.db.transaction() as session:
        held = await provider(session, citizen_id, runtime.settings.org_id) if provider else None
        await access_log.record(session, runtime.tables.access_log, caller, citizen_id, fields=("personal_data",),
                                purpose=PURPOSE, allowed=held is not None)
        if held is None:
            return None
        log = await access_log.entries(session, runtime.tables.access_log, citizen_id, limit=LOG_ENTRIES)
    s = runtime.settings
    return {"service": s.service_name, "organisation": s.org_id, "citizen_id": citizen_id,
            "generated_at": datetime.now(UTC).isoformat(), "holds": held, "access_log": log}


def router() -> APIRouter:
    routes = APIRouter(tags=["subject access"])

    @routes.get("/citizens/{citizen_id}/personal-data")
    async def personal_data(
        citizen_id: str,
        caller: Caller = Depends(requires(Role.service, Role.coordinator)),  # noqa: B008
        runtime: Any = Depends(runtime_of),  # noqa: B008
    ) -> dict[str, Any]:
        """Everything this service holds about the citizen, with its access log: for referral's
        service (the subject-access report) and the coordinators of the organisation running
        this instance. 404 when it holds nothing or the citizen's consent does not name it."""
        if caller.is_service:
            if caller.client_id != REPORT_CLIENT:
                raise refusal(403, "not_the_report_service", f"only {REPORT_CLIENT} assembles subject-access reports")
        else:
            require_own_organisation(caller, runtime.settings.org_id,
                                     f"this copy belongs to {runtime.settings.org_id}'s coordinators", error="not_data_owner")
        found = await part(runtime, caller, citizen_id)
        if found is None:
            raise refusal(404, "not_found", f"{runtime.settings.service_name} holds nothing about citizen {citizen_id}")
        return found

    return routes


def parse_services(setting: str) -> dict[str, str]:
    """`journey=http://journey:8003,matching@red-cross=https://...` -> {label: base URL}."""
    services: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in setting.split(","))):
        label, sep, url = item.partition("=")
        if not sep or not label.strip() or not url.strip().startswith(("http://", "https://")):
            raise ValueError(f"SUBJECT_ACCESS_SERVICES: {item!r} is not label=http(s)://host")
        services[label.strip()] = url.strip().rstrip("/")
    return services


async def gather(services: dict[str, str], citizen_id: str, auth: httpx.Auth | None,
                 timeout: float = 10.0) -> dict[str, dict[str, Any]]:
    """Each service's part, asked all at once: `{label: {"status": "answered", "part": ...}}`,
    `"holds nothing"` (404) or `"unavailable"` with the reason (no answer, or an error)."""

    async def ask(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
        try:
            response = await client.get(f"{url}/citizens/{citizen_id}/personal-data")
        except (httpx.HTTPError, OSError) as exc:
            return {"status": "unavailable", "reason": type(exc).__name__}
        if response.status_code == 404:
            return {"status": "holds nothing"}
        if response.status_code != 200:
            return {"status": "unavailable", "reason": f"answered {response.status_code}"}
        return {"status": "answered", "part": response.json()}

    async with httpx.AsyncClient(timeout=timeout, auth=auth, follow_redirects=False) as client:
        answers = await asyncio.gather(*(ask(client, url) for url in services.values()))
    return dict(zip(services, answers))
