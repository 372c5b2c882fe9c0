"""A volunteer friendship ended (matching's `FriendshipEnded`): the journey takes it as an accepted match that fell
through (as `MatchDeclined` after acceptance does) and gives the guide a follow-up now, so they can follow up with
the citizen or ask for someone else."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from brobygger_runtime.unit_of_work import UnitOfWork
from journey.adapters import repository as repo
from journey.adapters.tables import proposals
from journey.domain.journey import TRANSITIONS, State, Step
from journey.domain.timers import TimerKind
from journey.service_layer.journeys import advance


async def friendship_ended(uow: UnitOfWork, citizen_id: UUID, proposal_id: UUID, ended_at: datetime) -> bool:
    """False when journey holds no open journey of the citizen (another organisation's, or exited)."""
    journey = await repo.journey_by_citizen(uow.session, citizen_id, lock=True)
    if journey is None or journey.state == State.exited.value:
        return False
    status = await uow.session.scalar(sa.select(proposals.c.status).where(proposals.c.proposal_id == str(proposal_id)))
    if status == "ended":
        return False  # this ending was taken already (the same news twice, even under another event id)
    if (State(journey.state), Step.fall_through) in TRANSITIONS:  # match_accepted -> matching; later states stay
        await advance(uow, journey, Step.fall_through, ended_at)
    await uow.session.execute(proposals.update().where(proposals.c.proposal_id == str(proposal_id))
                              .values(status="ended", decided_at=ended_at))
    # The guide's follow-up is due now; the monthly series goes on from here (one series, never two).
    await repo.cancel_timers(uow.session, journey.journey_id, ended_at, kind=TimerKind.follow_up)
    await repo.schedule_timer(uow.session, journey.journey_id, TimerKind.follow_up, ended_at)
    return True
