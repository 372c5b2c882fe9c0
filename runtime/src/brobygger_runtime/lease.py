"""Leases: which replica of a service instance runs a singleton loop (the
outbox relay, the timer scheduler). A lease is a row with a holder and an
expiry; the holder renews it, another replica takes it over once it expires.

Each lease carries a fencing token that grows whenever the lease changes
hands. A holder that was paused past its expiry (a long GC, a stopped VM, a
slow broker) cannot know by the clock alone that someone else took over; it
can by seeing that the token is no longer the one it was given.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from brobygger_runtime.db import Database

RELEASED = datetime(1970, 1, 1, tzinfo=UTC)


async def try_acquire(db: Database, lease: sa.Table, name: str, holder: str, ttl: float) -> int | None:
    """Take or renew the lease `name` for `holder`: its fencing token, or None when another holder has it."""
    now = datetime.now(UTC)
    expires = now + timedelta(seconds=ttl)
    async with db.transaction() as session:
        # One conditional UPDATE: two replicas racing for an expired lease
        # cannot both win (the second re-reads the row the first changed).
        taken = await session.execute(
            lease.update()
            .where(lease.c.name == name, sa.or_(lease.c.holder == holder, lease.c.expires_at < now))
            .values(
                holder=holder,
                expires_at=expires,
                token=sa.case((lease.c.holder == holder, lease.c.token), else_=lease.c.token + 1),
            )
        )
        if taken.rowcount == 1:
            return int(await session.scalar(sa.select(lease.c.token).where(lease.c.name == name)))
        exists = await session.scalar(sa.select(sa.func.count()).select_from(lease).where(lease.c.name == name))
        if exists:
            return None
    try:
        async with db.transaction() as session:
            await session.execute(lease.insert().values(name=name, holder=holder, expires_at=expires, token=1))
        return 1
    except IntegrityError:
        return None


async def renew(session: AsyncSession, lease: sa.Table, name: str, holder: str, token: int, ttl: float) -> bool:
    """In the caller's transaction: extend the lease if `holder` still has it with `token`; False when it was taken over."""
    result = await session.execute(
        lease.update()
        .where(lease.c.name == name, lease.c.holder == holder, lease.c.token == token)
        .values(expires_at=datetime.now(UTC) + timedelta(seconds=ttl))
    )
    return result.rowcount == 1


async def release(db: Database, lease: sa.Table, name: str, holder: str) -> None:
    # Expire the row rather than delete it, so the token keeps growing.
    async with db.transaction() as session:
        await session.execute(
            lease.update().where(lease.c.name == name, lease.c.holder == holder).values(expires_at=RELEASED)
        )
