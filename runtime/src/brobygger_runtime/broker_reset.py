"""Noticing that the broker lost what we published (the embedded broker keeps
nothing across its own restart) so the relay can publish it again.

The check reads back the last record this service published, at the partition
and offset the broker confirmed for it. If another event sits there, or the
offset is at or beyond the partition's end, the log was reset: every outbox
row still kept is marked for republishing. Consumers' inboxes make the repeats
harmless. An offset below the partition's start was removed by retention, not
lost: nothing is republished. The partition's start and end (ListOffsets) are
asked only after the broker answered "out of range"; some Kafka-compatible
brokers answer an empty fetch instead, and then the fetch's high watermark
tells.

The check connects with the service's own client options (SASL, TLS): see
`kafka_options.kafka_client_options`.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import OffsetOutOfRangeError
from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)


async def last_sent(session: AsyncSession, outbox: sa.Table) -> sa.Row | None:
    return (
        await session.execute(
            sa.select(outbox.c.event_id, outbox.c.topic, outbox.c.kafka_partition, outbox.c.kafka_offset)
            .where(outbox.c.sent_at.is_not(None), outbox.c.kafka_offset.is_not(None))
            .order_by(outbox.c.sent_at.desc(), outbox.c.id.desc())
            .limit(1)
        )
    ).first()


def lost_by_range(offset: int, log_start: int | None, log_end: int | None) -> bool | None:
    """Whether a record the broker no longer serves at `offset` was lost, from the partition's range.

    Below the log start: removed by retention (False). At or beyond the end:
    the log was reset (True). Inside the range, or unknown: unsure (None).
    """
    if log_start is not None and offset < log_start:
        return False
    if log_end is not None and offset >= log_end:
        return True
    return None


async def broker_lost(bootstrap_servers: str, topic: str, partition: int, offset: int, event_id: str, **client_options) -> bool | None:
    """True when the record is gone or replaced, False when it is there (or removed by retention), None when unsure.

    `client_options`: `kafka_client_options(settings)`, so a secured cluster is reached like every other client does.
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False,
                                auto_offset_reset="none", **client_options)
    await consumer.start()
    try:
        tp = TopicPartition(topic, partition)
        if partition not in (consumer.partitions_for_topic(topic) or set()):
            await consumer._client.force_metadata_update()  # noqa: SLF001 - the topic may be new to this client
            if partition not in (consumer.partitions_for_topic(topic) or set()):
                return True  # the topic or partition no longer exists
        consumer.assign([tp])
        consumer.seek(tp, offset)
        try:
            batch = await consumer.getmany(tp, timeout_ms=3000, max_records=1)
        except OffsetOutOfRangeError:
            start = (await consumer.beginning_offsets([tp])).get(tp)
            end = (await consumer.end_offsets([tp])).get(tp)
            verdict = lost_by_range(offset, start, end)
            if verdict is False:
                log.info("the last record published (%s@%d) was removed by retention (log starts at %s)", tp, offset, start)
            return verdict
        records = batch.get(tp, [])
        if not records:
            # Some brokers answer an empty fetch rather than "out of range";
            # the fetch's high watermark still tells whether the offset exists.
            return lost_by_range(offset, None, consumer.highwater(tp))
        headers = dict(records[0].headers or ())
        return records[0].offset != offset or headers.get("ce_id", b"").decode() != event_id
    finally:
        await consumer.stop()
