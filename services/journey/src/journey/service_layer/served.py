"""Which interests existing activities serve where: the other half of the gap report."""

from __future__ import annotations

from brobygger_runtime.unit_of_work import UnitOfWork
from journey.adapters.tables import served_interests


async def activity_published(uow: UnitOfWork, activity_id: str, postal_code: str, interests: list[str]) -> None:
    """A new version of an activity replaces what the previous one served."""
    await uow.session.execute(served_interests.delete().where(served_interests.c.activity_id == activity_id))
    for interest in sorted(set(interests)):
        await uow.session.execute(
            served_interests.insert().values(activity_id=activity_id, interest=interest, postal_code=postal_code)
        )
