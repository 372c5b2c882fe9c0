"""The relay never lets a later event of a key overtake an earlier one, even
when the broker connection fails mid-batch (DESIGN.md section 3).

Every connection to a dedicated broker goes through a proxy that cuts, stalls
or drops the line several times while the relay publishes a steady stream of
outbox rows over a few keys, each row carrying its per-key sequence number.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from datetime import UTC, datetime

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer

from brobygger_contracts import topic_for
from brobygger_contracts.events.journey import GuideAssigned
from brobygger_runtime.db import new_metadata
from brobygger_runtime.service import ServiceRuntime
from brobygger_runtime.settings import ServiceSettings
from brobygger_stack.embedded_kafka import EmbeddedKafka, free_port, wait_until_ready
from brobygger_stack.flaky_proxy import FlakyProxy
from brobygger_stack.testing import service_settings, wait_until

KEYS = [uuid.uuid4() for _ in range(4)]
FAULTS = ["stall", "cut", "drop", "stall", "cut", "stall"]


async def read_back(kafka: str, topic: str, partnership: str, want_unique: int, timeout: float = 60) -> list:
    """Every record of `topic` for `partnership`, in log order per partition, once `want_unique` ids arrived."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=kafka, auto_offset_reset="earliest",
                                group_id=f"reader-{uuid.uuid4()}", enable_auto_commit=False)
    await consumer.start()
    records: list = []
    ids: set[bytes] = set()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while len(ids) < want_unique and loop.time() < deadline:
            for batch in (await consumer.getmany(timeout_ms=300)).values():
                for rec in batch:
                    headers = dict(rec.headers)
                    if headers.get("ce_partnership") == partnership.encode():
                        records.append(rec)
                        ids.add(headers["ce_id"])
    finally:
        await consumer.stop()
    return records


def inversions(records: list) -> tuple[int, int]:
    """(order inversions, duplicates) as a consumer with an inbox sees them: a
    repeat changes nothing, so only the order of each id's first arrival counts."""
    seen: set[bytes] = set()
    highest: dict[bytes, int] = {}
    inverted = duplicates = 0
    for rec in records:
        event_id = dict(rec.headers)["ce_id"]
        if event_id in seen:
            duplicates += 1
            continue
        seen.add(event_id)
        seq = int(json.loads(rec.value)["guide_id"])
        if seq < highest.get(rec.key, -1):
            inverted += 1
        highest[rec.key] = max(seq, highest.get(rec.key, -1))
    return inverted, duplicates


async def test_no_key_is_reordered_when_the_broker_connection_fails_mid_batch(database_url, tmp_path):
    proxy = await FlakyProxy(upstream_port=free_port()).start()
    broker = EmbeddedKafka(port=proxy.upstream[1], advertised_port=proxy.port, log_path=str(tmp_path / "tansu.log"))
    broker.start()
    try:
        await wait_until_ready(proxy.address)
        settings = service_settings(ServiceSettings, "journey", proxy.address, database_url)
        runtime = ServiceRuntime(settings, new_metadata(), service_package=None)
        # Sends give up after a second, so an outage of a few seconds fails
        # sends mid-batch (in production the default waits much longer).
        runtime.relay.send_timeout_seconds = 1.0
        outbox = runtime.tables.outbox
        written = Counter()
        faults_done = asyncio.Event()

        async def write_steadily() -> None:
            while not faults_done.is_set():
                async with runtime.unit_of_work() as uow:
                    for _ in range(5):
                        for key in KEYS:
                            await uow.publish(GuideAssigned(
                                journey_id=uuid.uuid4(), citizen_id=key, guide_id=str(written[key]),
                                guide_org="varde-kommune", assigned_at=datetime.now(UTC)))
                            written[key] += 1
                await asyncio.sleep(0.02)  # pacing: a steady stream, not a single burst

        async def sent() -> int:
            async with runtime.db.sessions() as s:
                return await s.scalar(sa.select(sa.func.count()).select_from(outbox).where(outbox.c.sent_at.is_not(None)))

        async with runtime.running():
            writer = asyncio.create_task(write_steadily())
            try:
                for fault in FAULTS:
                    before = await sent()

                    async def progressed() -> bool:
                        return await sent() >= before + 200

                    await wait_until(progressed, timeout=60)
                    failures = runtime.metrics.relay_failures._value.get()
                    if fault == "drop":
                        proxy.drop()
                        continue
                    proxy.stall() if fault == "stall" else proxy.cut()

                    async def relay_failed() -> bool:
                        return runtime.metrics.relay_failures._value.get() > failures

                    # The line stays down until sends in flight have failed.
                    await wait_until(relay_failed, timeout=60)
                    proxy.restore()
            finally:
                faults_done.set()
                await writer
            total = sum(written.values())

            async def all_sent() -> bool:
                return await sent() == total

            await wait_until(all_sent, timeout=120)

        records = await read_back(proxy.address, topic_for(GuideAssigned, settings.partnership_id, settings.org_id),
                                  settings.partnership_id, total)
        inverted, duplicates = inversions(records)
        published = Counter(rec.key for rec in records)
        print(f"\n{total} rows over {len(KEYS)} keys, {len(FAULTS)} faults, {proxy.dropped} connections broken, "
              f"{runtime.metrics.relay_failures._value.get():.0f} failed relay rounds: "
              f"{inverted} order inversions, {duplicates} duplicates")
        assert len({dict(r.headers)["ce_id"] for r in records}) == total  # every row published
        assert all(published[str(k).encode()] >= written[k] for k in KEYS)
        assert runtime.metrics.relay_failures._value.get() >= len(FAULTS) - FAULTS.count("drop")
        assert inverted == 0
    finally:
        broker.stop()
        await proxy.stop()
