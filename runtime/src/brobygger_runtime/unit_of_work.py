"""One database transaction, with the events it publishes going to the outbox."""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import AsyncIterator, Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from brobygger_contracts import Envelope, Event
from brobygger_runtime import outbox
from brobygger_runtime.context import RuntimeParts
from brobygger_runtime.sealed_delivery import seal_for_outbox
from brobygger_runtime.tracing import current_traceparent


@dataclass
class UnitOfWork:
    """The session of the current transaction and a way to publish through the outbox."""

    session: AsyncSession
    runtime: RuntimeParts
    envelope: Envelope | None = None
    """The event being handled, when the unit of work serves a consumer."""
    published: list[Envelope] = field(default_factory=list)
    _outbox_rows: list[dict] = field(default_factory=list)
    _after_commit: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def after_commit(self, action: Callable[[], Awaitable[None]]) -> None:
        """Run `action` once this transaction committed (never when it rolls back)."""
        if action not in self._after_commit:
            self._after_commit.append(action)

    async def publish(self, event: Event) -> Envelope:
        """Publish `event` when (and only if) this transaction commits."""
        settings = self.runtime.settings
        event = await seal_for_outbox(self.runtime.citizen_keys, self.session, event)
        envelope, row = outbox.row_for(
            event,
            partnership=settings.partnership_id,
            org=settings.org_id,
            service=settings.service_name,
            traceparent=current_traceparent(),
        )
        self._outbox_rows.append(row)
        self.published.append(envelope)
        return envelope

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A part of the transaction that can fail alone: its changes and the
        events it published are undone, the rest of the transaction stays."""
        rows, published = len(self._outbox_rows), len(self.published)
        try:
            async with self.session.begin_nested():
                yield
        except BaseException:
            del self._outbox_rows[rows:]
            del self.published[published:]
            raise

    async def flush_outbox(self) -> None:
        """Write the buffered outbox rows (one statement for a whole batch)."""
        rows, self._outbox_rows = self._outbox_rows, []
        await outbox.write(self.session, self.runtime.tables.outbox, rows)


@asynccontextmanager
async def unit_of_work(runtime: RuntimeParts, envelope: Envelope | None = None) -> AsyncIterator[UnitOfWork]:
    """Commit on success, roll back on error; wake the relay when events were written."""
    async with runtime.db.transaction() as session:
        uow = UnitOfWork(session=session, runtime=runtime, envelope=envelope)
        yield uow
        await uow.flush_outbox()
    if uow.published:
        runtime.wake_relay()
    for action in uow._after_commit:
        await action()
