"""The partnership's reports over HTTP, as JSON or (`?format=csv`) as a flat table."""

from __future__ import annotations

from typing import Annotated, Any, Callable, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from journey.entrypoints import report_tables as tables
from journey.entrypoints.api import Ctx, Runtime
from journey.service_layer import reports

router = APIRouter(prefix="/reports", tags=["reports"])
Format = Annotated[Literal["json", "csv"], Query(description="json (default) or csv: one row per group or metric")]


def _answer(data: Any, format: str, table: Callable[[Any], tables.Table]) -> Any:
    return Response(tables.to_csv(table(data)), media_type="text/csv") if format == "csv" else data


@router.get("", response_model=dict)  # the JSON as before; a Response (CSV) passes through
async def everything(runtime: Runtime, ctx: Ctx, format: Format = "json") -> dict | Response:
    async with runtime.unit_of_work() as uow:
        data = await reports.all_reports(uow, ctx)
    return _answer(data, format, tables.overview_table)


@router.get("/funnel", response_model=None)
async def funnel(runtime: Runtime, format: Format = "json") -> dict | Response:
    async with runtime.unit_of_work() as uow:
        data = await reports.funnel(uow)
    return _answer(data, format, tables.funnel_table)


@router.get("/waiting-times", response_model=None)
async def waiting_times(runtime: Runtime, format: Format = "json") -> dict | Response:
    async with runtime.unit_of_work() as uow:
        data = await reports.waiting_times(uow)
    return _answer(data, format, tables.waiting_times_table)


@router.get("/waiting-now", response_model=None)
async def waiting_now(runtime: Runtime, ctx: Ctx, format: Format = "json") -> list[dict] | Response:
    async with runtime.unit_of_work() as uow:
        rows = await reports.waiting_beyond_limits(uow, ctx)
    return _answer(rows, format, tables.waiting_now_table)


@router.get("/accompaniment", response_model=None)
async def accompaniment(runtime: Runtime, format: Format = "json") -> dict | Response:
    async with runtime.unit_of_work() as uow:
        data = await reports.accompaniment(uow)
    return _answer(data, format, tables.metrics)


@router.get("/groups", response_model=None)
async def groups(runtime: Runtime, format: Format = "json") -> dict | Response:
    async with runtime.unit_of_work() as uow:
        data = await reports.group_figures(uow)
    return _answer(data, format, tables.metrics)


@router.get("/loneliness", response_model=None)
async def loneliness(runtime: Runtime, format: Format = "json") -> dict | Response:
    async with runtime.unit_of_work() as uow:
        data = await reports.loneliness(uow)
    return _answer(data, format, tables.metrics)


@router.get("/gaps", response_model=None)
async def gaps(runtime: Runtime, min_citizens: int = Query(default=2, ge=1), format: Format = "json") -> list[dict] | Response:
    async with runtime.unit_of_work() as uow:
        rows = await reports.gaps(uow, min_citizens)
    return _answer(rows, format, tables.gaps_table)
