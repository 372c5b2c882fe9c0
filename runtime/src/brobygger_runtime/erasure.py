"""Which citizens this service was told to forget (CitizenErased), so that a
late, replayed or re-sent event about them is ignored instead of bringing
them back (a new journey, a new proposal, a new message).

The marker holds only a SHA-256 digest of the citizen id: it answers "was
this id erased?" for an id someone already has, and leads to nobody. The
consumer keeps it for every service: it records the digest once a
CitizenErased is handled and skips any later event whose subject is marked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from brobygger_contracts.events.referral import CitizenErased

ERASURE_EVENT = CitizenErased.event_type()


def digest(subject: str) -> str:
    return hashlib.sha256(subject.encode()).hexdigest()


async def erased_among(session: AsyncSession, table: sa.Table, subjects: Iterable[str]) -> set[str]:
    """The subjects of `subjects` that were erased."""
    by_digest = {digest(s): s for s in set(subjects)}
    if not by_digest:
        return set()
    found = await session.scalars(sa.select(table.c.subject_digest).where(table.c.subject_digest.in_(by_digest)))
    return {by_digest[d] for d in found}


async def remember(session: AsyncSession, table: sa.Table, subjects: Iterable[str]) -> None:
    new = sorted({digest(s) for s in subjects})
    if not new:
        return
    known = set(await session.scalars(sa.select(table.c.subject_digest).where(table.c.subject_digest.in_(new))))
    now = datetime.now(UTC)
    rows = [{"subject_digest": d, "erased_at": now} for d in new if d not in known]
    if rows:
        await session.execute(table.insert(), rows)
