"""Journey's domain gauges for operators and the partnership's dashboard,
refreshed by the runtime beside consumer lag."""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa
from prometheus_client import Gauge

from brobygger_runtime.service import ServiceRuntime
from journey.adapters.tables import groups, journeys
from journey.domain.journey import State
from journey.service_layer import reports
from journey.service_layer.context import Context

WAITING_FOR = ("first_contact", "match", "first_visit")


def install_gauges(runtime: ServiceRuntime, ctx: Context) -> None:
    registry = runtime.metrics.registry
    by_state = Gauge("brobygger_journeys", "Journeys by state", ["state"], registry=registry)
    waiting = Gauge(
        "brobygger_citizens_waiting_beyond_limit",
        "Citizens waiting longer than the partnership's limit, by what they wait for",
        ["waiting_for"], registry=registry,
    )
    group_states = Gauge("brobygger_groups", "Groups by state (proposed, forming, facilitated, self_running)", ["state"],
                         registry=registry)

    @runtime.gauge_refresher
    async def refresh() -> None:
        async with runtime.db.sessions() as session:
            states = dict((await session.execute(
                sa.select(journeys.c.state, sa.func.count()).group_by(journeys.c.state))).all())
            groups_now = dict((await session.execute(
                sa.select(groups.c.state, sa.func.count()).group_by(groups.c.state))).all())
        for state in State:
            by_state.labels(state.value).set(states.get(state.value, 0))
        for state, count in groups_now.items():
            group_states.labels(state).set(count)
        async with runtime.unit_of_work() as uow:
            overdue = Counter(w["waiting_for"] for w in await reports.waiting_beyond_limits(uow, ctx))
        for kind in WAITING_FOR:
            waiting.labels(kind).set(overdue.get(kind, 0))
