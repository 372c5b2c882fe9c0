"""The partnership's reports over HTTP, as JSON or CSV."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from journey.entrypoints.api import Ctx, Runtime
from journey.service_layer import reports

router = APIRouter(prefix="/reports", tags=["reports"])
Format = Annotated[Literal["json", "csv"], Query()]


def _csv(rows: list[dict]) -> Response:
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return Response(out.getvalue(), media_type="text/csv")


@router.get("")
async def everything(runtime: Runtime, ctx: Ctx) -> dict:
    async with runtime.unit_of_work() as uow:
        return await reports.all_reports(uow, ctx)


@router.get("/funnel", response_model=None)
async def funnel(runtime: Runtime, format: Format = "json") -> dict | Response:
    async with runtime.unit_of_work() as uow:
        data = await reports.funnel(uow)
    if format == "csv":
        rows = [{"by": "source", "key": k, **v} for k, v in data["by_source"].items()]
        rows += [{"by": "referrer_org", "key": k, **v} for k, v in data["by_referrer_org"].items()]
        return _csv(rows)
    return data


@router.get("/waiting-times")
async def waiting_times(runtime: Runtime) -> dict:
    async with runtime.unit_of_work() as uow:
        return await reports.waiting_times(uow)


@router.get("/waiting-now", response_model=None)
async def waiting_now(runtime: Runtime, ctx: Ctx, format: Format = "json") -> list[dict] | Response:
    async with runtime.unit_of_work() as uow:
        rows = await reports.waiting_beyond_limits(uow, ctx)
    return _csv(rows) if format == "csv" else rows


@router.get("/accompaniment")
async def accompaniment(runtime: Runtime) -> dict:
    async with runtime.unit_of_work() as uow:
        return await reports.accompaniment(uow)


@router.get("/groups")
async def groups(runtime: Runtime) -> dict:
    async with runtime.unit_of_work() as uow:
        return await reports.group_figures(uow)


@router.get("/loneliness")
async def loneliness(runtime: Runtime) -> dict:
    async with runtime.unit_of_work() as uow:
        return await reports.loneliness(uow)


@router.get("/gaps", response_model=None)
async def gaps(runtime: Runtime, min_citizens: int = Query(default=2, ge=1), format: Format = "json") -> list[dict] | Response:
    async with runtime.unit_of_work() as uow:
        rows = await reports.gaps(uow, min_citizens)
    return _csv(rows) if format == "csv" else rows
