"""One database transaction, with the events it publishes going to the outbox."""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession

from brobygger_contracts import Envelope, Event
from brobygger_runtime import outbox

if TYPE_CHECKING:
    from brobygger_runtime.service import ServiceRuntime


@dataclass
class UnitOfWork:
    """The session of the current transaction and a way to publish through the outbox."""

    session: AsyncSession
    runtime: "ServiceRuntime"
    envelope: Envelope | None = None
    """The event being handled, when the unit of work serves a consumer."""
    published: list[Envelope] = field(default_factory=list)

    async def publish(self, event: Event) -> Envelope:
        settings = self.runtime.settings
        envelope = await outbox.add(
            self.session,
            self.runtime.tables.outbox,
            event,
            partnership=settings.partnership_id,
            org=settings.org_id,
            service=settings.service_name,
            traceparent=self.envelope.traceparent if self.envelope else None,
        )
        self.published.append(envelope)
        return envelope


@asynccontextmanager
async def unit_of_work(runtime: "ServiceRuntime", envelope: Envelope | None = None) -> AsyncIterator[UnitOfWork]:
    """Commit on success, roll back on error; wake the relay when events were written."""
    async with runtime.db.transaction() as session:
        uow = UnitOfWork(session=session, runtime=runtime, envelope=envelope)
        yield uow
    if uow.published:
        runtime.relay.wake()
