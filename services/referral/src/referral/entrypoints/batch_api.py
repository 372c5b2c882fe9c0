"""Bulk intake: referrals from an existing home-care system, good rows accepted, bad rows reported."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ValidationError

from brobygger_runtime.auth import Caller, Role, requires
from brobygger_runtime.body_limit import read_capped_body

from referral.domain.card import ReferralCard
from referral.domain.errors import Forbidden
from referral.entrypoints.auth import AccessDep, Metrics, Runtime
from referral.entrypoints.errors import printable
from referral.entrypoints.batch_formats import CSV_COLUMNS, EXTERNAL_ID, MAX_ROWS, BatchUnreadable, read_csv, read_json
from referral.service_layer import referrals as cases
from referral.service_layer.referrals import Unprocessable

router = APIRouter(tags=["referrals"])
MAX_BATCH_BYTES = 5 * 1024 * 1024


class RowAccepted(BaseModel):
    row: int
    """1-based position of the card in the batch (CSV: data rows after the header)."""
    referral_id: uuid.UUID
    citizen_id: uuid.UUID
    repeat_referral: bool
    already_received: bool = False
    """The row's `external_id` was sent before: this is the referral it created then."""


class RowError(BaseModel):
    loc: list[str | int]
    msg: str


class RowRejected(BaseModel):
    row: int
    errors: list[RowError]


class BatchResult(BaseModel):
    accepted: list[RowAccepted]
    rejected: list[RowRejected]


_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {
                "type": "array", "maxItems": MAX_ROWS, "items": {"$ref": "#/components/schemas/ReferralCard"},
                "description": "each card may also carry `external_id`, the sending system's id of the row",
            }},
            "text/csv": {"schema": {"type": "string", "description": "header row of: " + ", ".join(CSV_COLUMNS)}},
        },
    }
}


@router.post("/referrals/batch", response_model=BatchResult, openapi_extra=_BODY_DOC)
async def submit_batch(
    request: Request, runtime: Runtime, access: AccessDep, metrics: Metrics,
    caller: Caller = Depends(requires(Role.referrer, Role.guide, Role.coordinator)),  # noqa: B008
) -> BatchResult:
    """Submit many referral cards at once, as a JSON list or CSV.

    Each row is validated and stored on its own: good rows are accepted (each
    publishes its `ReferralReceived`), bad rows are listed with the fields at fault.
    A row with an `external_id` sent before is answered with the referral it created then.
    Who may submit each row is decided as for `POST /referrals`. A body over 5 MB is refused with 413
    before it is read whole.
    """
    raw = await read_capped_body(request, MAX_BATCH_BYTES, "a batch")
    try:
        if request.headers.get("content-type", "").split(";")[0].strip() == "text/csv":
            rows: list[Any] = read_csv(raw.decode("utf-8-sig"))
        else:
            rows = read_json(raw)
    except (BatchUnreadable, UnicodeDecodeError) as exc:
        raise Unprocessable.single((), str(exc)) from exc

    result = BatchResult(accepted=[], rejected=[])
    for number, row in enumerate(rows, start=1):
        try:
            external_id = _external_id(row)
            card = ReferralCard.model_validate(row)
            async with runtime.unit_of_work() as uow:
                accepted = await cases.submit_referral(uow, card, caller, access.partnership, external_id)
        except ValidationError as exc:
            errors = [RowError(loc=[printable(p) for p in e["loc"]], msg=printable(e["msg"])) for e in exc.errors(include_input=False, include_url=False)]
            result.rejected.append(RowRejected(row=number, errors=errors))
        except Unprocessable as exc:
            result.rejected.append(RowRejected(row=number, errors=[RowError(loc=list(p.loc), msg=p.msg) for p in exc.problems]))
        except Forbidden as exc:
            result.rejected.append(RowRejected(row=number, errors=[RowError(loc=["referrer", "org"], msg=str(exc))]))
        else:
            result.accepted.append(RowAccepted(
                row=number, referral_id=accepted.referral_id, citizen_id=accepted.citizen_id,
                repeat_referral=accepted.repeat_referral, already_received=accepted.replayed,
            ))
            if not accepted.replayed:
                metrics.received.labels(card.referrer.source.value, str(accepted.repeat_referral).lower()).inc()
    return result


def _external_id(row: Any) -> str | None:
    """Takes the row's `external_id` out of the card; it becomes the submission's idempotency key."""
    if not isinstance(row, dict) or EXTERNAL_ID not in row:
        return None
    value = row.pop(EXTERNAL_ID)
    if not isinstance(value, str) or not 1 <= len(value) <= 90 or not value.isprintable() or not value.isascii():
        raise Unprocessable.single((EXTERNAL_ID,), "must be 1 to 90 printable ASCII characters")
    return "batch:" + value
