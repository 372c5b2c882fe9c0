"""Operator tasks: outbox backlog, parked rows and republishing, dead letters, consumer lag.

Plain functions over a database URL or a broker address, so the CLI, tests and
scripts share them. `client_options` are the Kafka security settings
(SASL/TLS: `brobygger_runtime.kafka_options`), none for the embedded broker.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy.ext.asyncio import create_async_engine

from brobygger_contracts import parse_topic
from brobygger_runtime.db import new_metadata
from brobygger_runtime import outbox as outbox_rows
from brobygger_runtime.outbox import backlog, mark_for_republish

log = logging.getLogger(__name__)

DLT_HEADER_PREFIX = "dlt_"


@dataclass(frozen=True)
class OutboxState:
    unsent: int
    oldest_unsent_age_seconds: float | None
    total: int
    parked: int = 0


async def outbox_state(database_url: str) -> OutboxState:
    outbox = new_metadata().tables["outbox"]
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            from sqlalchemy.ext.asyncio import AsyncSession

            session = AsyncSession(bind=conn)
            count, oldest = await backlog(session, outbox)
            total = await session.scalar(sa.select(sa.func.count()).select_from(outbox))
            parked = await outbox_rows.parked_count(session, outbox)
    finally:
        await engine.dispose()
    age = (datetime.now(UTC) - oldest).total_seconds() if oldest else None
    return OutboxState(count, age, int(total or 0), parked)


@dataclass(frozen=True)
class ParkedRow:
    id: int
    event_id: str
    event_type: str
    topic: str
    key: str
    created_at: datetime
    parked_at: datetime
    reason: str


async def parked_rows(database_url: str) -> list[ParkedRow]:
    """Outbox rows the relay parked because the broker refuses them for good, oldest first."""
    outbox = new_metadata().tables["outbox"]
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            from sqlalchemy.ext.asyncio import AsyncSession

            rows = await outbox_rows.parked(AsyncSession(bind=conn), outbox)
    finally:
        await engine.dispose()
    return [ParkedRow(r.id, r.event_id, r.event_type, r.topic, r.key, r.created_at, r.parked_at, r.park_reason or "")
            for r in rows]


async def release_parked(database_url: str, ids: list[int] | None = None, topic: str | None = None) -> int:
    """Put parked rows back in the queue (after fixing the cause: topic created, size limit raised);
    the service's running relay sends them within a poll interval. None and None releases every parked row."""
    outbox = new_metadata().tables["outbox"]
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            from sqlalchemy.ext.asyncio import AsyncSession

            return await outbox_rows.release(AsyncSession(bind=conn), outbox, ids, topic)
    finally:
        await engine.dispose()


async def republish_outbox(database_url: str, since: datetime) -> int:
    """Mark rows created since `since` unsent; the service's running relay sends them again.
    For after the broker lost its data (the embedded broker keeps nothing across a restart)."""
    outbox = new_metadata().tables["outbox"]
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            from sqlalchemy.ext.asyncio import AsyncSession

            session = AsyncSession(bind=conn)
            return await mark_for_republish(session, outbox, since)
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    cause: str
    reason: str
    consumer: str
    original: str
    ce_type: str | None
    ce_id: str | None


async def _read_all(bootstrap: str, topic: str, **client_options) -> list:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest",
                                **client_options)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            await consumer._client.force_metadata_update()  # noqa: SLF001 - fresh metadata for a topic seen first now
            partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        records = []
        while True:
            batch = await consumer.getmany(timeout_ms=1000)
            if not batch:
                return records
            for recs in batch.values():
                records.extend(recs)
    finally:
        await consumer.stop()


def _headers(record) -> dict[str, str]:  # noqa: ANN001
    return {k: v.decode("utf-8", "replace") for k, v in record.headers or ()}


async def list_dead_letters(bootstrap: str, dlt_topic: str, **client_options) -> list[DeadLetter]:
    name = parse_topic(dlt_topic)
    if name is None or not name.is_dead_letter:
        raise ValueError(f"{dlt_topic!r} is not a dead-letter topic (brobygger.<partnership>.<service>.<org>.v<n>.dlt)")
    letters = []
    for record in await _read_all(bootstrap, dlt_topic, **client_options):
        h = _headers(record)
        letters.append(DeadLetter(
            record.partition, record.offset, h.get("dlt_cause", "?"), h.get("dlt_reason", ""), h.get("dlt_consumer", ""),
            f"{h.get('dlt_original_topic')}/{h.get('dlt_original_partition')}@{h.get('dlt_original_offset')}",
            h.get("ce_type"), h.get("ce_id"),
        ))
    return letters


def replay_target(dlt_topic: str) -> str:
    """The only topic a dead letter of `dlt_topic` may go back to: the one that
    dead-letter topic belongs to. Never a topic the record names itself (its
    `dlt_original_topic` header is as forgeable as the rest of it)."""
    name = parse_topic(dlt_topic)
    if name is None or not name.is_dead_letter:
        raise ValueError(f"{dlt_topic!r} is not the dead-letter topic of a publisher's topic")
    return name.event_topic


async def replay_dead_letter(bootstrap: str, dlt_topic: str, partition: int, offset: int, **client_options) -> str:
    """Send a dead-lettered record back to the topic its dead-letter topic belongs
    to, without the dlt_ headers.

    The consumer handles it like any new record; its inbox did not record the
    event when it failed, so the fixed handler runs once."""
    target = replay_target(dlt_topic)
    for record in await _read_all(bootstrap, dlt_topic, **client_options):
        if record.partition == partition and record.offset == offset:
            headers = [(k, v) for k, v in record.headers or () if not k.startswith(DLT_HEADER_PREFIX)]
            claimed = _headers(record).get("dlt_original_topic")
            if claimed and claimed != target:
                log.warning("dead letter %s/%d@%d claims it came from %s; replaying to %s", dlt_topic, partition, offset,
                            claimed[:249], target)
            producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", **client_options)
            await producer.start()
            try:
                await producer.send_and_wait(target, record.value, key=record.key, headers=headers)
            finally:
                await producer.stop()
            return target
    raise LookupError(f"no record at {dlt_topic}/{partition}@{offset}")


async def consumer_lag(bootstrap: str, group: str, **client_options) -> dict[tuple[str, int], int]:
    """Records behind the end of each partition of the group's partnership's
    event topics (a group is `<partnership>.<org>.<service>`) that it has committed on.

    Reads the committed offsets through a consumer of the group that does not
    join it (the admin client's OffsetFetch is not understood by every
    Kafka-compatible broker; the consumer's is)."""
    partnership = group.split(".", 1)[0]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False, **client_options)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()  # noqa: SLF001 - the client's view, with every topic
        ours = sorted(t for t in await consumer.topics()
                      if (name := parse_topic(t)) and not name.is_dead_letter and name.partnership == partnership)
        tps = [TopicPartition(t, p) for t in ours for p in sorted(consumer.partitions_for_topic(t) or ())]
        committed = {tp: await consumer.committed(tp) for tp in tps}
        committed = {tp: offset for tp, offset in committed.items() if offset is not None}
        ends = await consumer.end_offsets(list(committed)) if committed else {}
    finally:
        await consumer.stop()
    return {(tp.topic, tp.partition): max(0, ends[tp] - offset) for tp, offset in committed.items()}


def run(coro):  # noqa: ANN001, ANN201
    return asyncio.run(coro)
