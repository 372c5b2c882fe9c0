"""The citizen's subject-access report: referral's own part and every other service's."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends

from brobygger_runtime import subject_access
from brobygger_runtime.auth import Caller, Role, requires
from brobygger_runtime.auth.route_guard import refusal, require_own_organisation
from referral.entrypoints.auth import Runtime

router = APIRouter(tags=["citizens"])


@router.get("/citizens/{citizen_id}/subject-access")
async def subject_access_report(
    citizen_id: uuid.UUID, runtime: Runtime,
    caller: Caller = Depends(requires(Role.coordinator)),  # noqa: B008
) -> dict[str, Any]:
    """Everything the partnership holds about the citizen, as JSON, for the owning organisation's
    coordinators: referral's part and each service's own answer (`GET /citizens/{id}/personal-data`,
    asked with referral's service token at SUBJECT_ACCESS_SERVICES), each with its access log. A
    service that does not answer is listed as unavailable; one that holds nothing says so."""
    org = runtime.settings.org_id
    require_own_organisation(caller, org, f"only coordinators of {org} request subject-access reports",
                             error="not_data_owner")
    own = await subject_access.part(runtime, caller, str(citizen_id))
    if own is None:
        raise refusal(404, "not_found", f"no citizen {citizen_id}")
    services = subject_access.parse_services(runtime.settings.subject_access_services)
    if services and runtime.service_tokens.configured:
        others = await subject_access.gather(services, str(citizen_id), runtime.service_tokens.httpx_auth())
    else:
        others = {label: {"status": "unavailable", "reason": "referral has no service credentials"} for label in services}
    return {"citizen_id": str(citizen_id), "generated_at": datetime.now(UTC).isoformat(),
            "parts": {"referral": {"status": "answered", "part": own}, **others}}
