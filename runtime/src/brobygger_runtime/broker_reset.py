"""Noticing that the broker lost what we published (the embedded broker keeps
nothing across its own restart) so the relay can publish it again.

The check reads back the last record this service published, at the partition
and offset the broker confirmed for it. If the broker says that offset is out
of range, or another event sits there, the log was reset: every outbox row
still kept is marked for republishing. Consumers' inboxes make the repeats
harmless. ListOffsets is not used: not every Kafka-compatible broker answers
it correctly, while fetching at an offset is what consumers rely on anyway.
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


async def broker_lost(bootstrap_servers: str, topic: str, partition: int, offset: int, event_id: str, **client_kw) -> bool | None:
    """True when the record is gone or replaced, False when it is there, None when unsure."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False,
                                auto_offset_reset="none", **client_kw)
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
            return True
        records = batch.get(tp, [])
        if not records:
            # Some brokers answer an empty fetch rather than "out of range";
            # the fetch's high watermark still tells whether the offset exists.
            end = consumer.highwater(tp)
            return True if end is not None and end <= offset else None
        headers = dict(records[0].headers or ())
        return records[0].offset != offset or headers.get("ce_id", b"").decode() != event_id
    finally:
        await consumer.stop()

