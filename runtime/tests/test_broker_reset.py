"""The embedded broker keeps nothing across its restart: the relay notices and
publishes what it had published again, from the outbox."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from brobygger_contracts import topic_for
from brobygger_contracts.events.journey import GuideAssigned
from brobygger_runtime.db import new_metadata
from brobygger_runtime.service import ServiceRuntime
from brobygger_runtime.settings import ServiceSettings
from brobygger_runtime.topics import ensure_topics
from brobygger_stack.embedded_kafka import EmbeddedKafka, wait_until_ready
from brobygger_stack.testing import read_topic, service_settings, wait_until


async def test_relay_republishes_after_the_broker_lost_its_data(database_url, tmp_path):
    broker = EmbeddedKafka(log_path=str(tmp_path / "tansu.log")).start()
    try:
        await wait_until_ready(broker.bootstrap_servers)
        await ensure_topics(broker.bootstrap_servers)
        settings = service_settings(ServiceSettings, "journey", broker.bootstrap_servers, database_url,
                                    broker_reset_check_seconds=1.0)
        runtime = ServiceRuntime(settings, new_metadata(), service_package=None)
        outbox = runtime.tables.outbox
        async with runtime.running():
            ids = []
            async with runtime.unit_of_work() as uow:
                for _ in range(3):
                    envelope = await uow.publish(GuideAssigned(
                        journey_id=uuid.uuid4(), citizen_id=uuid.uuid4(), guide_id="g", guide_org="varde-kommune",
                        assigned_at=datetime.now(UTC)))
                    ids.append(envelope.id)

            async def sent(times: int):  # noqa: ANN202
                async def check() -> bool:
                    async with runtime.db.sessions() as s:
                        counts = (await s.execute(sa.select(outbox.c.send_count))).scalars().all()
                    return len(counts) == 3 and all(c >= times for c in counts)
                return check

            await wait_until(await sent(1))
            # The broker restarts empty on the same address.
            broker.stop()
            broker.start()
            await wait_until_ready(broker.bootstrap_servers)
            await ensure_topics(broker.bootstrap_servers)
            await wait_until(await sent(2), timeout=60)

        records = await read_topic(broker.bootstrap_servers, topic_for(GuideAssigned),
                                   partnership=settings.partnership_id, want=3, timeout=15)
        assert sorted(dict(r.headers)["ce_id"].decode() for r in records) == sorted(ids)
        assert runtime.metrics.outbox_republished._value.get() == 3
    finally:
        broker.stop()
