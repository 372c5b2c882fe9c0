"""Outbox: events to publish are rows written in the same transaction as the
state change that caused them. The relay publishes them later."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from brobygger_contracts import Envelope, Event, topic_for


def row_for(
    event: Event,
    *,
    partnership: str,
    org: str,
    service: str,
    traceparent: str | None = None,
) -> tuple[Envelope, dict]:
    """The envelope of `event` and the outbox row that will carry it."""
    if event.publisher != service:
        raise ValueError(f"{service} may not publish {event.event_type()}: it belongs to {event.publisher}")
    envelope = Envelope.for_event(event, partnership=partnership, org=org, service=service)
    if traceparent:
        envelope = envelope.model_copy(update={"traceparent": traceparent})
    row = {
        "event_id": envelope.id,
        "event_type": envelope.type,
        "topic": topic_for(type(event)),
        "key": envelope.subject,
        "headers": [[k, v.decode()] for k, v in envelope.to_headers()],
        "payload": event.model_dump_json(),
        "created_at": datetime.now(UTC),
        "send_count": 0,
    }
    return envelope, row


async def write(session: AsyncSession, outbox: sa.Table, rows: list[dict]) -> None:
    """Insert rows in the caller's transaction, in order (ids follow insertion)."""
    if rows:
        await session.execute(outbox.insert(), rows)


async def backlog(session: AsyncSession, outbox: sa.Table) -> tuple[int, datetime | None]:
    """Unsent rows and the creation time of the oldest."""
    row = (
        await session.execute(
            sa.select(sa.func.count(), sa.func.min(outbox.c.created_at)).where(outbox.c.sent_at.is_(None))
        )
    ).one()
    return int(row[0]), row[1]


async def mark_for_republish(session: AsyncSession, outbox: sa.Table, since: datetime) -> int:
    """Make rows sent since `since` unsent again (after a broker lost its data)."""
    result = await session.execute(
        outbox.update().where(outbox.c.created_at >= since, outbox.c.sent_at.is_not(None)).values(sent_at=None)
    )
    return result.rowcount


async def purge_sent(session: AsyncSession, outbox: sa.Table, before: datetime) -> int:
    result = await session.execute(outbox.delete().where(outbox.c.sent_at.is_not(None), outbox.c.sent_at < before))
    return result.rowcount
