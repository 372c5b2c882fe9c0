"""Handling one partition's batch of records: one database transaction, in
order (DESIGN.md section 3).

- The batch first runs without savepoints (they would double the statements
  per event). If a handler fails, the transaction is rolled back and the batch
  runs again with a savepoint per record: a record that can never be handled
  (a refused business rule, a handler that keeps failing) is rolled back to
  its savepoint alone. Like a record that cannot be read (bad bytes, unknown
  type), it is published to `<topic>.dlt` (awaited) and remembered in the
  same transaction; the records after it go on.
- A transient failure (database or broker away) rolls the whole batch back;
  it is tried again, without limit, while the partition waits.
- The inbox makes a redelivered event change nothing.

The caller commits the offsets only after `deliver` returned.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections import Counter
from contextlib import contextmanager
from enum import Enum
from typing import Awaitable, Callable, Iterator, Sequence

from aiokafka import ConsumerRecord
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from brobygger_contracts import DeadLetterCause, Event, validation_summary
from brobygger_runtime import dead_letters, erasure, inbox
from brobygger_runtime.context import RuntimeParts
from brobygger_runtime.dead_letters import DeadLetter
from brobygger_runtime.errors import PermanentError, is_transient
from brobygger_runtime.incoming import Foreign, Incoming, Rejection, fingerprint, read_record
from brobygger_runtime.logs import current_event_id, current_subject
from brobygger_runtime.sealed_delivery import Item, NotOurs, open_batch
from brobygger_runtime.tracing import consuming
from brobygger_runtime.unit_of_work import UnitOfWork, unit_of_work

log = logging.getLogger(__name__)

Handler = Callable[[Event, UnitOfWork], Awaitable[None]]


class Outcome(str, Enum):
    handled = "handled"
    duplicate = "duplicate"
    ignored = "ignored"
    not_ours = "not_ours"
    """A sealed event whose citizen's key this organisation may not have (erased, no consent)."""
    dead_lettered = "dead_lettered"


class ShuttingDown(Exception):
    """The service is stopping while a batch waits for a transient failure to pass."""


class _InboxRace(Exception):
    """Another replica recorded one of these events meanwhile: redo the batch."""


class _HandlerFailed(Exception):
    """A handler failed in a batch run without savepoints: redo it with them."""


class BatchDelivery:
    def __init__(self, parts: RuntimeParts, handlers: dict[str, Handler], stopping: Callable[[], bool]) -> None:
        self.parts = parts
        self.handlers = handlers
        self.stopping = stopping

    async def deliver(self, records: Sequence[ConsumerRecord]) -> list[Outcome]:
        """Handle one partition's records in order; returns when their offsets may be committed."""
        s = self.parts.settings
        items = [read_record(r, handles=set(self.handlers), partnership=s.partnership_id, max_bytes=s.max_event_bytes)
                 for r in records]
        try:
            return await self._until_done(records, items)
        except ShuttingDown:
            raise
        except Exception:  # noqa: BLE001 - not the handlers' (they are caught per record): e.g. the commit itself
            log.warning("batch of %d records failed as a whole; handling them one at a time", len(records), exc_info=True)
        outcomes: list[Outcome] = []
        for record, item in zip(records, items):
            try:
                outcomes += await self._until_done([record], [item])
            except ShuttingDown:
                raise
            except Exception as exc:  # noqa: BLE001 - this record alone cannot be committed: it is the bad one
                log.error("record %s/%s@%s cannot be committed; dead-lettering", record.topic, record.partition, record.offset)
                letter = Rejection(DeadLetterCause.handler_error, _describe(exc))
                outcomes += await self._until_done([record], [letter])
        return outcomes

    async def _until_done(self, records: Sequence[ConsumerRecord], items: Sequence[Item]) -> list[Outcome]:
        """`_in_one_transaction`, again and again while the failure is transient."""
        waits = 0
        careful = False
        while True:
            try:
                return await self._in_one_transaction(records, items, careful)
            except _InboxRace:
                continue
            except _HandlerFailed:
                careful = True
                continue
            except Exception as exc:
                if not is_transient(exc):
                    raise
                waits += 1
                s = self.parts.settings
                delay = min(s.handler_backoff_max_seconds, s.handler_backoff_seconds * 2 ** min(waits, 20))
                log.warning("transient failure, batch of %d waits %.1fs: %s", len(records), delay, _describe(exc))
                self.parts.metrics.transient_waits.inc()
                if self.stopping():
                    raise ShuttingDown() from exc
                await asyncio.sleep(delay)

    async def _in_one_transaction(
        self, records: Sequence[ConsumerRecord], items: Sequence[Item], careful: bool
    ) -> list[Outcome]:
        parts = self.parts
        consumer = parts.settings.group_id
        started = time.perf_counter()
        outcomes: list[Outcome] = []
        handled: list[tuple[str, str]] = []
        letters: list[DeadLetter] = []
        async with unit_of_work(parts) as uow:
            session = uow.session
            items = await open_batch(parts.citizen_keys, session, items)
            earlier_letters = await dead_letters.remembered(session, parts.tables.dead_letters, consumer, list(records))
            ids = [i.envelope.id for i in items if isinstance(i, Incoming) and i.event is not None]
            seen = await inbox.already_handled(session, parts.tables.inbox, consumer, ids)
            erased = await erasure.erased_among(session, parts.tables.erased_subjects,
                                                [i.envelope.subject for i in items if isinstance(i, Incoming) and i.event])
            newly_erased: list[str] = []
            for record, item in zip(records, items):
                if isinstance(item, NotOurs):
                    outcomes.append(Outcome.not_ours)
                    continue
                if isinstance(item, Foreign) or (isinstance(item, Incoming) and item.event is None):
                    outcomes.append(Outcome.ignored)
                    continue
                print_ = fingerprint(record)
                if earlier_letters.get((record.topic, record.partition, record.offset)) == print_:
                    outcomes.append(Outcome.duplicate)  # this very record was dead-lettered before
                    continue
                if isinstance(item, Incoming) and item.envelope.id in seen:
                    outcomes.append(Outcome.duplicate)
                    continue
                if isinstance(item, Incoming):
                    seen.add(item.envelope.id)
                    is_erasure = item.envelope.type == erasure.ERASURE_EVENT
                    if item.envelope.subject in erased and not is_erasure:
                        # A late or replayed event about a forgotten citizen must not bring them back.
                        handled.append((item.envelope.id, item.envelope.type))
                        outcomes.append(Outcome.ignored)
                        continue
                    refused = await (self._handle(uow, item) if careful else self._handle_plainly(uow, item))
                    if refused is None:
                        handled.append((item.envelope.id, item.envelope.type))
                        outcomes.append(Outcome.handled)
                        if is_erasure:
                            newly_erased.append(item.envelope.subject)
                            erased.add(item.envelope.subject)
                        continue
                    item_id: str | None = item.envelope.id
                else:
                    refused, item_id = item, None
                letters.append(DeadLetter(record, refused.cause, refused.reason, print_, item_id))
                outcomes.append(Outcome.dead_lettered)
            await erasure.remember(session, parts.tables.erased_subjects, newly_erased)
            try:
                await inbox.record_handled(session, parts.tables.inbox, consumer, handled)
            except IntegrityError as exc:
                raise _InboxRace() from exc
            # Published (and confirmed) before the commit: a crash in between
            # dead-letters the record again rather than losing it.
            for letter in letters:
                await self._publish(letter)
            await dead_letters.remember(session, parts.tables.dead_letters, consumer, letters)
        self._count(items, outcomes, time.perf_counter() - started)
        return outcomes

    async def _handle_plainly(self, uow: UnitOfWork, item: Incoming) -> None:
        """The handler straight in the batch's transaction; any failure but a
        transient one sends the batch round again, carefully."""
        uow.envelope = item.envelope
        try:
            with self._event_context(item):
                await self.handlers[item.envelope.type](item.event, uow)
        except Exception as exc:
            if is_transient(exc):
                raise
            raise _HandlerFailed() from exc

    async def _handle(self, uow: UnitOfWork, item: Incoming) -> Rejection | None:
        """Run the handler in a savepoint, a few times for an unexplained error;
        None when it succeeded, a rejection when it never will. Transient errors propagate."""
        envelope, s = item.envelope, self.parts.settings
        uow.envelope = envelope
        attempt = 0
        while True:
            try:
                with self._event_context(item):
                    async with uow.savepoint():
                        await self.handlers[envelope.type](item.event, uow)
                return None
            except PermanentError as exc:
                return Rejection(DeadLetterCause.business_rule, str(exc)[:1000])
            except Exception as exc:  # noqa: BLE001 - classified here
                if is_transient(exc):
                    raise
                attempt += 1
                self.parts.metrics.handler_retries.labels(envelope.type).inc()
                if attempt >= s.handler_max_attempts:
                    # The frames, not the exception's text: that may quote the payload.
                    frames = "".join(traceback.format_tb(exc.__traceback__)[-6:])
                    log.error("handler failed %d times; dead-lettering: %s\n%s", attempt, _describe(exc), frames)
                    return Rejection(DeadLetterCause.handler_error, _describe(exc))
                log.warning("handler failed (attempt %d), trying again: %s", attempt, _describe(exc))
                await asyncio.sleep(min(1.0, s.handler_backoff_seconds * 2 ** (attempt - 1)))

    @contextmanager
    def _event_context(self, item: Incoming) -> Iterator[None]:
        envelope = item.envelope
        token_id = current_event_id.set(envelope.id)
        token_subject = current_subject.set(envelope.subject)
        try:
            with consuming(self.parts.tracer, envelope.type, envelope.id, envelope.subject, envelope.traceparent):
                yield
        finally:
            current_event_id.reset(token_id)
            current_subject.reset(token_subject)

    async def _publish(self, letter: DeadLetter) -> None:
        parts = self.parts
        topic = dead_letters.topic_for(letter)
        headers = dead_letters.headers_for(letter, parts.settings.group_id)
        await parts.broker.publish(letter.record.value or b"", topic, key=letter.record.key, headers=headers)
        parts.metrics.dead_letters.labels(topic, letter.cause.value).inc()
        record = letter.record
        log.error("dead-lettered record %s/%s@%s: %s: %s", record.topic, record.partition, record.offset,
                  letter.cause.value, letter.reason)

    def _count(self, items: Sequence[Item], outcomes: list[Outcome], seconds: float) -> None:
        metrics = self.parts.metrics
        by_label = Counter(
            (item.envelope.type if isinstance(item, (Incoming, NotOurs)) else "unknown", outcome.value)
            for item, outcome in zip(items, outcomes)
        )
        for (event_type, outcome), count in by_label.items():
            metrics.events_consumed.labels(event_type, outcome).inc(count)
            if outcome == Outcome.duplicate.value:
                metrics.inbox_duplicates.labels(event_type).inc(count)
        handled = [item for item, o in zip(items, outcomes) if o is Outcome.handled]
        for item in handled:
            metrics.handler_seconds.labels(item.envelope.type).observe(seconds / len(handled))


def _describe(exc: BaseException) -> str:
    """An error for logs and dead-letter headers, without payload content."""
    if isinstance(exc, ValidationError):
        return f"ValidationError: {validation_summary(exc)}"[:1000]
    text = f"{type(exc).__name__}: {exc}"
    # pydantic-style texts quote the offending value after "input_value=": cut it.
    cut = text.find("input_value=")
    if cut != -1:
        text = text[:cut] + "input_value=…"
    return text[:1000]
