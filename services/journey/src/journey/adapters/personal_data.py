"""What journey holds about one citizen, for the subject-access report."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from brobygger_runtime.subject_access import as_json, rows_about
from journey.adapters.tables import (
    contacts, follow_ups, group_members, journeys, measures, proposals, punch_cards, punch_entries, tasks, timers,
    transitions, visits,
)

_PER_JOURNEY = {"transitions": transitions, "contacts": contacts, "proposals": proposals, "visits": visits,
                "punch_cards": punch_cards, "punch_entries": punch_entries, "timers": timers,
                "follow_ups": follow_ups, "measures": measures, "tasks": tasks}


async def personal_data(session: AsyncSession, citizen_id: str, org: str) -> dict[str, Any] | None:
    """The citizen's journey with everything recorded on it, and their group places; None when
    there is no journey or the citizen's consent does not name `org` (journeys opened before
    consent was kept belong to the instance's organisation)."""
    rows = (await session.execute(sa.select(journeys).where(journeys.c.citizen_id == citizen_id))).all()
    if not rows or any(r.consented_orgs is not None and org not in r.consented_orgs for r in rows):
        return None
    held: dict[str, Any] = {"journeys": as_json(rows)}
    for name, table in _PER_JOURNEY.items():
        held[name] = as_json((await session.execute(
            sa.select(table).where(table.c.journey_id.in_([r.journey_id for r in rows])))).all())
    held["group_memberships"] = await rows_about(session, group_members, "citizen_id", citizen_id)
    return held
