"""Which citizens this service was told to forget (CitizenErased), so that a
late, replayed or re-sent event about them is ignored instead of bringing
them back (a new journey, a new proposal, a new message).

The marker holds only a SHA-256 digest of the citizen id: it answers "was
this id erased?" for an id someone already has, and leads to nobody. The
consumer keeps it for every service: it records the digest once a
CitizenErased is handled and skips any later event whose subject is marked.

`forget_copies(uow, citizen_id)` is what every service's erasure runs besides
deleting its own rows: the sealed boxes of its outbox rows about the citizen
(sent ones too: they are kept 30 days) are stripped in the same transaction,
and a SQLite database is checkpointed once that transaction committed, so the
old pages (name, phone) leave the write-ahead log. SQLite connections also run
with `secure_delete`, so freed cells and pages are zeroed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from brobygger_contracts.events.referral import CitizenErased
from brobygger_runtime import outbox

if TYPE_CHECKING:
    from brobygger_runtime.unit_of_work import UnitOfWork

ERASURE_EVENT = CitizenErased.event_type()


def digest(subject: str) -> str:
    return hashlib.sha256(subject.encode()).hexdigest()


def erased_log_subject(subject: str) -> str:
    """How the access log names an erased citizen: by digest, never by id."""
    return f"erased:{digest(subject)}"


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


async def forget_copies(uow: "UnitOfWork", subject: str) -> int:
    """Strip the sealed content of this service's outbox rows about `subject` (in
    the unit of work's transaction, including rows it buffered), file its access-log
    entries under the subject's digest instead of its id, and checkpoint SQLite after
    the commit. Returns how many outbox rows were stripped."""
    subject = str(subject)
    await uow.flush_outbox()
    stripped = await outbox.strip_sealed(uow.session, uow.runtime.tables.outbox, subject)
    # Who read the citizen's data stays accountable (found again by whoever holds the id),
    # but the log no longer names the id that the bus and the outboxes carried.
    log = uow.runtime.tables.access_log
    await uow.session.execute(log.update().where(log.c.subject_id == subject).values(subject_id=erased_log_subject(subject)))
    uow.after_commit(uow.runtime.db.checkpoint)
    return stripped
