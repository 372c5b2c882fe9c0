"""Turning a journey into anonymous counts (erasure, and retention after exit).

What stays serves the partnership's reports only: state, outcome, source, urgency,
language, the UCLA totals and how many days each step took. What could lead back to
the citizen goes:

- the journey and its proposals get fresh random ids: the ids the bus and the outbox
  carried (and anyone who read them) tie to nothing here any more;
- the citizen id is replaced, postal code and age band are dropped;
- every time is moved back by the same amount so that the referral falls on the first
  of its month: the month and the spans between steps (the waiting-time reports) stay,
  the exact days do not;
- free text (clarification, exit note, contact notes, who made a contact or drew hours)
  and the UCLA answers (only their totals stay) are deleted; pending timers are dropped.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from journey.adapters.tables import contacts, journeys, proposals, punch_cards, punch_entries, timers, transitions, visits

UCLA_ITEMS = ("lack_companionship", "left_out", "isolated")

# The times of each table, all moved by the journey's shift.
_JOURNEY_TIMES = ("referred_at", "assigned_at", "first_contact_at", "clarified_at", "match_accepted_at",
                  "first_visit_at", "first_visit_planned_for", "exited_at")
_CHILD_TIMES = {transitions: ("at",), contacts: ("at",), proposals: ("proposed_at", "decided_at"),
                visits: ("visited_at",), punch_entries: ("at",)}


def ucla_total(answers: dict | None) -> dict | None:
    """The answers reduced to their total (what the loneliness report needs)."""
    if not answers:
        return None
    if "total" in answers:
        return {"total": answers["total"]}
    return {"total": sum(answers[k] for k in UCLA_ITEMS)}


def _month_start(moment: datetime) -> datetime:
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _shifted(row: sa.Row, columns: tuple[str, ...], shift: timedelta) -> dict:
    return {c: getattr(row, c) - shift for c in columns if getattr(row, c) is not None}


async def anonymise_journey(session: AsyncSession, journey_id: str) -> str:
    """Re-key and coarsen one journey (see the module); returns its new id."""
    journey = (await session.execute(sa.select(journeys).where(journeys.c.journey_id == journey_id))).one()
    shift = journey.referred_at - _month_start(journey.referred_at)
    new_id = str(uuid.uuid4())
    await session.execute(timers.delete().where(timers.c.journey_id == journey_id))
    for table, columns in _CHILD_TIMES.items():
        key = table.primary_key.columns.values()[0]
        for row in (await session.execute(sa.select(table).where(table.c.journey_id == journey_id))).all():
            values = _shifted(row, columns, shift) | {"journey_id": new_id}
            if table is contacts:
                values |= {"note": None, "by": None}
            elif table is punch_entries:
                values["by"] = None
            elif table is proposals:
                new_proposal = str(uuid.uuid4())
                values |= {"proposal_id": new_proposal, "candidate_name": None}
                await session.execute(visits.update().where(visits.c.proposal_id == row.proposal_id)
                                      .values(proposal_id=new_proposal))
            await session.execute(table.update().where(key == getattr(row, key.name)).values(values))
    await session.execute(punch_cards.update().where(punch_cards.c.journey_id == journey_id).values(journey_id=new_id))
    await session.execute(journeys.update().where(journeys.c.journey_id == journey_id).values(
        _shifted(journey, _JOURNEY_TIMES, shift) | dict(
            journey_id=new_id, citizen_id=f"erased-{uuid.uuid4()}", clarification=None, exit_note=None,
            postal_code="000", age_band="unknown", baseline=ucla_total(journey.baseline), final=ucla_total(journey.final),
            erased=True,
        )))
    return new_id
