"""Inbox: a handler records (consumer, event id) in its own transaction, so a
redelivered event changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

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
        _insert_ignoring_duplicates(session, inbox).values(
            consumer=consumer, event_id=event_id, event_type=event_type, handled_at=datetime.now(UTC)
        )
    )
    return result.rowcount == 1
