"""What matching holds about one citizen, for the subject-access report."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from brobygger_runtime.subject_access import as_json, rows_about
from matching.adapters.tables import citizens, group_members, group_requests, proposals
from matching.friendships.citizen_data import friendships_about


async def personal_data(session: AsyncSession, citizen_id: str, org: str) -> dict[str, Any] | None:
    """The citizen's profile (consent, area, needs, preferences, guide), the proposals made for
    them with their reasons and distances, their group places and the new groups they asked for; None when matching does
    not know the citizen or their consent does not name `org`."""
    row = (await session.execute(sa.select(citizens).where(citizens.c.citizen_id == citizen_id))).first()
    if row is None or org not in (row.consented_orgs or []):
        return None
    return {
        "profile": as_json([row])[0],
        "proposals": await rows_about(session, proposals, "citizen_id", citizen_id),
        "group_memberships": await rows_about(session, group_members, "citizen_id", citizen_id),
        **await friendships_about(session, citizen_id),
        "group_requests": await rows_about(session, group_requests, "citizen_id", citizen_id),
    }
