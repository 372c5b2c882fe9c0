"""The steering group's view: the funnel, waiting times, loneliness before and
after, each referring source's contribution and the gap map, as SVG bar charts
drawn here, each with its CSV from journey (`?format=csv`). Aggregates only:
journey leaves a cell of fewer than five citizens empty for steering, and the
chart says so instead of a number."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.charts import Bar, bar_chart
from console.clients.base import NotAvailable, Refused, Unreachable
from console.i18n import Formats, translator
from console.web import caller, console_of, language_of, person, render

router = APIRouter()
READERS = ("steering", "coordinator")
FUNNEL = ("referred", "contacted", "clarified", "match_accepted", "first_visit", "exited_completed")
WAITS = ("to_first_contact", "to_match", "to_first_visit")
CSV_REPORTS = ("funnel", "waiting-times", "loneliness", "accompaniment", "groups", "gaps")


@router.get("/steering")
async def overview(request: Request) -> Response:
    me = person(request, *READERS)
    console = console_of(request)
    who = caller(request, me)
    _ = translator(language_of(request))
    fmt = Formats(language_of(request))
    funnel, waits, loneliness = await asyncio.gather(
        console.journey.report(who, "funnel"), console.journey.report(who, "waiting-times"),
        console.journey.report(who, "loneliness"))
    gaps = await asyncio.gather(*(_gaps(client, who) for client in console.matching.values()))

    def bar(label: str, value: Any, shown: str | None = None) -> Bar:
        if value is None:
            return Bar(label, None, _("fewer than 5"))
        return Bar(label, float(value), shown or fmt.number(value))

    total = funnel.get("total", {})
    charts = {
        "funnel": bar_chart(_("How far citizens got"), [bar(_(k), total.get(k)) for k in FUNNEL]),
        "waits": bar_chart(_("Median days of waiting"), [
            bar(_(k), (waits.get(k) or {}).get("median_days"),
                None if (waits.get(k) or {}).get("median_days") is None else
                _("{days} days", days=fmt.number((waits.get(k) or {}).get("median_days"))))
            for k in WAITS]),
        "sources": bar_chart(_("Referrals by source"), [
            bar(_(source), row.get("referred")) for source, row in sorted((funnel.get("by_source") or {}).items())]),
        "loneliness": bar_chart(_("Loneliness (UCLA-3, 3-9) before and after"), [
            bar(_("before"), loneliness.get("mean_baseline")), bar(_("after"), loneliness.get("mean_final"))]),
    }
    gap_rows = [g | {"org": org} for org, found in gaps if found for g in found.get("gaps", [])]
    return render(request, "steering.html.j2", charts=charts, funnel=funnel, waits=waits, loneliness=loneliness,
                  gap_rows=gap_rows, gaps_missing=[org for org, found in gaps if found is None],
                  csv_reports=CSV_REPORTS)


async def _gaps(client: Any, who: Any) -> tuple[str, dict[str, Any] | None]:
    try:
        return client.org, await client.gaps(who)
    except (Refused, NotAvailable, Unreachable):
        return client.org, None


@router.get("/steering/{name}.csv")
async def csv(request: Request, name: str) -> Response:
    me = person(request, *READERS)
    if name not in CSV_REPORTS:
        return render(request, "message.html.j2", status=404, title="Not found", text="No such report.")
    text = await console_of(request).journey.report_csv(caller(request, me), name)
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"', "Cache-Control": "no-store"})
