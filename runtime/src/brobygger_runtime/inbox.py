"""Inbox: a handler records (consumer, event id) in its own transaction, so a
redelivered event changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def _insert_ignoring_duplicates(session: AsyncSession, table: sa.Table):  # noqa: ANN202
    dialect = session.bind.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    raise RuntimeError(f"unsupported database dialect {dialect}")


async def claim(session: AsyncSession, inbox: sa.Table, consumer: str, event_id: str, event_type: str) -> bool:
    """True when this event is new for this consumer; False when it was handled before."""
    result = await session.execute(
        _insert_ignoring_duplicates(session, inbox),
        {"consumer": consumer, "event_id": event_id, "event_type": event_type, "handled_at": datetime.now(UTC)},
    )
    return result.rowcount == 1


async def already_handled(session: AsyncSession, inbox: sa.Table, consumer: str, event_ids: list[str]) -> set[str]:
    """Which of these events this consumer handled before (one query for a batch)."""
    if not event_ids:
        return set()
    rows = await session.execute(
        sa.select(inbox.c.event_id).where(inbox.c.consumer == consumer, inbox.c.event_id.in_(event_ids))
    )
    return {row[0] for row in rows}


async def record_handled(session: AsyncSession, inbox: sa.Table, consumer: str, events: Iterable[tuple[str, str]]) -> None:
    """Record (event id, type) pairs as handled. A plain insert: if a concurrent
    replica recorded one meanwhile, the unique key fails the whole transaction
    and the batch is redone one event at a time through `claim`."""
    now = datetime.now(UTC)
    rows = [{"consumer": consumer, "event_id": i, "event_type": t, "handled_at": now} for i, t in events]
    if rows:
        await session.execute(inbox.insert(), rows)
