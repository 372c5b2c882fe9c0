"""What referral holds about one citizen, for the subject-access report."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from brobygger_runtime.subject_access import as_json, rows_about
from referral.adapters.tables import citizens, consent_changes, milestones, possible_duplicates, referrals

# Derived for duplicate detection only (a hash of birth year and name): nothing the citizen gave.
_CITIZEN_COLUMNS = [c for c in citizens.columns if c.name != "name_key"]


async def personal_data(session: AsyncSession, citizen_id: str, org: str) -> dict[str, Any] | None:  # noqa: ARG001
    """The citizen's record, every referral card about them (with the referrer's details),
    consent changes, milestones reached and possible-duplicate findings; None for an
    unknown citizen. (Referral is the owning organisation's: no consent check here; the
    routes admit only its coordinators.)"""
    row = (await session.execute(sa.select(*_CITIZEN_COLUMNS).where(citizens.c.citizen_id == citizen_id))).first()
    if row is None:
        return None
    duplicates = as_json((await session.execute(sa.select(possible_duplicates).where(sa.or_(
        possible_duplicates.c.new_citizen_id == citizen_id, possible_duplicates.c.known_citizen_id == citizen_id)))).all())
    return {
        "citizen": as_json([row])[0],
        "referrals": await rows_about(session, referrals, "citizen_id", citizen_id),
        "consent_changes": await rows_about(session, consent_changes, "citizen_id", citizen_id),
        "milestones": await rows_about(session, milestones, "citizen_id", citizen_id),
        "possible_duplicates": duplicates,
    }
