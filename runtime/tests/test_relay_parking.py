"""A row the broker refuses for good (too large, no such topic) is parked with
an alert instead of stopping every row behind it; an operator lists parked
rows and releases one once the cause is fixed (DESIGN.md section 3)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from typer.testing import CliRunner

from brobygger_contracts import topic_for
from brobygger_contracts.events.journey import GuideAssigned
from brobygger_runtime import outbox as outbox_rows
from brobygger_runtime.db import new_metadata
from brobygger_runtime.service import ServiceRuntime
from brobygger_runtime.settings import ServiceSettings
from brobygger_stack.cli import app
from brobygger_stack.operations import parked_rows, release_parked
from brobygger_stack.testing import read_topic, service_settings, wait_until


def row(runtime: ServiceRuntime, citizen: uuid.UUID, **change) -> dict:
    event = GuideAssigned(journey_id=uuid.uuid4(), citizen_id=citizen, guide_id="g-1", guide_org="varde-kommune",
                          assigned_at=datetime.now(UTC))
    s = runtime.settings
    _, values = outbox_rows.row_for(event, partnership=s.partnership_id, org=s.org_id, service=s.service_name)
    return values | change


async def test_refused_rows_are_parked_and_the_rows_behind_them_go_on(kafka_bootstrap, database_url):
    settings = service_settings(ServiceSettings, "journey", kafka_bootstrap, database_url)
    runtime = ServiceRuntime(settings, new_metadata(), service_package=None)
    table = runtime.tables.outbox
    citizen = uuid.uuid4()
    missing_topic = f"brobygger.test-missing-{uuid.uuid4().hex[:8]}.v1"
    good = [row(runtime, citizen) for _ in range(3)]
    too_large = row(runtime, citizen)
    too_large["payload"] = json.dumps(json.loads(too_large["payload"]) | {"padding": "x" * 1_100_000})
    no_topic = row(runtime, citizen, topic=missing_topic)

    async def states() -> dict[str, tuple]:
        async with runtime.db.sessions() as s:
            rows = (await s.execute(sa.select(table.c.event_id, table.c.sent_at, table.c.parked_at,
                                              table.c.park_reason, table.c.send_count))).all()
        return {r.event_id: r for r in rows}

    async with runtime.running():
        # One key, in this order: good, too large, good, no such topic, good.
        async with runtime.unit_of_work() as uow:
            await outbox_rows.write(uow.session, table, [good[0], too_large, good[1], no_topic, good[2]])

        async def settled() -> bool:
            now = await states()
            return (all(now[g["event_id"]].sent_at for g in good)
                    and all(now[r["event_id"]].parked_at for r in (too_large, no_topic)))

        await wait_until(settled, timeout=30)
        now = await states()
        assert "MessageSizeTooLarge" in now[too_large["event_id"]].park_reason
        assert f"topic {missing_topic} does not exist" in now[no_topic["event_id"]].park_reason
        assert not now[too_large["event_id"]].sent_at and not now[no_topic["event_id"]].sent_at
        await runtime.relay.refresh_backlog_metrics()
        assert runtime.metrics.outbox_parked._value.get() == 2
        assert runtime.metrics.outbox_backlog._value.get() == 0  # parked rows are not "stuck" rows

        # The next round finds nothing to do: it neither resends the rows before
        # a parked one nor retries the parked ones.
        assert await runtime.relay.publish_pending() == 0
        now = await states()
        assert [now[g["event_id"]].send_count for g in good] == [1, 1, 1]
        assert now[too_large["event_id"]].send_count == 0

        # The operator lists what is parked, fixes the cause (creates the topic) and releases the row.
        listed = await parked_rows(database_url)
        assert [p.event_id for p in listed] == [too_large["event_id"], no_topic["event_id"]]
        env = {"DATABASE_URL": database_url}
        out = await asyncio.to_thread(CliRunner().invoke, app, ["outbox", "parked"], env=env)
        assert out.exit_code == 0, out.output
        assert missing_topic in out.output and "2 parked rows" in out.output
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(missing_topic, 1, 1)])
        finally:
            await admin.close()
        no_topic_id = next(p.id for p in listed if p.event_id == no_topic["event_id"])
        out = await asyncio.to_thread(CliRunner().invoke, app, ["outbox", "release", str(no_topic_id)], env=env)
        assert out.exit_code == 0 and "released 1 rows" in out.output, out.output

        async def released_and_sent() -> bool:
            return bool((await states())[no_topic["event_id"]].sent_at)

        await wait_until(released_and_sent, timeout=30)
        assert [p.event_id for p in await parked_rows(database_url)] == [too_large["event_id"]]
        await runtime.relay.refresh_backlog_metrics()
        assert runtime.metrics.outbox_parked._value.get() == 1
        assert await release_parked(database_url, topic="no.such.topic") == 0

    on_broker = await read_topic(kafka_bootstrap, topic_for(GuideAssigned, settings.partnership_id, settings.org_id),
                                partnership=settings.partnership_id, want=3, timeout=15)
    assert [dict(r.headers)["ce_id"].decode() for r in on_broker] == [g["event_id"] for g in good]
    assert len(await read_topic(kafka_bootstrap, missing_topic, want=1, timeout=15)) == 1
