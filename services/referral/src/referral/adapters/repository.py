"""Reading and writing referral's tables inside the caller's transaction."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from referral.adapters.tables import (
    PERSONAL_COLUMNS,
    citizens,
    consent_changes,
    milestones,
    possible_duplicates,
    referrals,
    submissions,
)
from referral.domain.status import Milestone


async def lock_name_key(session: AsyncSession, key: str) -> None:
    """Serialises cards about the same person until the transaction ends, so that two
    simultaneous first referrals cannot create the citizen twice. (SQLite already
    serialises writers: every transaction there begins IMMEDIATE.)"""
    if session.bind.dialect.name == "postgresql":
        await session.execute(sa.select(sa.func.pg_advisory_xact_lock(int(key[:15], 16))))


async def citizens_by_name_key(session: AsyncSession, key: str) -> list[sa.Row]:
    query = sa.select(citizens).where(citizens.c.name_key == key, citizens.c.erased_at.is_(None))
    return list((await session.execute(query.with_for_update())).all())


async def citizen(session: AsyncSession, citizen_id: str, *, for_update: bool = False) -> sa.Row | None:
    query = sa.select(citizens).where(citizens.c.citizen_id == citizen_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).first()


async def add_citizen(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(citizens.insert().values(**values))


async def update_citizen(session: AsyncSession, citizen_id: str, values: dict[str, Any]) -> None:
    await session.execute(citizens.update().where(citizens.c.citizen_id == citizen_id).values(**values))


async def add_referral(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(referrals.insert().values(**values))


async def referral(session: AsyncSession, referral_id: str, *, for_update: bool = False) -> sa.Row | None:
    query = sa.select(referrals).where(referrals.c.referral_id == referral_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).first()


def consent_names(org: str) -> sa.ColumnElement[bool]:
    """The citizen's consent list names `org`. Organisation ids are `[a-z0-9-]` only (no LIKE
    wildcards, no quotes), so the quoted id matches one list element exactly, in SQLite and PostgreSQL."""
    if not org or not all(c.isalnum() or c == "-" for c in org):
        return sa.false()
    return sa.cast(citizens.c.consented_orgs, sa.Text).like(f'%"{org}"%')


async def referral_list(
    session: AsyncSession, *, everything: bool, consent_org: str | None, submitter: tuple[str, str] | None,
    state: str | None, limit: int, offset: int,
) -> list[sa.Row]:
    """Referrals newest first with their citizen's consent: every one (`everything`), else those whose
    citizen's consent names `consent_org` and those `submitter` (organisation, subject) submitted."""
    query = (
        sa.select(referrals, citizens.c.consented_orgs.label("citizen_consent"))
        .join(citizens, citizens.c.citizen_id == referrals.c.citizen_id)
        .order_by(referrals.c.received_at.desc(), referrals.c.referral_id).limit(limit).offset(offset)
    )
    if not everything:
        visible = []
        if consent_org is not None:
            visible.append(consent_names(consent_org))
        if submitter is not None:
            visible.append(sa.and_(referrals.c.submitted_by_org == submitter[0], referrals.c.submitted_by_subject == submitter[1]))
        query = query.where(sa.or_(*visible) if visible else sa.false())
    if state is not None:
        query = query.where(referrals.c.state == state)
    return list((await session.execute(query)).all())


def stored_key(org: str, idempotency_key: str) -> str:
    """What is stored of a client's Idempotency-Key: its SHA-256 with the submitting organisation.
    A batch's key is the home-care system's row id: kept in clear it would tie the citizen's
    record here to that system's row after an erasure. (Migration b13a0e5e4002 hashed older keys.)"""
    return hashlib.sha256(f"submission|{org}|{idempotency_key}".encode()).hexdigest()


async def earlier_submission(session: AsyncSession, org: str, idempotency_key: str) -> sa.Row | None:
    """The referral a retried request already created, if any."""
    idempotency_key = stored_key(org, idempotency_key)
    query = (
        sa.select(referrals.c.referral_id, referrals.c.citizen_id, referrals.c.repeat_referral)
        .join(submissions, submissions.c.referral_id == referrals.c.referral_id)
        .where(submissions.c.org == org, submissions.c.idempotency_key == idempotency_key)
    )
    return (await session.execute(query)).first()


async def lock_submission(session: AsyncSession, org: str, idempotency_key: str) -> None:
    """Serialises retries of one request (PostgreSQL; SQLite serialises writers anyway)."""
    if session.bind.dialect.name == "postgresql":
        key = stored_key(org, idempotency_key)
        await session.execute(sa.select(sa.func.pg_advisory_xact_lock(int(key[:15], 16))))


async def record_submission(session: AsyncSession, org: str, idempotency_key: str, referral_id: str, at: datetime) -> None:
    await session.execute(
        submissions.insert().values(org=org, idempotency_key=stored_key(org, idempotency_key), referral_id=referral_id,
                                    submitted_at=at)
    )


async def update_referral(session: AsyncSession, referral_id: str, values: dict[str, Any]) -> None:
    await session.execute(referrals.update().where(referrals.c.referral_id == referral_id).values(**values))


async def record_consent_change(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(consent_changes.insert().values(**values))


async def reach_milestone(session: AsyncSession, citizen_id: str, milestone: Milestone, at: datetime) -> bool:
    """Records the first time a milestone is reached; False when it was reached before."""
    exists = await session.scalar(
        sa.select(sa.func.count()).select_from(milestones).where(
            milestones.c.citizen_id == citizen_id, milestones.c.milestone == milestone.value
        )
    )
    if exists:
        return False
    await session.execute(milestones.insert().values(citizen_id=citizen_id, milestone=milestone.value, reached_at=at))
    return True


async def milestones_of(session: AsyncSession, citizen_id: str) -> list[tuple[Milestone, datetime]]:
    rows = (
        await session.execute(
            sa.select(milestones.c.milestone, milestones.c.reached_at)
            .where(milestones.c.citizen_id == citizen_id)
            .order_by(milestones.c.reached_at)
        )
    ).all()
    return [(Milestone(m), at) for m, at in rows]


async def add_possible_duplicate(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(possible_duplicates.insert().values(**values))


async def possible_duplicate(session: AsyncSession, duplicate_id: str, *, for_update: bool = False) -> sa.Row | None:
    query = sa.select(possible_duplicates).where(possible_duplicates.c.duplicate_id == duplicate_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).first()


async def possible_duplicate_list(session: AsyncSession, *, open_only: bool, limit: int, offset: int) -> list[sa.Row]:
    query = sa.select(possible_duplicates).order_by(possible_duplicates.c.found_at.desc(), possible_duplicates.c.duplicate_id)
    if open_only:
        query = query.where(possible_duplicates.c.resolution.is_(None))
    return list((await session.execute(query.limit(limit).offset(offset))).all())


async def update_possible_duplicate(session: AsyncSession, duplicate_id: str, values: dict[str, Any]) -> None:
    await session.execute(possible_duplicates.update().where(possible_duplicates.c.duplicate_id == duplicate_id).values(**values))


async def move_referrals(session: AsyncSession, from_citizen: str, to_citizen: str) -> None:
    await session.execute(referrals.update().where(referrals.c.citizen_id == from_citizen).values(citizen_id=to_citizen))


async def citizens_whose_journey_ended(session: AsyncSession, ended: list[str], before: datetime) -> list[str]:
    """Citizens not erased whose journey reached one of the `ended` milestones before `before`
    and who were not referred again since."""
    later_card = sa.exists().where(referrals.c.citizen_id == milestones.c.citizen_id,
                                   referrals.c.received_at > milestones.c.reached_at)
    query = (sa.select(milestones.c.citizen_id).distinct()
             .join(citizens, citizens.c.citizen_id == milestones.c.citizen_id)
             .where(citizens.c.erased_at.is_(None), milestones.c.milestone.in_(ended), milestones.c.reached_at < before,
                    ~later_card))
    return list((await session.scalars(query)).all())


async def erase_personal_data(session: AsyncSession, citizen_id: str, at: datetime) -> None:
    """Clears every PERSONAL column of the citizen, of the referrals about them and of their
    consent changes, and deletes when they reached which milestone (exact dates of their journey)."""
    await session.execute(
        citizens.update()
        .where(citizens.c.citizen_id == citizen_id)
        .values({name: None for name in PERSONAL_COLUMNS[citizens]} | {"erased_at": at, "updated_at": at, "consented_orgs": []})
    )
    for table, columns in PERSONAL_COLUMNS.items():
        if table is not citizens:
            await session.execute(table.update().where(table.c.citizen_id == citizen_id).values({name: None for name in columns}))
    await session.execute(milestones.delete().where(milestones.c.citizen_id == citizen_id))
