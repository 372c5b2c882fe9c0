"""What the friendship tables hold about one citizen: shown in their subject-access report, gone on erasure."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from brobygger_runtime.subject_access import rows_about
from matching.adapters.tables import friendship_check_ins, friendship_meetings, friendships, volunteer_questions


async def friendships_about(session: AsyncSession, citizen_id: str) -> dict[str, Any]:
    """The questions volunteers were asked about the citizen and the citizen's friendships (place included)."""
    return {
        "volunteer_questions": await rows_about(session, volunteer_questions, "citizen_id", citizen_id),
        "friendships": await rows_about(session, friendships, "citizen_id", citizen_id),
    }


async def forget_friendships(session: AsyncSession, citizen_id: str) -> None:
    """Erasure: the citizen's questions and friendships with their meetings and check-ins (deleted explicitly:
    SQLite enforces no foreign key cascade unless asked to)."""
    theirs = sa.select(friendships.c.friendship_id).where(friendships.c.citizen_id == citizen_id)
    await session.execute(friendship_meetings.delete().where(friendship_meetings.c.friendship_id.in_(theirs)))
    await session.execute(friendship_check_ins.delete().where(friendship_check_ins.c.friendship_id.in_(theirs)))
    await session.execute(friendships.delete().where(friendships.c.citizen_id == citizen_id))
    await session.execute(volunteer_questions.delete().where(volunteer_questions.c.citizen_id == citizen_id))
