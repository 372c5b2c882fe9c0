"""Two-sided consent, the asking half: the citizen said yes to a volunteer friend, so the volunteer is asked.

The proposal goes to `awaiting_volunteer` (it still holds the volunteer's slot) and `VolunteerAsked` carries,
sealed under the citizen's key, only what the volunteer needs to decide. Called from
`service_layer.decisions.accept`, in the citizen's accepting transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import sqlalchemy as sa

from brobygger_contracts.events.friendships import MeetingChannel, VolunteerAsked
from brobygger_contracts.types import TimeSlot
from brobygger_runtime.unit_of_work import UnitOfWork
from matching.adapters import repository as repo
from matching.adapters.tables import proposals, volunteer_questions
from matching.friendships.rules import answer_due, what_the_volunteer_sees

__all__ = ["VolunteerAsked", "ask_volunteer"]

AWAITING = "awaiting_volunteer"


def answer_hours(uow: UnitOfWork) -> float:
    return getattr(uow.runtime.settings, "volunteer_answer_hours", 72.0)


async def ask_volunteer(uow: UnitOfWork, row: sa.Row) -> VolunteerAsked:
    """`row`: the volunteer-friend proposal the citizen accepted (locked by the caller)."""
    session = uow.session
    now = datetime.now(UTC)
    volunteer = await repo.volunteer(session, UUID(row.candidate_id))
    citizen = await repo.citizen_row(session, UUID(row.citizen_id))
    profile = repo.profile_of(citizen) if citizen is not None else None
    seen = what_the_volunteer_sees(
        profile, citizen.postal_code if citizen else None, citizen.age_band if citizen else None,
        list(volunteer.interests) if volunteer else [], list(volunteer.languages) if volunteer else [],
        volunteer.availability if volunteer else frozenset(),
    )
    due = answer_due(now, answer_hours(uow))
    await session.execute(proposals.update().where(proposals.c.proposal_id == row.proposal_id).values(status=AWAITING))
    event = VolunteerAsked(
        proposal_id=UUID(row.proposal_id), citizen_id=UUID(row.citizen_id), volunteer_id=UUID(row.candidate_id),
        org=volunteer.org if volunteer else uow.runtime.settings.org_id, asked_at=now, answer_due=due,
        postal_code=seen.postal_code, age_band=seen.age_band, languages=seen.languages,
        shared_interests=seen.shared_interests,
        shared_times=[TimeSlot(day=s.day, part=s.part) for s in seen.shared_times],
        distance_km=None if row.distance_km is None else int(row.distance_km), channel=MeetingChannel.in_person,
    )
    await session.execute(volunteer_questions.insert().values(
        proposal_id=row.proposal_id, volunteer_id=row.candidate_id, citizen_id=row.citizen_id, asked_at=now,
        answer_due=due, shown=event.opened.model_dump(mode="json"),
    ))
    await uow.publish(event)
    return event
