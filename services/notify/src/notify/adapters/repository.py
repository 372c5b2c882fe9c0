"""Reading and writing notify's tables inside a caller's transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters.tables import citizen_consent, citizen_guide, citizen_referrer, contact, delivery, erased_citizen, journey_ended
from notify.domain.model import FOLLOWING_REFERRER, Channel, Contact, DeliveryStatus, QuietHours


def _upsert(session: AsyncSession, table: sa.Table):  # noqa: ANN202
    return (postgresql if session.bind.dialect.name == "postgresql" else sqlite).insert(table)


async def serialize_on(session: AsyncSession, key: str) -> None:
    """Hold a transaction-scoped lock on `key` (a citizen or a recipient).

    Two transactions that both look for something the other is writing (a
    MatchProposed looking for the guide while GuideAssigned is being handled,
    by another replica or partition) would each miss the other and leave a
    delivery waiting for ever. PostgreSQL: an advisory lock; SQLite already
    runs one writer at a time (BEGIN IMMEDIATE).
    """
    if session.bind.dialect.name == "postgresql":
        await session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})


# --- contacts -----------------------------------------------------------------

def contact_from_row(row: sa.Row) -> Contact:
    return Contact(
        recipient_id=row.recipient_id, role=row.role, display_name=row.display_name, language=row.language,
        email=row.email, phone=row.phone, webhook_url=row.webhook_url, webhook_secret=row.webhook_secret,
        preferred_channel=Channel(row.preferred_channel) if row.preferred_channel else None,
        opted_out=frozenset(Channel(c) for c in row.opted_out or ()),
        quiet_hours=QuietHours.parse(row.quiet_hours) if row.quiet_hours else None,
        timezone=row.timezone, organisation=row.org,
    )


async def save_contact(session: AsyncSession, c: Contact, *, replace_secret: bool = False) -> bool:
    """Insert or replace; True when the contact is new. The webhook key is write-only: left
    out (None) the stored one is kept, unless `replace_secret` (a new or no webhook)."""
    values = dict(
        org=c.organisation,
        role=c.role, display_name=c.display_name, language=c.language, email=c.email, phone=c.phone,
        webhook_url=c.webhook_url, preferred_channel=c.preferred_channel.value if c.preferred_channel else None,
        opted_out=sorted(ch.value for ch in c.opted_out), quiet_hours=str(c.quiet_hours) if c.quiet_hours else None,
        timezone=c.timezone, updated_at=datetime.now(UTC),
    )
    if c.webhook_secret is not None or replace_secret:  # write-only: an update that leaves it out keeps the stored key
        values["webhook_secret"] = c.webhook_secret
    existed = await session.scalar(sa.select(sa.func.count()).select_from(contact).where(contact.c.recipient_id == c.recipient_id))
    stmt = _upsert(session, contact).values(recipient_id=c.recipient_id, **values)
    await session.execute(stmt.on_conflict_do_update(index_elements=[contact.c.recipient_id], set_=values))
    return not existed


async def get_contact(session: AsyncSession, recipient_id: str) -> Contact | None:
    row = (await session.execute(sa.select(contact).where(contact.c.recipient_id == recipient_id))).first()
    return contact_from_row(row) if row else None


async def ids_with_role(session: AsyncSession, role: str) -> list[str]:
    result = await session.execute(sa.select(contact.c.recipient_id).where(contact.c.role == role).order_by(contact.c.recipient_id))
    return list(result.scalars())


async def delete_contact(session: AsyncSession, recipient_id: str) -> None:
    await session.execute(contact.delete().where(contact.c.recipient_id == recipient_id))


# --- who guides whom ------------------------------------------------------------

async def save_guide(session: AsyncSession, citizen_id: str, guide_id: str, guide_org: str, assigned_at: datetime) -> None:
    """The latest assignment wins, whatever order the events arrive in."""
    values = dict(guide_id=guide_id, guide_org=guide_org, assigned_at=assigned_at)
    stmt = _upsert(session, citizen_guide).values(citizen_id=citizen_id, **values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[citizen_guide.c.citizen_id], set_=values, where=citizen_guide.c.assigned_at <= assigned_at
        )
    )


async def guide_of(session: AsyncSession, citizen_id: str) -> str | None:
    return await session.scalar(sa.select(citizen_guide.c.guide_id).where(citizen_guide.c.citizen_id == citizen_id))


async def guide_with_org(session: AsyncSession, citizen_id: str) -> tuple[str, str] | None:
    """The citizen's guide and the organisation they guide for."""
    row = (await session.execute(sa.select(citizen_guide.c.guide_id, citizen_guide.c.guide_org)
                                 .where(citizen_guide.c.citizen_id == citizen_id))).first()
    return (row.guide_id, row.guide_org) if row else None


async def forget_citizen(session: AsyncSession, citizen_id: str) -> None:
    """Who guides them, who referred them and their consent: gone."""
    await session.execute(citizen_consent.delete().where(citizen_consent.c.citizen_id == citizen_id))
    await session.execute(citizen_guide.delete().where(citizen_guide.c.citizen_id == citizen_id))
    await session.execute(citizen_referrer.delete().where(citizen_referrer.c.citizen_id == citizen_id))


async def save_consent(session: AsyncSession, citizen_id: str, consented: bool, changed_at: datetime) -> None:
    """The latest change wins, whatever order the events arrive in."""
    values = dict(consented=consented, changed_at=changed_at)
    stmt = _upsert(session, citizen_consent).values(citizen_id=citizen_id, **values)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[citizen_consent.c.citizen_id], set_=values, where=citizen_consent.c.changed_at <= changed_at,
    ))


async def consent_of(session: AsyncSession, citizen_id: str) -> bool | None:
    """True or False once known; None before the citizen's referral arrived."""
    return await session.scalar(sa.select(citizen_consent.c.consented).where(citizen_consent.c.citizen_id == citizen_id))


async def awaiting_about(session: AsyncSession, citizen_id: str) -> list[sa.Row]:
    result = await session.execute(
        sa.select(delivery).where(
            delivery.c.status == DeliveryStatus.awaiting_recipient.value, delivery.c.citizen_id == citizen_id
        ).order_by(delivery.c.seq)
    )
    return list(result)


async def save_referrer(session: AsyncSession, citizen_id: str, referrer_org: str, referred_at: datetime) -> None:
    stmt = _upsert(session, citizen_referrer).values(citizen_id=citizen_id, referrer_org=referrer_org, referred_at=referred_at)
    await session.execute(stmt.on_conflict_do_nothing())


async def referred_at(session: AsyncSession, citizen_id: str, referrer: str) -> datetime | None:
    """When `referrer` referred the citizen (what their messages call the person by, not an id)."""
    return await session.scalar(sa.select(citizen_referrer.c.referred_at).where(
        citizen_referrer.c.citizen_id == citizen_id, citizen_referrer.c.referrer_org == referrer))


async def following_referrers(session: AsyncSession, citizen_id: str) -> list[str]:
    """Who referred the citizen and opted in: organisations with a referrer contact in the
    directory, and referring persons who asked to follow (their details stay with referral)."""
    in_directory = sa.exists().where(contact.c.recipient_id == citizen_referrer.c.referrer_org, contact.c.role == "referrer")
    result = await session.execute(
        sa.select(citizen_referrer.c.referrer_org)
        .where(citizen_referrer.c.citizen_id == citizen_id,
               sa.or_(in_directory, citizen_referrer.c.referrer_org.startswith(FOLLOWING_REFERRER)))
        .order_by(citizen_referrer.c.referrer_org)
    )
    return list(result.scalars())


async def record_journey_end(session: AsyncSession, citizen_id: str, ended_at: datetime) -> None:
    stmt = _upsert(session, journey_ended).values(citizen_id=citizen_id, ended_at=ended_at)
    await session.execute(stmt.on_conflict_do_update(index_elements=[journey_ended.c.citizen_id], set_={"ended_at": ended_at}))


async def journeys_ended_before(session: AsyncSession, before: datetime) -> list[str]:
    return list((await session.scalars(sa.select(journey_ended.c.citizen_id).where(journey_ended.c.ended_at < before))).all())


async def forget_journey_end(session: AsyncSession, citizen_id: str) -> None:
    await session.execute(journey_ended.delete().where(journey_ended.c.citizen_id == citizen_id))


async def mark_erased(session: AsyncSession, citizen_id: str) -> None:
    stmt = _upsert(session, erased_citizen).values(citizen_id=citizen_id, erased_at=datetime.now(UTC))
    await session.execute(stmt.on_conflict_do_nothing())


async def is_erased(session: AsyncSession, citizen_id: str) -> bool:
    found = await session.scalar(sa.select(erased_citizen.c.citizen_id).where(erased_citizen.c.citizen_id == citizen_id))
    return found is not None


# --- deliveries -------------------------------------------------------------------

async def add_delivery(session: AsyncSession, **values: Any) -> int:
    now = datetime.now(UTC)
    result = await session.execute(
        delivery.insert().values(status=DeliveryStatus.awaiting_recipient.value, created_at=now, updated_at=now, **values)
        .returning(delivery.c.seq)
    )
    return result.scalar_one()


async def update_delivery(session: AsyncSession, seq: int, *, only_if: Sequence[DeliveryStatus] = (), **values: Any) -> bool:
    """Update one delivery; with `only_if`, only while it is in one of those states."""
    stmt = delivery.update().where(delivery.c.seq == seq).values(updated_at=datetime.now(UTC), **values)
    if only_if:
        stmt = stmt.where(delivery.c.status.in_([s.value for s in only_if]))
    return (await session.execute(stmt)).rowcount == 1


async def get_delivery(session: AsyncSession, seq: int) -> sa.Row | None:
    return (await session.execute(sa.select(delivery).where(delivery.c.seq == seq))).first()


async def delivery_exists(session: AsyncSession, source_event_id: str, recipient_id: str, channel: Channel) -> bool:
    """This recipient already has a delivery of this event by this channel (given its id and channel)."""
    found = await session.scalar(sa.select(delivery.c.seq).where(
        delivery.c.source_event_id == source_event_id, delivery.c.recipient_id == recipient_id,
        delivery.c.channel == channel.value, delivery.c.notification_id.is_not(None)).limit(1))
    return found is not None


async def role_of_notification(session: AsyncSession, notification_id: str) -> str | None:
    return await session.scalar(sa.select(delivery.c.recipient_role).where(delivery.c.notification_id == notification_id))


async def awaiting_guide(session: AsyncSession, citizen_id: str) -> list[sa.Row]:
    """Deliveries to a citizen's guide that wait for one to be assigned."""
    result = await session.execute(
        sa.select(delivery).where(
            delivery.c.status == DeliveryStatus.awaiting_recipient.value,
            delivery.c.citizen_id == citizen_id,
            delivery.c.recipient_id.is_(None),
        ).order_by(delivery.c.seq)
    )
    return list(result)


async def awaiting_contact(session: AsyncSession, recipient_id: str) -> list[sa.Row]:
    result = await session.execute(
        sa.select(delivery).where(
            delivery.c.status == DeliveryStatus.awaiting_recipient.value, delivery.c.recipient_id == recipient_id
        ).order_by(delivery.c.seq)
    )
    return list(result)


async def due_deliveries(session: AsyncSession, now: datetime, limit: int, skip_channels: Sequence[str] = ()) -> list[sa.Row]:
    stmt = (
        sa.select(delivery)
        .where(delivery.c.status == DeliveryStatus.pending.value, delivery.c.next_attempt_at <= now)
        .order_by(delivery.c.next_attempt_at, delivery.c.seq)
        .limit(limit)
    )
    if skip_channels:
        stmt = stmt.where(delivery.c.channel.not_in(list(skip_channels)))
    return list(await session.execute(stmt))


async def interrupted(session: AsyncSession) -> list[sa.Row]:
    """Deliveries left `sending` by a process that died mid-send."""
    result = await session.execute(
        sa.select(delivery).where(delivery.c.status == DeliveryStatus.sending.value).order_by(delivery.c.seq)
    )
    return list(result)


async def cancel_open_about(session: AsyncSession, citizen_id: str, *, rule_id: str | None = None,
                            reason: str | None = None) -> None:
    """What has not gone out about the citizen (of one rule, when given) will not go out."""
    open_states = [DeliveryStatus.awaiting_recipient.value, DeliveryStatus.pending.value]
    stmt = delivery.update().where(delivery.c.citizen_id == citizen_id, delivery.c.status.in_(open_states))
    if rule_id is not None:
        stmt = stmt.where(delivery.c.rule_id == rule_id)
    values = {"status": DeliveryStatus.cancelled.value, "updated_at": datetime.now(UTC)}
    await session.execute(stmt.values(**values, **({"last_error": reason} if reason else {})))


async def erase_citizen_links(session: AsyncSession, citizen_id: str) -> int:
    """Cancel what has not gone out about the citizen, then cut every link to them."""
    await cancel_open_about(session, citizen_id)
    now = datetime.now(UTC)
    await session.execute(
        delivery.update()
        .where(sa.or_(delivery.c.recipient_id == citizen_id,
                      # the person who referred them is a link to the citizen too
                      sa.and_(delivery.c.citizen_id == citizen_id, delivery.c.recipient_id.startswith(FOLLOWING_REFERRER))))
        .values(recipient_id=None, masked_address=None, updated_at=now)
    )
    result = await session.execute(
        delivery.update().where(delivery.c.citizen_id == citizen_id).values(citizen_id=None, variables=None, updated_at=now)
    )
    return result.rowcount


async def delivery_log(session: AsyncSession, *, recipient_id: str | None, status: str | None,
                       source_event_id: str | None, limit: int, offset: int = 0) -> list[sa.Row]:
    stmt = sa.select(delivery).order_by(delivery.c.seq.desc()).limit(limit).offset(offset)
    if recipient_id:
        stmt = stmt.where(delivery.c.recipient_id == recipient_id)
    if status:
        stmt = stmt.where(delivery.c.status == status)
    if source_event_id:
        stmt = stmt.where(delivery.c.source_event_id == source_event_id)
    return list(await session.execute(stmt))


async def count_by_status(session: AsyncSession) -> dict[str, int]:
    result = await session.execute(sa.select(delivery.c.status, sa.func.count()).group_by(delivery.c.status))
    return {status: count for status, count in result}


async def find_delivery(session: AsyncSession, notification_id: str) -> sa.Row | None:
    return (await session.execute(sa.select(delivery).where(delivery.c.notification_id == notification_id))).first()
