"""The delivery policy for every service's subscriptions (DESIGN.md section 3).

A plain aiokafka consumer rather than a framework subscriber: it hands us raw
bytes (our own parser judges every header and body, so one bad record cannot
fail the records around it), and it lets the service serve HTTP while the
consumer connects and joins its group in the background.

It subscribes by pattern to its partnership's topics of the services it has
handlers for (`subscription_pattern`): every organisation's topic of those
services, one that joins later included (found when the consumer next reads
the topic list, every KAFKA_METADATA_MAX_AGE_MS), never another partnership's
and never a dead-letter topic.

Explicit consumer group, earliest offset, no auto-commit: each partition's
batch is handled by `BatchDelivery` in one database transaction, and its
offsets are committed only after that transaction committed. A crash
anywhere redelivers from the last committed offset; the inbox and the
dead-letter memory make the repeat harmless.
"""

from __future__ import annotations

import asyncio
import logging
from enum import Enum

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from brobygger_contracts import EVENTS_BY_TYPE, Event, subscription_pattern
from brobygger_runtime.batch_delivery import BatchDelivery, Handler, Outcome, ShuttingDown
from brobygger_runtime.context import RuntimeParts
from brobygger_runtime.kafka_options import kafka_client_options

log = logging.getLogger(__name__)

__all__ = ["ConsumerState", "EventConsumer", "Handler", "Outcome", "ShuttingDown"]


class ConsumerState(str, Enum):
    idle = "idle"  # no handlers, or not started
    connecting = "connecting"
    joining = "joining"  # connected, waiting for the group to assign partitions
    consuming = "consuming"
    stopped = "stopped"


class _FinishBatchFirst(ConsumerRebalanceListener):
    """A partition is handed to another replica only after its batch in hand was committed."""

    def __init__(self, busy: asyncio.Lock) -> None:
        self.busy = busy

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        async with self.busy:
            pass

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        return None


class EventConsumer:
    """Routes the events of the subscribed topics to the service's handlers."""

    def __init__(self, parts: RuntimeParts) -> None:
        self.parts = parts
        self.handlers: dict[str, Handler] = {}
        self.state = ConsumerState.idle
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._busy = asyncio.Lock()
        self._committed: dict[TopicPartition, int] = {}
        self.delivery = BatchDelivery(parts, self.handlers, lambda: self._stopping)

    def register(self, event_cls: type[Event], handler: Handler) -> None:
        key = event_cls.event_type()
        if key in self.handlers:
            raise ValueError(f"{key} already has a handler")
        self.handlers[key] = handler

    @property
    def services(self) -> list[str]:
        """The publishing services whose topics this consumer reads."""
        return sorted({EVENTS_BY_TYPE[t].publisher for t in self.handlers})

    @property
    def pattern(self) -> str | None:
        """The regex of the topics subscribed to: this partnership's, of every
        organisation, of the services (and major versions) handled."""
        if not self.handlers:
            return None
        classes = [EVENTS_BY_TYPE[t] for t in self.handlers]
        return subscription_pattern(self.parts.settings.partnership_id, self.services, {c.version for c in classes})

    @property
    def ready(self) -> bool:
        """Consuming, or nothing to consume."""
        return not self.handlers or self.state is ConsumerState.consuming

    def start(self) -> None:
        """Connect, join and consume in the background; returns at once."""
        if not self.handlers or self._task is not None:
            return
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="event-consumer")

    async def stop(self) -> None:
        """Let the batch in hand finish (it commits, or waits out nothing more), then leave the group."""
        self._stopping = True
        if self._task is not None:
            await self._task
            self._task = None
        self.state = ConsumerState.stopped if self.handlers else ConsumerState.idle

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            consumer = self._new_consumer()
            try:
                self.state = ConsumerState.connecting
                await consumer.start()
                self._consumer = consumer
                self.state = ConsumerState.joining
                await self._consume(consumer)
                failures = 0
            except Exception:  # noqa: BLE001 - the loop must outlive broker outages
                failures += 1
                log.warning("consumer failed (%d in a row); reconnecting", failures, exc_info=True)
            finally:
                self._consumer = None
                try:
                    await consumer.stop()
                except Exception:  # noqa: BLE001
                    log.debug("stopping the consumer failed", exc_info=True)
            if failures and not self._stopping:
                await asyncio.sleep(min(30.0, 0.5 * 2**failures))

    def _new_consumer(self) -> AIOKafkaConsumer:
        s = self.parts.settings
        consumer = AIOKafkaConsumer(
            bootstrap_servers=s.kafka_bootstrap_servers,
            group_id=s.group_id,
            client_id=f"brobygger-{s.org_id}-{s.service_name}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=s.consumer_batch_size,
            fetch_max_wait_ms=s.consumer_fetch_max_wait_ms,
            session_timeout_ms=s.kafka_session_timeout_ms,
            heartbeat_interval_ms=max(1000, s.kafka_session_timeout_ms // 3),
            metadata_max_age_ms=s.kafka_metadata_max_age_ms,
            **kafka_client_options(s),
        )
        consumer.subscribe(pattern=self.pattern, listener=_FinishBatchFirst(self._busy))
        return consumer

    async def _consume(self, consumer: AIOKafkaConsumer) -> None:
        while not self._stopping:
            batches = await consumer.getmany(timeout_ms=200, max_records=self.parts.settings.consumer_batch_size)
            # Joined with partitions, or no topic of the pattern exists yet (none to wait for).
            if consumer.assignment() or not consumer.subscription():
                self.state = ConsumerState.consuming
            for tp, records in batches.items():
                if self._stopping:
                    return
                async with self._busy:
                    if tp not in consumer.assignment():
                        continue  # handed to another replica meanwhile: it reads them from the committed offset
                    try:
                        await self.delivery.deliver(records)
                    except ShuttingDown:
                        return  # not committed: delivered again after the restart
                    except Exception:  # noqa: BLE001 - read them again rather than skip them
                        log.exception("batch of %s failed; reading it again", tp)
                        consumer.seek(tp, records[0].offset)
                        await asyncio.sleep(1.0)
                        continue
                    await self._commit(consumer, tp, records[-1].offset + 1)

    async def _commit(self, consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int) -> None:
        try:
            await consumer.commit({tp: OffsetAndMetadata(offset, "")})
            self._committed[tp] = offset
        except Exception:  # noqa: BLE001 - the records come again; the inbox absorbs them
            log.warning("committing %s at %d failed; its records may be delivered again", tp, offset, exc_info=True)

    async def refresh_lag(self) -> None:
        """Consumer lag per assigned partition: its end (as last fetched) minus our committed offset."""
        consumer = self._consumer
        if consumer is None:
            return
        gauge = self.parts.metrics.consumer_lag
        for tp in consumer.assignment():
            end = consumer.highwater(tp)
            if end is None:
                continue
            committed = self._committed.get(tp)
            if committed is None:
                committed = await consumer.committed(tp) or 0
            gauge.labels(tp.topic, str(tp.partition)).set(max(0, end - committed))
