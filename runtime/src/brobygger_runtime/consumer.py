"""The delivery policy for every subscriber (DESIGN.md section 3).

Explicit consumer group, earliest offset, manual commit after the handler's
database transaction committed. Transient failures (database or broker away)
are retried with capped back-off while the partition waits; any other failure
is retried a bounded number of times and then, like a malformed envelope, an
unknown type or a refused business rule, published to `<topic>.dlt` with its
cause in headers, awaited, before the offset is committed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING, Awaitable, Callable, Sequence

from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy
from pydantic import ValidationError

from brobygger_contracts import EVENTS_BY_TYPE, Envelope, EnvelopeError, Event, dead_letter_topic, read_payload, topic_for
from brobygger_contracts.envelope import DeadLetterCause
from brobygger_runtime import inbox
from brobygger_runtime.errors import PermanentError, is_transient
from brobygger_runtime.logs import current_event_id, current_subject
from brobygger_runtime.tracing import consuming
from brobygger_runtime.unit_of_work import UnitOfWork, unit_of_work

if TYPE_CHECKING:
    from brobygger_runtime.service import ServiceRuntime

log = logging.getLogger(__name__)

Handler = Callable[[Event, UnitOfWork], Awaitable[None]]


class Outcome(str, Enum):
    handled = "handled"
    duplicate = "duplicate"
    ignored = "ignored"
    dead_lettered = "dead_lettered"


@dataclass
class _Rejection(Exception):
    cause: DeadLetterCause
    reason: str


@dataclass
class _HandlerFailed(Exception):
    index: int


class ShuttingDown(Exception):
    """The service is stopping while an event waits for a transient failure to pass."""


class EventConsumer:
    """Routes the events of subscribed topics to the service's handlers."""

    def __init__(self, runtime: "ServiceRuntime") -> None:
        self.runtime = runtime
        self.handlers: dict[str, Handler] = {}
        self.stopping = False
        self.subscriber = None

    def register(self, event_cls: type[Event], handler: Handler) -> None:
        key = event_cls.event_type()
        if key in self.handlers:
            raise ValueError(f"{key} already has a handler")
        self.handlers[key] = handler

    @property
    def topics(self) -> list[str]:
        return sorted({topic_for(EVENTS_BY_TYPE[t]) for t in self.handlers})

    def subscribe(self, broker: KafkaBroker) -> None:
        if not self.handlers:
            return
        subscriber = broker.subscriber(
            *self.topics,
            group_id=self.runtime.settings.group_id,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            batch=True,
            max_records=self.runtime.settings.consumer_batch_size,
            batch_timeout_ms=50,
        )

        async def on_batch(message: KafkaMessage) -> None:
            records = message.raw_message
            records = records if isinstance(records, tuple) else (records,)
            try:
                await self.process_batch(records)
            except BaseException:
                await message.nack()  # seek back: the unfinished records are delivered again
                raise
            await message.ack()

        subscriber(on_batch)
        self.subscriber = subscriber

    async def refresh_lag(self) -> None:
        """Consumer lag per assigned partition: the partition's end (as last
        fetched) minus this group's committed offset."""
        consumer = getattr(self.subscriber, "consumer", None)
        if consumer is None:
            return
        gauge = self.runtime.metrics.consumer_lag
        for tp in consumer.assignment():
            end = consumer.highwater(tp)
            if end is None:
                continue
            committed = await consumer.committed(tp) or 0
            gauge.labels(tp.topic, str(tp.partition)).set(max(0, end - committed))

    async def process_batch(self, records: Sequence[ConsumerRecord]) -> list[Outcome]:
        """Handle records in order, as many as possible in one transaction.

        The fast path runs consecutive records in one database transaction, each
        in a savepoint. At the first record that fails (or cannot be parsed), the
        records before it are committed, the failing one goes through `process`
        with the full retry and dead-letter policy on its own, and the fast path
        resumes after it, so per-key order holds.
        """
        outcomes: list[Outcome] = []
        position = 0
        while position < len(records):
            done = await self._fast_path(records[position:])
            outcomes.extend(done)
            position += len(done)
            if position < len(records):
                outcomes.append(await self.process(records[position]))
                position += 1
        return outcomes

    async def _fast_path(self, records: Sequence[ConsumerRecord]) -> list[Outcome]:
        """Handle a prefix of `records` in one transaction; returns its outcomes.

        Stops before the first record that cannot be parsed. When a handler
        fails, the transaction is rolled back and redone without that record
        and those after it; the slow path then takes the failing one.
        """
        batch: list[tuple[Envelope, Event | None]] = []
        for record in records:
            try:
                envelope, event_cls = self._parse_envelope(record)
                event = self._parse_payload(record, event_cls) if self._is_ours(envelope) else None
            except _Rejection:
                break
            batch.append((envelope, event))
        while batch:
            started = time.perf_counter()
            try:
                outcomes = await self._run_in_one_transaction(batch)
            except _HandlerFailed as failed:
                batch = batch[: failed.index]
                continue
            except Exception:  # noqa: BLE001 - e.g. the commit failed: the slow path takes over
                log.warning("batch transaction failed; handling its records one at a time", exc_info=True)
                return []
            self._count(batch, outcomes, (time.perf_counter() - started) / len(batch))
            return outcomes
        return []

    async def _run_in_one_transaction(self, batch: list[tuple[Envelope, Event | None]]) -> list[Outcome]:
        consumer = self.runtime.settings.group_id
        table = self.runtime.tables.inbox
        outcomes: list[Outcome] = []
        handled: list[tuple[str, str]] = []
        async with unit_of_work(self.runtime) as uow:
            ids = [envelope.id for envelope, event in batch if event is not None]
            seen = await inbox.already_handled(uow.session, table, consumer, ids)
            for index, (envelope, event) in enumerate(batch):
                if event is None:
                    outcomes.append(Outcome.ignored)
                    continue
                if envelope.id in seen:
                    outcomes.append(Outcome.duplicate)
                    continue
                seen.add(envelope.id)
                uow.envelope = envelope
                token_id = current_event_id.set(envelope.id)
                token_subject = current_subject.set(envelope.subject)
                try:
                    with self._span(envelope):
                        await self.handlers[envelope.type](event, uow)
                except Exception as exc:
                    raise _HandlerFailed(index) from exc
                finally:
                    current_event_id.reset(token_id)
                    current_subject.reset(token_subject)
                handled.append((envelope.id, envelope.type))
                outcomes.append(Outcome.handled)
            await inbox.record_handled(uow.session, table, consumer, handled)
        return outcomes

    def _count(self, batch: list[tuple[Envelope, Event | None]], outcomes: list[Outcome], seconds_each: float) -> None:
        metrics = self.runtime.metrics
        for (envelope, _), outcome in zip(batch, outcomes):
            metrics.events_consumed.labels(envelope.type, outcome.value).inc()
            if outcome is Outcome.handled:
                metrics.handler_seconds.labels(envelope.type).observe(seconds_each)
            elif outcome is Outcome.duplicate:
                metrics.inbox_duplicates.labels(envelope.type).inc()

    async def process(self, record: ConsumerRecord) -> Outcome:
        """Handle one record completely; returns when its offset may be committed."""
        started = time.perf_counter()
        event_type = "unknown"
        try:
            envelope, event_cls = self._parse_envelope(record)
            event_type = envelope.type
            token_id = current_event_id.set(envelope.id)
            token_subject = current_subject.set(envelope.subject)
            try:
                if not self._is_ours(envelope):
                    outcome = Outcome.ignored
                else:
                    event = self._parse_payload(record, event_cls)
                    outcome = await self._handle_with_retries(envelope, event)
            finally:
                current_event_id.reset(token_id)
                current_subject.reset(token_subject)
        except _Rejection as rejection:
            await self._dead_letter(record, rejection.cause, rejection.reason)
            outcome = Outcome.dead_lettered
        metrics = self.runtime.metrics
        metrics.events_consumed.labels(event_type, outcome.value).inc()
        if outcome is Outcome.handled:
            metrics.handler_seconds.labels(event_type).observe(time.perf_counter() - started)
        return outcome

    def _is_ours(self, envelope: Envelope) -> bool:
        # Other partnerships may share the bus; their events are not ours to act on.
        return envelope.type in self.handlers and envelope.partnership == self.runtime.settings.partnership_id

    def _parse_envelope(self, record: ConsumerRecord) -> tuple[Envelope, type[Event]]:
        try:
            envelope = Envelope.from_headers(record.headers or ())
        except EnvelopeError as exc:
            raise _Rejection(DeadLetterCause.envelope, str(exc)) from exc
        event_cls = EVENTS_BY_TYPE.get(envelope.type)
        if event_cls is None:
            raise _Rejection(DeadLetterCause.unknown_type, f"unknown event type {envelope.type!r}")
        return envelope, event_cls

    def _parse_payload(self, record: ConsumerRecord, event_cls: type[Event]) -> Event:
        try:
            data = json.loads(record.value or b"")
            return read_payload(event_cls, data)
        except (ValueError, ValidationError) as exc:
            raise _Rejection(DeadLetterCause.validation, _short(exc)) from exc

    async def _handle_with_retries(self, envelope: Envelope, event: Event) -> Outcome:
        settings = self.runtime.settings
        attempt = 0
        transient_round = 0
        while True:
            try:
                return await self._handle_once(envelope, event)
            except PermanentError as exc:
                raise _Rejection(DeadLetterCause.business_rule, str(exc)) from exc
            except Exception as exc:  # noqa: BLE001 - classified below
                if is_transient(exc):
                    transient_round += 1
                    delay = min(settings.handler_backoff_max_seconds, settings.handler_backoff_seconds * 2**transient_round)
                    log.warning("transient failure handling %s, retrying in %.1fs: %s", envelope.type, delay, exc)
                else:
                    attempt += 1
                    if attempt >= settings.handler_max_attempts:
                        log.exception("handler failed %d times; dead-lettering", attempt)
                        raise _Rejection(DeadLetterCause.handler_error, _short(exc)) from exc
                    delay = settings.handler_backoff_seconds * 2 ** (attempt - 1)
                    log.warning("handler failed (attempt %d), retrying in %.2fs: %s", attempt, delay, exc)
                self.runtime.metrics.handler_retries.labels(envelope.type).inc()
                if self.stopping:
                    raise ShuttingDown() from exc
                await asyncio.sleep(delay)

    async def _handle_once(self, envelope: Envelope, event: Event) -> Outcome:
        with self._span(envelope):
            async with unit_of_work(self.runtime, envelope) as uow:
                return await self._claim_and_handle(uow, envelope, event)

    def _span(self, envelope: Envelope):  # noqa: ANN202
        return consuming(self.runtime.tracer, envelope.type, envelope.id, envelope.subject, envelope.traceparent)

    async def _claim_and_handle(self, uow: UnitOfWork, envelope: Envelope, event: Event) -> Outcome:
        claimed = await inbox.claim(
            uow.session, self.runtime.tables.inbox, self.runtime.settings.group_id, envelope.id, envelope.type
        )
        if not claimed:
            self.runtime.metrics.inbox_duplicates.labels(envelope.type).inc()
            return Outcome.duplicate
        await self.handlers[envelope.type](event, uow)
        return Outcome.handled

    async def _dead_letter(self, record: ConsumerRecord, cause: DeadLetterCause, reason: str) -> None:
        topic = dead_letter_topic(record.topic)
        headers = {k: (v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)) for k, v in record.headers or ()}
        headers.update(
            {
                "dlt_cause": cause.value,
                "dlt_reason": reason[:1000],
                "dlt_consumer": self.runtime.settings.group_id,
                "dlt_original_topic": record.topic,
                "dlt_original_partition": str(record.partition),
                "dlt_original_offset": str(record.offset),
                "dlt_failed_at": datetime.now(UTC).isoformat(),
            }
        )
        await self.runtime.broker.publish(record.value or b"", topic, key=record.key, headers=headers)
        self.runtime.metrics.dead_letters.labels(topic, cause.value).inc()
        log.error("dead-lettered record %s/%s@%s: %s: %s", record.topic, record.partition, record.offset, cause.value, reason)


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) <= 1000 else text[:997] + "..."

