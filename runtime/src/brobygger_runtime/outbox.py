"""Outbox: events to publish are rows written in the same transaction as the
state change that caused them. The relay publishes them later."""

from __future__ import annotations

import json
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
        "topic": topic_for(type(event), partnership, org),
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
    """Rows waiting for the relay and the creation time of the oldest (parked rows wait for an operator instead)."""
    row = (
        await session.execute(
            sa.select(sa.func.count(), sa.func.min(outbox.c.created_at)).where(
                outbox.c.sent_at.is_(None), outbox.c.parked_at.is_(None)
            )
        )
    ).one()
    return int(row[0]), row[1]


async def parked_count(session: AsyncSession, outbox: sa.Table) -> int:
    return int(await session.scalar(sa.select(sa.func.count()).select_from(outbox).where(outbox.c.parked_at.is_not(None))))


async def parked(session: AsyncSession, outbox: sa.Table) -> list[sa.Row]:
    """Parked rows, oldest first: what the broker refused and why."""
    c = outbox.c
    return list(
        (
            await session.execute(
                sa.select(c.id, c.event_id, c.event_type, c.topic, c.key, c.created_at, c.parked_at, c.park_reason)
                .where(c.parked_at.is_not(None))
                .order_by(c.id)
            )
        ).all()
    )


async def release(session: AsyncSession, outbox: sa.Table, ids: list[int] | None = None, topic: str | None = None) -> int:
    """Put parked rows back in the relay's queue (all of them when neither `ids` nor `topic` is given).

    A released row goes out after the rows of its key that were sent while it
    was parked: it is no longer in order, which is why parking needs an operator.
    """
    query = outbox.update().where(outbox.c.parked_at.is_not(None))
    if ids is not None:
        query = query.where(outbox.c.id.in_(ids))
    if topic is not None:
        query = query.where(outbox.c.topic == topic)
    result = await session.execute(query.values(parked_at=None, park_reason=None))
    return result.rowcount


async def mark_for_republish(session: AsyncSession, outbox: sa.Table, since: datetime) -> int:
    """Make rows sent since `since` unsent again (after a broker lost its data)."""
    result = await session.execute(
        outbox.update().where(outbox.c.created_at >= since, outbox.c.sent_at.is_not(None)).values(sent_at=None)
    )
    return result.rowcount


async def purge_sent(session: AsyncSession, outbox: sa.Table, before: datetime) -> int:
    result = await session.execute(outbox.delete().where(outbox.c.sent_at.is_not(None), outbox.c.sent_at < before))
    return result.rowcount


SEALED = "sealed"
"""The payload field that carries an event's sealed box (ciphertext under the citizen's data key)."""


async def strip_sealed(session: AsyncSession, outbox: sa.Table, subject: str) -> int:
    """Erasure: every outbox row about `subject`, sent or not, loses its sealed box
    (the payload's top-level `sealed` becomes null); returns how many rows changed.

    A row is about the subject when it is keyed by it (the citizen's own events) or its
    payload names it (group events, notifications and others keyed by another id that
    carry the citizen id). Subjects are UUIDs, so the LIKE has no wildcard to escape.
    Erasures are rare: scanning the outbox's 30 days for one is acceptable.
    """
    c = outbox.c
    rows = (await session.execute(
        sa.select(c.id, c.payload).where(sa.or_(c.key == subject, c.payload.contains(subject, autoescape=True)))
    )).all()
    stripped = 0
    for row_id, payload in rows:
        try:
            body = json.loads(payload)
        except ValueError:
            continue
        if not isinstance(body, dict) or body.get(SEALED) is None:
            continue
        body[SEALED] = None
        await session.execute(outbox.update().where(c.id == row_id).values(payload=json.dumps(body)))
        stripped += 1
    return stripped
