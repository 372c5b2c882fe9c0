"""The partnership's reports over HTTP, as JSON or (`?format=csv`) as a flat table."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Callable, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response

from brobygger_runtime.auth import Caller, Role, requires
from journey.domain.reports import MIN_CELL, Period, suppress_small_cells
from journey.entrypoints import report_tables as tables
from journey.entrypoints.access import is_owner_coordinator, require_owner_coordinator
from journey.entrypoints.api import Ctx, Runtime
from journey.service_layer import reports

router = APIRouter(prefix="/reports", tags=["reports"])
Format = Annotated[Literal["json", "csv"], Query(description="json (default) or csv: one row per group or metric")]


def period_of(start: Annotated[datetime | None, Query(alias="from", description="journeys referred from (with UTC offset)")] = None,
              end: Annotated[datetime | None, Query(alias="to", description="... up to, not including (with UTC offset)")] = None) -> Period:
    """The date range a report counts, by referral date (accepted proposals: by when they were accepted)."""
    for name, moment in (("from", start), ("to", end)):
        if moment is not None and moment.tzinfo is None:
            raise HTTPException(422, {"error": "no_utc_offset", "reason": f"{name} needs a UTC offset, e.g. 2026-03-01T00:00:00+01:00"})
    if start is not None and end is not None and start >= end:
        raise HTTPException(422, {"error": "empty_period", "reason": "from must be before to"})
    return Period(start, end)


Range = Annotated[Period, Depends(period_of)]


# aggregates only: steering and coordinators. Only the coordinators of the organisation running this
# instance (who may open each of these citizens anyway) see exact small counts; everyone else gets every
# cell counting fewer than MIN_CELL citizens suppressed (null). Lists of citizens: those coordinators only.
Reader = Annotated[Caller, Depends(requires(Role.steering, Role.coordinator))]
OwnerCoordinator = Annotated[Caller, Depends(requires(Role.coordinator))]


def _answer(data: Any, format: str, table: Callable[[Any], tables.Table], caller: Caller | None = None,
            ctx: Any = None) -> Any:
    if caller is not None and not is_owner_coordinator(caller, ctx):
        data = suppress_small_cells(data)
    return Response(tables.to_csv(table(data)), media_type="text/csv") if format == "csv" else data


@router.get("", response_model=dict)  # the JSON as before; a Response (CSV) passes through
async def everything(runtime: Runtime, ctx: Ctx, caller: Reader, period: Range, format: Format = "json") -> dict | Response:
    async with runtime.unit_of_work() as uow:
        data = await reports.all_reports(uow, ctx, citizens_listed=is_owner_coordinator(caller, ctx), period=period)
    return _answer(data, format, tables.overview_table, caller, ctx)


@router.get("/funnel", response_model=None)
async def funnel(runtime: Runtime, ctx: Ctx, caller: Reader, period: Range, format: Format = "json") -> dict | Response:
    async with runtime.unit_of_work() as uow:
        data = await reports.funnel(uow, period)
    return _answer(data, format, tables.funnel_table, caller, ctx)


@router.get("/waiting-times", response_model=None)
async def waiting_times(runtime: Runtime, ctx: Ctx, caller: Reader, period: Range, format: Format = "json") -> dict | Response:
    async with runtime.unit_of_work() as uow:
        data = await reports.waiting_times(uow, period)
    return _answer(data, format, tables.waiting_times_table, caller, ctx)


@router.get("/waiting-now", response_model=None)
async def waiting_now(runtime: Runtime, ctx: Ctx, caller: OwnerCoordinator, format: Format = "json") -> list[dict] | Response:
    """Who waits too long, citizen by citizen: a working list for this organisation's coordinators."""
    require_owner_coordinator(caller, ctx, "lists of waiting citizens")
    async with runtime.unit_of_work() as uow:
        rows = await reports.waiting_beyond_limits(uow, ctx)
    return _answer(rows, format, tables.waiting_now_table)


@router.get("/accompaniment", response_model=None)
async def accompaniment(runtime: Runtime, ctx: Ctx, caller: Reader, format: Format = "json") -> dict | Response:
    async with runtime.unit_of_work() as uow:
        data = await reports.accompaniment(uow)
    return _answer(data, format, tables.metrics, caller, ctx)


@router.get("/groups", response_model=None)
async def groups(runtime: Runtime, ctx: Ctx, caller: Reader, format: Format = "json") -> dict | Response:
    async with runtime.unit_of_work() as uow:
        data = await reports.group_figures(uow)
    return _answer(data, format, tables.metrics, caller, ctx)


@router.get("/loneliness", response_model=None)
async def loneliness(runtime: Runtime, ctx: Ctx, caller: Reader, period: Range, format: Format = "json") -> dict | Response:
    async with runtime.unit_of_work() as uow:
        data = await reports.loneliness(uow, period)
    return _answer(data, format, tables.metrics, caller, ctx)


@router.get("/loneliness-cohorts", response_model=None)
async def loneliness_cohorts(runtime: Runtime, ctx: Ctx, caller: Reader, period: Range, format: Format = "json") -> dict | Response:
    """Per cohort (quarter of referral) the UCLA baseline paired with 3 months after the start, the exit and
    6 months after the exit: only citizens measured at both; a block of fewer than 5 pairs is suppressed."""
    async with runtime.unit_of_work() as uow:
        data = await reports.loneliness_cohorts(uow, period)
    return _answer(data, format, tables.cohorts_table, caller, ctx)


@router.get("/partners", response_model=None)
async def partners(runtime: Runtime, ctx: Ctx, caller: Reader, period: Range, format: Format = "json") -> dict | Response:
    """What each organisation contributed: referrals, guides' journeys, accepted proposals, activities and
    volunteer friendships among them; counts of 1-4 suppressed as in every report."""
    async with runtime.unit_of_work() as uow:
        data = await reports.partners(uow, ctx, period)
    return _answer(data, format, tables.partners_table, caller, ctx)


@router.get("/gaps", response_model=None)
async def gaps(runtime: Runtime, caller: Reader, format: Format = "json",
               min_citizens: int = Query(default=MIN_CELL, ge=1, le=100_000,
                                         description=f"smallest cell shown; raised to {MIN_CELL} when lower")) -> list[dict] | Response:
    """Interests waiting citizens share where no activity serves them; a cell never counts fewer than
    MIN_CELL citizens, whatever `min_citizens` asks (issue 12 case 5)."""
    async with runtime.unit_of_work() as uow:
        rows = await reports.gaps(uow, max(min_citizens, MIN_CELL))
    return _answer(rows, format, tables.gaps_table)
