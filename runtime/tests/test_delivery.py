"""The delivery policy against a real broker and database: inbox, outbox, relay, dead letters."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from brobygger_contracts import Envelope, dead_letter_topic, topic_for
from brobygger_contracts.events.journey import GuideAssigned
from brobygger_contracts.events.referral import ReferralReceived
from brobygger_runtime.db import new_metadata
from brobygger_runtime.errors import PermanentError
from brobygger_runtime.service import ServiceRuntime
from brobygger_runtime.settings import ServiceSettings
from brobygger_stack.fixed_keys import for_the_bus, use_test_keys
from brobygger_stack.testing import read_topic, wait_until as wait_for



def referrals_of(runtime: ServiceRuntime) -> str:
    """The topic of the partnership's referral (the municipality's), which the runtime reads."""
    return topic_for(ReferralReceived, runtime.settings.partnership_id, "varde-kommune")


def make_runtime(kafka: str, db_url: str, group_suffix: str) -> tuple[ServiceRuntime, sa.Table]:
    metadata = new_metadata()
    seen = sa.Table("seen", metadata, sa.Column("citizen_id", sa.String(64), primary_key=True), sa.Column("count", sa.Integer))
    settings = ServiceSettings(
        service_name="journey",
        org_id=f"test-{group_suffix}",
        partnership_id=f"p{group_suffix}",
        kafka_bootstrap_servers=kafka,
        database_url=db_url,
        handler_backoff_seconds=0.01,
        outbox_poll_seconds=0.05,
    )
    runtime = ServiceRuntime(settings, metadata, service_package=None)
    use_test_keys(runtime)

    @runtime.handles(ReferralReceived)
    async def on_referral(event: ReferralReceived, uow) -> None:  # noqa: ANN001
        if event.opened.postal_code == "9999":
            raise PermanentError("postal code 9999 is refused by this test's business rule")
        await uow.session.execute(seen.insert().values(citizen_id=str(event.citizen_id), count=1))
        await uow.publish(
            GuideAssigned(
                journey_id=uuid.uuid4(), citizen_id=event.citizen_id, guide_id="guide-1",
                guide_org="test", assigned_at=datetime.now(UTC),
            )
        )

    return runtime, seen


def referral(postal_code: str = "6800") -> ReferralReceived:
    return for_the_bus(ReferralReceived(
        referral_id=uuid.uuid4(), citizen_id=uuid.uuid4(), source="home_care", postal_code=postal_code,
        age_band="75-84", consented_orgs=["test"], received_at=datetime.now(UTC),
    ))


async def produce(kafka: str, topic: str, value: bytes, headers: list[tuple[str, bytes]], key: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()


def headers_for(event: ReferralReceived, runtime: ServiceRuntime, event_id: str | None = None) -> list[tuple[str, bytes]]:
    env = Envelope.for_event(event, partnership=runtime.settings.partnership_id, org="varde-kommune", service="referral",
                             event_id=event_id)
    return env.to_headers()


async def test_redelivered_event_changes_nothing_and_publishes_once(kafka_bootstrap, database_url):
    runtime, seen = make_runtime(kafka_bootstrap, database_url, uuid.uuid4().hex[:6])
    event = referral()
    event_id = str(uuid.uuid4())
    async with runtime.running():
        for _ in range(3):  # the same event id three times: a producer retry or a replay
            await produce(kafka_bootstrap, referrals_of(runtime), event.model_dump_json().encode(), headers_for(event, runtime, event_id), str(event.citizen_id).encode())

        async def three_consumed() -> bool:
            counts = runtime.metrics.events_consumed
            handled = counts.labels(event.event_type(), "handled")._value.get()
            dup = counts.labels(event.event_type(), "duplicate")._value.get()
            return handled + dup >= 3

        await wait_for(three_consumed)
        async with runtime.db.sessions() as s:
            rows = (await s.execute(sa.select(seen))).all()
            outbox_rows = (await s.execute(sa.select(runtime.tables.outbox))).all()
        assert [r.citizen_id for r in rows] == [str(event.citizen_id)]
        assert len(outbox_rows) == 1
        assert runtime.metrics.inbox_duplicates.labels(event.event_type())._value.get() == 2

        async def relayed() -> bool:
            async with runtime.db.sessions() as s:
                return (await s.scalar(sa.select(sa.func.count()).select_from(runtime.tables.outbox).where(runtime.tables.outbox.c.sent_at.is_not(None)))) == 1

        await wait_for(relayed)


async def test_malformed_event_is_dead_lettered_with_cause_and_next_event_still_handled(kafka_bootstrap, database_url):
    runtime, seen = make_runtime(kafka_bootstrap, database_url, uuid.uuid4().hex[:6])
    bad_payload = referral()
    good = referral()
    refused = referral(postal_code="9999")
    marker = uuid.uuid4().hex
    async with runtime.running():
        # 1. valid headers, payload missing required fields
        broken = json.loads(bad_payload.model_dump_json())
        del broken["consented_orgs"]
        broken["marker"] = marker
        await produce(kafka_bootstrap, referrals_of(runtime), json.dumps(broken).encode(), headers_for(bad_payload, runtime), b"k")
        # 2. no CloudEvents headers at all
        await produce(kafka_bootstrap, referrals_of(runtime), b'{"marker": "%s"}' % marker.encode(), [], b"k")
        # 3. a business rule refuses it
        await produce(kafka_bootstrap, referrals_of(runtime), refused.model_dump_json().encode(), headers_for(refused, runtime), b"k")
        # 4. a good event after them, on the same key (same partition)
        await produce(kafka_bootstrap, referrals_of(runtime), good.model_dump_json().encode(), headers_for(good, runtime), b"k")

        async def good_handled() -> bool:
            async with runtime.db.sessions() as s:
                return bool(await s.scalar(sa.select(sa.func.count()).select_from(seen).where(seen.c.citizen_id == str(good.citizen_id))))

        await wait_for(good_handled)

    group = runtime.settings.group_id
    # Keyed "k": records of other tests without an envelope are dead-lettered by every group on the topic.
    dead = [r for r in await read_topic(kafka_bootstrap, dead_letter_topic(referrals_of(runtime)), want=100, timeout=5)
            if dict(r.headers).get("dlt_consumer") == group.encode() and r.key == b"k"]
    causes = sorted(dict(r.headers)["dlt_cause"].decode() for r in dead)
    assert causes == ["business_rule", "envelope", "validation"]
    by_cause = {dict(r.headers)["dlt_cause"].decode(): r for r in dead}
    assert b"consented_orgs" in dict(by_cause["validation"].headers)["dlt_reason"]
    assert b"9999" in dict(by_cause["business_rule"].headers)["dlt_reason"]
    assert marker.encode() in by_cause["envelope"].value  # the original payload is kept whole
    assert dict(by_cause["validation"].headers)["ce_id"]  # and its original headers


async def test_outbox_rows_left_by_a_crash_are_sent_on_next_start(kafka_bootstrap, database_url):
    suffix = uuid.uuid4().hex[:6]
    runtime, _ = make_runtime(kafka_bootstrap, database_url, suffix)
    # Write an outbox row in a committed transaction without any relay running: a
    # process killed between its commit and its publish leaves exactly this.
    async with runtime.db.engine.begin() as conn:
        await conn.run_sync(runtime.metadata.create_all)
    citizen = uuid.uuid4()
    async with runtime.unit_of_work() as uow:
        envelope = await uow.publish(
            GuideAssigned(journey_id=uuid.uuid4(), citizen_id=citizen, guide_id="g", guide_org="test", assigned_at=datetime.now(UTC))
        )
    await runtime.db.dispose()

    runtime2, _ = make_runtime(kafka_bootstrap, database_url, suffix)
    async with runtime2.running():
        records = [r for r in await read_topic(kafka_bootstrap, topic_for(GuideAssigned, runtime2.settings.partnership_id, runtime2.settings.org_id), want=10_000, timeout=8)
                   if dict(r.headers).get("ce_id") == envelope.id.encode()]
    assert len(records) == 1
    assert records[0].key == str(citizen).encode()


async def test_trace_context_travels_from_the_consumed_event_to_the_published_one(kafka_bootstrap, database_url):
    runtime, _ = make_runtime(kafka_bootstrap, database_url, uuid.uuid4().hex[:6])
    event = referral()
    trace_id = uuid.uuid4().hex
    headers = [(k, v) for k, v in headers_for(event, runtime)] + [("traceparent", f"00-{trace_id}-{'1' * 16}-01".encode())]
    async with runtime.running():
        await produce(kafka_bootstrap, referrals_of(runtime), event.model_dump_json().encode(), headers, str(event.citizen_id).encode())

        async def published() -> bool:
            async with runtime.db.sessions() as s:
                return bool(await s.scalar(sa.select(sa.func.count()).select_from(runtime.tables.outbox)))

        await wait_for(published)
        async with runtime.db.sessions() as s:
            stored = dict((await s.execute(sa.select(runtime.tables.outbox.c.headers))).scalar_one())
    version, published_trace, span, flags = stored["traceparent"].split("-")
    assert published_trace == trace_id  # same trace
    assert span != "1" * 16  # a new span: the consumer's
