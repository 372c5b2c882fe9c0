"""The embedded broker keeps nothing across its restart: the relay notices and
publishes what it had published again, from the outbox."""

from __future__ import annotations

import ssl
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from brobygger_contracts import topic_for
from brobygger_contracts.events.journey import GuideAssigned
from brobygger_runtime import broker_reset
from brobygger_runtime import outbox as outbox_rows
from brobygger_runtime.db import new_metadata
from brobygger_runtime.kafka_options import kafka_client_options
from brobygger_runtime.service import ServiceRuntime
from brobygger_runtime.settings import ServiceSettings
from brobygger_runtime.topics import ensure_topics
from brobygger_stack.embedded_kafka import EmbeddedKafka, free_port, wait_until_ready
from brobygger_stack.flaky_proxy import FlakyProxy
from brobygger_stack.testing import read_topic, service_settings, wait_until


async def test_relay_republishes_after_the_broker_lost_its_data(database_url, tmp_path):
    broker = EmbeddedKafka(log_path=str(tmp_path / "tansu.log")).start()
    try:
        await wait_until_ready(broker.bootstrap_servers)
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
            await ensure_topics(broker.bootstrap_servers, settings.partnership_id, {settings.org_id: ["journey"]})
            await wait_until(await sent(2), timeout=60)

        records = await read_topic(broker.bootstrap_servers, topic_for(GuideAssigned, settings.partnership_id, settings.org_id),
                                   partnership=settings.partnership_id, want=3, timeout=15)
        assert sorted(dict(r.headers)["ce_id"].decode() for r in records) == sorted(ids)
        assert runtime.metrics.outbox_republished._value.get() == 3
    finally:
        broker.stop()


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (its own CA) and its key, made with the openssl tool."""
    cert, key = directory / "broker.pem", directory / "broker.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


async def test_reset_check_reaches_a_secured_cluster_with_the_services_settings(database_url, tmp_path):
    """A TLS-only listener (a TLS-terminating proxy in front of the embedded
    broker, which advertises the proxy): the check must use the service's
    security settings like every other client, or it fails every round."""
    cert, key = self_signed_certificate(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    proxy = await FlakyProxy(upstream_port=free_port(), ssl=tls).start()
    broker = EmbeddedKafka(port=proxy.upstream[1], advertised_port=proxy.port, log_path=str(tmp_path / "tansu.log"))
    broker.start()
    try:
        settings = service_settings(ServiceSettings, "journey", proxy.address, database_url,
                                    kafka_security_protocol="SSL", kafka_ssl_cafile=str(cert))
        options = kafka_client_options(settings)
        runtime = ServiceRuntime(settings, new_metadata(), service_package=None)
        async with runtime.db.engine.begin() as conn:
            await conn.run_sync(runtime.metadata.create_all)
        _, row = outbox_rows.row_for(
            GuideAssigned(journey_id=uuid.uuid4(), citizen_id=uuid.uuid4(), guide_id="g", guide_org="varde-kommune",
                          assigned_at=datetime.now(UTC)),
            partnership=settings.partnership_id, org=settings.org_id, service="journey")
        producer = AIOKafkaProducer(bootstrap_servers=proxy.address, acks="all", **options)
        await producer.start()
        try:
            meta = await producer.send_and_wait(row["topic"], row["payload"].encode(), key=row["key"].encode(),
                                                headers=[(k, v.encode()) for k, v in row["headers"]])
        finally:
            await producer.stop()
        async with runtime.db.transaction() as session:
            await outbox_rows.write(session, runtime.tables.outbox, [
                row | {"sent_at": datetime.now(UTC), "send_count": 1, "kafka_partition": meta.partition,
                       "kafka_offset": meta.offset}])

        assert await runtime.relay.republish_if_broker_was_reset() == 0  # the record is there

        broker.stop()  # the broker restarts empty behind the same TLS listener
        broker.start()
        await wait_until_ready(proxy.address, **options)
        assert await runtime.relay.republish_if_broker_was_reset() == 1
        await runtime.db.dispose()
    finally:
        broker.stop()
        await proxy.stop()


async def test_a_record_removed_by_retention_is_not_taken_for_a_broker_reset(kafka_bootstrap):
    """Tansu keeps every record (it has no retention and answers DeleteRecords
    by closing the connection), so the broker cannot be made to drop a record
    here. Its answers for the partition's range decide the cases it can
    produce; the retention case is decided from the same rule."""
    topic = topic_for(GuideAssigned, f"reset{uuid.uuid4().hex[:8]}", "varde-kommune")
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        meta = await producer.send_and_wait(topic, b"{}", key=b"k", headers=[("ce_id", b"retention-check")])
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap)
    await consumer.start()
    try:
        tp = TopicPartition(topic, meta.partition)
        start = (await consumer.beginning_offsets([tp]))[tp]
        end = (await consumer.end_offsets([tp]))[tp]
    finally:
        await consumer.stop()
    assert start <= meta.offset < end
    assert broker_reset.lost_by_range(meta.offset, start, end) is None  # in range: the fetch decides
    assert broker_reset.lost_by_range(end, start, end) is True  # at the end: the log was reset
    assert broker_reset.lost_by_range(end + 100, start, end) is True
    # On Kafka, retention moves the log start past old records; "out of range" below it is no loss.
    assert broker_reset.lost_by_range(meta.offset, meta.offset + 1, end + 10) is False
    assert await broker_reset.broker_lost(kafka_bootstrap, topic, meta.partition, meta.offset, "retention-check") is False
    assert await broker_reset.broker_lost(kafka_bootstrap, topic, meta.partition, end + 100, "retention-check") is True
