"""The outbox relay: publishes outbox rows in order and marks them sent only
after the broker confirmed (acks=all). One relay runs per service instance:
replicas share the instance's database and take turns through a lease.

Order: a batch goes out in waves, at most one unconfirmed row per key at a
time and all keys in parallel. A row that fails may thus never be overtaken by
a later row of its key: nothing later of that key was sent. A batch of rows
over distinct keys is a single wave.

A row the broker refuses for good (too large, no such topic, not authorised)
is parked for an operator (`brobygger outbox parked` / `release`) instead of
blocking every row behind it. Anything else (broker unreachable, timeouts)
is transient: the round fails, and the row and the rest of its key wait.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    InvalidTopicError,
    MessageSizeTooLargeError,
    PolicyViolationError,
    RecordListTooLargeError,
    RecordTooLargeError,
    TopicAuthorizationFailedError,
    UnsupportedForMessageFormatError,
)

from brobygger_runtime import broker_reset, outbox
from brobygger_runtime.kafka_options import kafka_client_options
from brobygger_runtime.singleton import SingletonLoop

if TYPE_CHECKING:
    from brobygger_runtime.context import RuntimeParts

log = logging.getLogger(__name__)

# What the broker (or the client, before sending) refuses whatever we do: a
# retry sends the same bytes to the same topic and gets the same answer.
PERMANENT_ERRORS = (
    MessageSizeTooLargeError,
    RecordTooLargeError,
    RecordListTooLargeError,
    InvalidTopicError,
    TopicAuthorizationFailedError,
    PolicyViolationError,
    UnsupportedForMessageFormatError,
)


class RelayInterrupted(RuntimeError):
    """Some rows could not be published now; they and the rest of their keys wait for the next round."""


@dataclass
class _Outcome:
    sent: list[dict] = field(default_factory=list)
    parked: list[dict] = field(default_factory=list)
    failed: int = 0
    cause: BaseException | None = None
    stuck: bool = False
    """The producer could not even take a row: send nothing more this round."""


class OutboxRelay:
    send_timeout_seconds: float = 30.0
    """How long a send may wait for the broker before the round fails (and is retried later)."""
    max_batch_bytes: int = 256 * 1024
    """Records per partition per produce request: a wave of 500 events fits in one request per partition."""

    def __init__(self, runtime: "RuntimeParts") -> None:
        self.runtime = runtime
        settings = runtime.settings
        self.loop = SingletonLoop(runtime, f"outbox-relay:{settings.service_name}", settings.outbox_poll_seconds, self._round)
        self._last_purge = datetime.min.replace(tzinfo=UTC)
        self._last_reset_check = time.monotonic()
        self._producer: AIOKafkaProducer | None = None
        self._known_topics: set[str] = set()

    def wake(self) -> None:
        self.loop.wake()

    def start(self) -> None:
        self.loop.start()

    async def stop(self) -> None:
        await self.loop.stop(release=False)
        # Drain what is left so a graceful stop leaves nothing behind.
        try:
            if await self.loop.hold_lease():
                await self._publish_all()
        except Exception:  # noqa: BLE001
            log.warning("could not drain the outbox at shutdown; rows stay for the next start", exc_info=True)
        await self.loop.release()
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def _round(self) -> None:
        settings = self.runtime.settings
        try:
            await self._publish_all()
        except Exception:
            self.runtime.metrics.relay_failures.inc()
            raise
        if time.monotonic() - self._last_reset_check > settings.broker_reset_check_seconds:
            self._last_reset_check = time.monotonic()
            await self.republish_if_broker_was_reset()
        if datetime.now(UTC) - self._last_purge > timedelta(hours=1):
            await self.purge_expired()
            self._last_purge = datetime.now(UTC)

    async def _publish_all(self) -> None:
        # publish_pending re-checks the lease after each batch; a long drain
        # (a 30-day republish) stops as soon as another replica took over.
        while self.loop.holding and await self.publish_pending() >= self.runtime.settings.outbox_batch_size:
            pass  # a full batch: there may be more

    async def _started_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            s = self.runtime.settings
            producer = AIOKafkaProducer(
                bootstrap_servers=s.kafka_bootstrap_servers,
                client_id=f"brobygger-{s.org_id}-{s.service_name}-relay",
                acks="all",
                enable_idempotence=s.kafka_enable_idempotence,
                request_timeout_ms=int(self.send_timeout_seconds * 1000),
                max_batch_size=self.max_batch_bytes,
                **kafka_client_options(s),
            )
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
            self._known_topics.clear()
        return self._producer

    async def publish_pending(self) -> int:
        """Publish one batch of unsent rows, in order per key; returns how many were sent or parked
        (0 when another replica took the lease over meanwhile).

        Raises RelayInterrupted when some rows could not be sent now (after
        recording what was sent and parked)."""
        rt = self.runtime
        table = rt.tables.outbox
        async with rt.db.sessions() as session:
            rows = (
                await session.execute(
                    sa.select(table.c.id, table.c.event_type, table.c.topic, table.c.key, table.c.headers, table.c.payload)
                    .where(table.c.sent_at.is_(None), table.c.parked_at.is_(None))
                    .order_by(table.c.id)
                    .limit(rt.settings.outbox_batch_size)
                )
            ).all()
        if not rows:
            return 0
        producer = await self._started_producer()
        outcome = _Outcome()
        missing = await self._missing_topics(producer, {row.topic for row in rows})
        queues: dict[str, deque] = {}
        for row in rows:
            if row.topic in missing:
                self._park(outcome, row, f"topic {row.topic} does not exist on the broker")
            else:
                queues.setdefault(row.key, deque()).append(row)
        while queues and not outcome.stuck:
            await self._send_wave(producer, [queue.popleft() for queue in queues.values()], outcome, queues)
            queues = {key: queue for key, queue in queues.items() if queue}
        still_ours = await self._record(outcome)
        if outcome.parked:
            log.error("parked %d outbox rows the broker refuses for good: %s", len(outcome.parked),
                      "; ".join(f"row {p['row_id']}: {p['reason']}" for p in outcome.parked[:5]))
        if outcome.failed:
            raise RelayInterrupted(
                f"published {len(outcome.sent)} of {len(rows)} outbox rows; the rest wait: {outcome.cause!r}"
            ) from outcome.cause
        return len(outcome.sent) + len(outcome.parked) if still_ours else 0

    async def _send_wave(self, producer: AIOKafkaProducer, wave: list, outcome: _Outcome, queues: dict[str, deque]) -> None:
        """Send one row per key and await them all; a key whose row failed sends nothing more this round."""
        in_flight = []
        for row in wave:
            try:
                record = self._record_of(row)
            except Exception as exc:  # noqa: BLE001 - a row we cannot even encode never will be
                self._park(outcome, row, f"malformed outbox row: {exc!r}")
                continue
            try:
                in_flight.append((row, await producer.send(row.topic, **record)))
            except PERMANENT_ERRORS as exc:
                self._park(outcome, row, repr(exc))
            except Exception as exc:  # noqa: BLE001 - e.g. no room in the producer's buffer: the broker is stuck
                # The rows of this wave not yet handed over were not sent: they
                # simply wait. Stop here rather than wait a timeout per row.
                self._fail(outcome, row, exc, queues)
                outcome.stuck = True
                break
        for row, future in in_flight:
            try:
                meta = await future
            except PERMANENT_ERRORS as exc:
                self._park(outcome, row, repr(exc))
            except Exception as exc:  # noqa: BLE001 - transient: try again next round
                self._fail(outcome, row, exc, queues)
            else:
                outcome.sent.append({"row_id": row.id, "p": meta.partition, "o": meta.offset})
                self.runtime.metrics.events_published.labels(row.event_type).inc()

    def _fail(self, outcome: _Outcome, row: Any, exc: BaseException, queues: dict[str, deque]) -> None:
        log.warning("could not publish outbox row %s now: %r", row.id, exc)
        outcome.failed += 1
        outcome.cause = outcome.cause or exc
        queues.pop(row.key, None)  # later rows of this key must not overtake it
        self._known_topics.discard(row.topic)  # a topic deleted meanwhile shows at the next metadata check

    @staticmethod
    def _park(outcome: _Outcome, row: Any, reason: str) -> None:
        outcome.parked.append({"row_id": row.id, "reason": reason[:500]})

    @staticmethod
    def _record_of(row: Any) -> dict:
        return {
            "value": row.payload.encode(),
            "key": row.key.encode(),
            "headers": [(k, v.encode()) for k, v in row.headers],
        }

    async def _missing_topics(self, producer: AIOKafkaProducer, topics: set[str]) -> set[str]:
        """Topics the broker answers it does not have. Asked once per topic: a
        producer would wait its whole timeout on a missing topic, and some
        brokers create any topic a producer asks metadata for."""
        unknown = topics - self._known_topics
        if not unknown:
            return set()
        cluster = await producer.client.fetch_all_metadata()  # raises when the broker does not answer
        present = cluster.topics()
        self._known_topics |= unknown & present
        return unknown - present

    async def _record(self, outcome: _Outcome) -> bool:
        """Mark sent and parked rows and renew the lease in one transaction; False when the lease was taken over."""
        rt = self.runtime
        table = rt.tables.outbox
        now = datetime.now(UTC)
        async with rt.db.transaction() as session:
            if outcome.sent:
                await session.execute(
                    table.update()
                    .where(table.c.id == sa.bindparam("row_id"))
                    .values(
                        sent_at=now,
                        kafka_partition=sa.bindparam("p"),
                        kafka_offset=sa.bindparam("o"),
                        send_count=table.c.send_count + 1,
                    ),
                    outcome.sent,
                )
            if outcome.parked:
                await session.execute(
                    table.update()
                    .where(table.c.id == sa.bindparam("row_id"))
                    .values(parked_at=now, park_reason=sa.bindparam("reason")),
                    outcome.parked,
                )
                rt.metrics.outbox_parked.set(await outbox.parked_count(session, table))
            # Rows confirmed by the broker are marked even when the lease was
            # lost meanwhile: they were published, whoever publishes next.
            return await self.loop.renew_in(session)

    async def refresh_backlog_metrics(self) -> None:
        rt = self.runtime
        async with rt.db.sessions() as session:
            count, oldest = await outbox.backlog(session, rt.tables.outbox)
            parked = await outbox.parked_count(session, rt.tables.outbox)
        rt.metrics.outbox_backlog.set(count)
        rt.metrics.outbox_parked.set(parked)
        age = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
        rt.metrics.outbox_oldest_age.set(age)

    async def purge_expired(self) -> int:
        rt = self.runtime
        before = datetime.now(UTC) - timedelta(days=rt.settings.outbox_retention_days)
        async with rt.db.transaction() as session:
            return await outbox.purge_sent(session, rt.tables.outbox, before)

    async def republish_if_broker_was_reset(self) -> int:
        """Read back the last record we published; if the broker lost it, send everything kept again."""
        rt = self.runtime
        async with rt.db.sessions() as session:
            last = await broker_reset.last_sent(session, rt.tables.outbox)
        if last is None:
            return 0
        lost = await broker_reset.broker_lost(
            rt.settings.kafka_bootstrap_servers, last.topic, last.kafka_partition, last.kafka_offset, last.event_id,
            **kafka_client_options(rt.settings),
        )
        if not lost:
            return 0
        since = datetime.now(UTC) - timedelta(days=rt.settings.outbox_retention_days)
        count = await self.republish_since(since)
        log.warning("the broker lost the events this service published; republishing %d kept outbox rows", count)
        return count

    async def republish_since(self, since: datetime) -> int:
        """Operator command and broker-reset response: send rows again from `since`."""
        rt = self.runtime
        async with rt.db.transaction() as session:
            count = await outbox.mark_for_republish(session, rt.tables.outbox, since)
        rt.metrics.outbox_republished.inc(count)
        self.wake()
        return count
