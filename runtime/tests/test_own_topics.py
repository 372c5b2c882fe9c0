"""A service's own topic and its .dlt: created at start where the broker lets
it (the embedded broker), otherwise reported on /health/ready while what it
publishes waits in the outbox, never parked and never a crash."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import sqlalchemy as sa
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from brobygger_contracts import dead_letter_topic, topic_for
from brobygger_contracts.catalogue import retention_ms
from brobygger_contracts.events.journey import GuideAssigned
from brobygger_runtime.db import new_metadata
from brobygger_runtime.service import ServiceRuntime
from brobygger_runtime.settings import ServiceSettings
from brobygger_runtime.topics import create_missing_topics
from brobygger_stack.testing import service_settings, wait_until


async def _topics(kafka: str) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def _ready(runtime: ServiceRuntime) -> dict:
    app = runtime.http_app("test")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        return (await client.get("/health/ready", params={"whole": "true"})).json()


async def test_a_service_creates_its_own_topic_and_dead_letter_topic_at_start(kafka_bootstrap, database_url):  # noqa: ANN001
    settings = service_settings(ServiceSettings, "journey", kafka_bootstrap, database_url)
    own = topic_for(GuideAssigned, settings.partnership_id, settings.org_id)
    runtime = ServiceRuntime(settings, new_metadata(), service_package=None)
    async with runtime.running():
        async def created() -> bool:
            return runtime.own_topics.ok

        await wait_until(created)
        assert {own, dead_letter_topic(own)} <= await _topics(kafka_bootstrap)
        assert (await _ready(runtime))["checks"]["topics"] == "ok"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        configs = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, dead_letter_topic(own))])
    finally:
        await admin.close()
    entries = {name: value for name, value, *_ in configs[0].resources[0][4]}
    assert entries.get("retention.ms") == str(retention_ms(dead_letter_topic(own)))


async def test_a_missing_own_topic_it_may_not_create_is_reported_and_its_events_wait(kafka_bootstrap, database_url):  # noqa: ANN001
    settings = service_settings(ServiceSettings, "journey", kafka_bootstrap, database_url, kafka_ensure_topics=False)
    own = topic_for(GuideAssigned, settings.partnership_id, settings.org_id)
    runtime = ServiceRuntime(settings, new_metadata(), service_package=None)
    outbox = runtime.tables.outbox
    async with runtime.running():
        async with runtime.unit_of_work() as uow:
            await uow.publish(GuideAssigned(journey_id=uuid.uuid4(), citizen_id=uuid.uuid4(), guide_id="g",
                                            guide_org="varde-kommune", assigned_at=datetime.now(UTC)))

        async def reported() -> bool:
            return runtime.own_topics.state.startswith("missing")

        await wait_until(reported)
        ready = await _ready(runtime)
        assert ready["status"] == "serving" and own in ready["checks"]["topics"], ready
        async with runtime.db.sessions() as s:
            row = (await s.execute(sa.select(outbox.c.sent_at, outbox.c.parked_at))).one()
        assert row.sent_at is None and row.parked_at is None, "the event waits for its topic, it is not parked"

        # The bus operator creates them (brobygger topics create): the service goes on by itself.
        await create_missing_topics(kafka_bootstrap, [own, dead_letter_topic(own)])

        async def sent() -> bool:
            async with runtime.db.sessions() as s:
                return (await s.scalar(sa.select(outbox.c.sent_at))) is not None

        await wait_until(sent, timeout=40)
        assert (await _ready(runtime))["checks"]["topics"] == "ok"
