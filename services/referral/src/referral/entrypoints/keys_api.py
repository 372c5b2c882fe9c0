"""The citizen key endpoint: services of consented organisations get the data keys that open
citizens' sealed fields (DESIGN.md section 2)."""

from __future__ import annotations

import base64
import uuid

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from brobygger_runtime.auth import Caller, Role, requires
from referral.entrypoints.auth import AccessDep, Runtime
from referral.service_layer import keys

router = APIRouter(tags=["citizen keys"])


class KeysIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    citizen_ids: list[uuid.UUID] = Field(min_length=1, max_length=500)
    """The citizens whose data keys the calling service needs (at most 500 a call)."""


class KeysOut(BaseModel):
    keys: dict[str, str]
    """Citizen id -> the citizen's 256-bit AES data key, base64."""
    withheld: list[str]
    """Citizens whose key this organisation may not have; why is not said."""


@router.post("/citizen-keys", response_model=KeysOut)
async def citizen_keys(
    body: KeysIn, runtime: Runtime, access: AccessDep,
    caller: Caller = Depends(requires(Role.service)),  # noqa: B008
) -> KeysOut:
    """The data keys of the citizens whose current consent names the calling service's organisation
    (the owning organisation: every citizen not erased). Every other id, unknown and erased ones
    too, is `withheld`. Each hand-out and each withholding is written to the citizen's access log."""
    async with runtime.unit_of_work() as uow:
        found = await keys.hand_out(uow, [str(c) for c in body.citizen_ids], caller, access.partnership)
    return KeysOut(keys={c: base64.b64encode(k).decode() for c, k in found.keys.items()}, withheld=found.withheld)
