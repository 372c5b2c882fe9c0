"""Leases: which replica of a service instance runs a singleton loop (the
outbox relay, the timer scheduler). A lease is a row with a holder and an
expiry; the holder renews it, another replica takes it over once it expires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from brobygger_runtime.db import Database


async def try_acquire(db: Database, lease: sa.Table, name: str, holder: str, ttl: float) -> bool:
    """Take or renew the lease `name` for `holder`; False when another holder has it."""
    now = datetime.now(UTC)
    expires = now + timedelta(seconds=ttl)
    async with db.transaction() as session:
        renewed = await session.execute(
            lease.update()
            .where(lease.c.name == name, sa.or_(lease.c.holder == holder, lease.c.expires_at < now))
            .values(holder=holder, expires_at=expires)
        )
        if renewed.rowcount == 1:
            return True
        exists = await session.scalar(sa.select(sa.func.count()).select_from(lease).where(lease.c.name == name))
        if exists:
            return False
    try:
        async with db.transaction() as session:
            await session.execute(lease.insert().values(name=name, holder=holder, expires_at=expires))
        return True
    except IntegrityError:
        return False


async def release(db: Database, lease: sa.Table, name: str, holder: str) -> None:
    async with db.transaction() as session:
        await session.execute(lease.delete().where(lease.c.name == name, lease.c.holder == holder))
