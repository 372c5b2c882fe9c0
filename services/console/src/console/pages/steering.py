"""The steering group's view for a chosen period (journey's `from`/`to`: journeys
referred then): the funnel, waiting times, loneliness before and after,
referrals by source, each partner's contribution (`/reports/partners`) and the
gap map, as SVG bar charts drawn here, each with its CSV from journey
(`?format=csv`, the same period). Aggregates only:
journey leaves a cell of fewer than five citizens empty for steering, and the
chart says so instead of a number."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

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
CSV_REPORTS = ("funnel", "waiting-times", "loneliness", "accompaniment", "groups", "gaps", "partners")
CONTRIBUTIONS = ("referrals", "guides_journeys", "proposals_accepted", "activities", "volunteer_friendships")
CHARTED = ("referrals", "proposals_accepted", "volunteer_friendships")
"""Of each partner's figures, the chart shows these three; the table beside it all five."""


def period_of(request: Request) -> tuple[dict[str, str], dict[str, str], str | None]:
    """The chosen period from the form (`from`, `to`: days, both included) as journey's query (`from` at the
    first day's start, `to` at the day after the last, UTC), the days as chosen, and a problem to show."""
    chosen = {k: request.query_params.get(k, "").strip() for k in ("from", "to")}
    query: dict[str, str] = {}
    try:
        if chosen["from"]:
            query["from"] = datetime.combine(date.fromisoformat(chosen["from"]), time(), UTC).isoformat()
        if chosen["to"]:
            query["to"] = datetime.combine(date.fromisoformat(chosen["to"]) + timedelta(days=1), time(), UTC).isoformat()
    except ValueError:
        return {}, {}, "A date is not valid: write it as year-month-day."
    if "from" in query and "to" in query and query["from"] >= query["to"]:
        return {}, {}, "The period must begin before it ends."
    return query, {k: v for k, v in chosen.items() if v}, None


@router.get("/steering")
async def overview(request: Request) -> Response:
    me = person(request, *READERS)
    console = console_of(request)
    who = caller(request, me)
    _ = translator(language_of(request))
    fmt = Formats(language_of(request))
    period, chosen, problem = period_of(request)
    funnel, waits, loneliness, partners = await asyncio.gather(
        console.journey.report(who, "funnel", period), console.journey.report(who, "waiting-times", period),
        console.journey.report(who, "loneliness", period), console.journey.report(who, "partners", period))
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
        "partners": bar_chart(_("Each partner's contribution"), [
            bar(f"{org}: {_('partner:' + k)}", figures.get(k)) for org, figures in partners.items() for k in CHARTED],
            width=720, label_width=320),
    }
    gap_rows = [g | {"org": org} for org, found in gaps if found for g in found.get("gaps", [])]
    return render(request, "steering.html.j2", charts=charts, funnel=funnel, waits=waits, loneliness=loneliness,
                  gap_rows=gap_rows, gaps_missing=[org for org, found in gaps if found is None],
                  partners=partners, contributions=CONTRIBUTIONS, chosen=chosen, period_problem=problem,
                  period_query=("?" + urlencode(chosen)) if chosen else "", csv_reports=CSV_REPORTS)


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
    period, _chosen, problem = period_of(request)
    if problem:
        return render(request, "message.html.j2", status=422, title="Not a period", text=problem)
    text = await console_of(request).journey.report_csv(caller(request, me), name, period)
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"', "Cache-Control": "no-store"})
