"""What notify holds about one citizen, for the subject-access report."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from brobygger_runtime.subject_access import as_json, rows_about
from notify.adapters.tables import citizen_consent, citizen_guide, citizen_referrer, contact, delivery

# Never part of a report: the receiver's signing key.
_CONTACT_COLUMNS = [c for c in contact.columns if c.name != "webhook_secret"]


async def personal_data(session: AsyncSession, citizen_id: str, org: str) -> dict[str, Any] | None:  # noqa: ARG001
    """Whether their consent names this organisation, who guides and referred them, their own
    contact row (if one was entered) and every delivery about them or to them (masked
    addresses only); None when notify holds nothing, or their consent does not name it."""
    consent = (await session.execute(sa.select(citizen_consent).where(citizen_consent.c.citizen_id == citizen_id))).first()
    if consent is not None and not consent.consented:
        return None
    deliveries = as_json((await session.execute(sa.select(delivery).where(
        sa.or_(delivery.c.citizen_id == citizen_id, delivery.c.recipient_id == citizen_id)).order_by(delivery.c.seq))).all())
    held = {
        "consent": as_json([consent]) if consent else [],
        "guide": await rows_about(session, citizen_guide, "citizen_id", citizen_id),
        "referrers": await rows_about(session, citizen_referrer, "citizen_id", citizen_id),
        "contact": as_json((await session.execute(sa.select(*_CONTACT_COLUMNS)
                                                  .where(contact.c.recipient_id == citizen_id))).all()),
        "deliveries": deliveries,
    }
    return held if any(held.values()) else None
