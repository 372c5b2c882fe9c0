"""The friendship figures of the coordinator report: hours given and how long friendships lasted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from matching.adapters.tables import friendship_meetings, friendships, volunteers
from matching.friendships.rules import LASTED_MONTHS, lasted_counts


async def friendship_figures(session: AsyncSession, org: str, now: datetime) -> dict[str, Any]:
    """For the volunteers of `org`: hours given in logged meetings, friendships in all and ongoing, and how many
    lasted at least 3, 6 and 12 months (an ongoing friendship counts up to `now`). Counts only, no person."""
    of_org = sa.select(volunteers.c.volunteer_id).where(volunteers.c.org == org)
    spans = (await session.execute(
        sa.select(friendships.c.started_at, friendships.c.ended_at).where(friendships.c.volunteer_id.in_(of_org))
    )).all()
    minutes = await session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(friendship_meetings.c.minutes), 0))
        .join(friendships, friendships.c.friendship_id == friendship_meetings.c.friendship_id)
        .where(friendships.c.volunteer_id.in_(of_org))
    )
    lasted = lasted_counts([(s.started_at, s.ended_at) for s in spans], now)
    return {
        "hours_given": round((minutes or 0) / 60, 2),
        "friendships": len(spans),
        "ongoing": sum(1 for s in spans if s.ended_at is None),
        "lasted_months": {str(m): lasted[m] for m in LASTED_MONTHS},
    }
