"""Two-sided consent, the answering half: the volunteer says yes (the match is made: `MatchAccepted`, and the
friendship begins) or no; no answer by the deadline counts as no (`MatchDeclined`, `volunteer_declined` or
`volunteer_no_answer`) and the citizen is proposed the next candidate, as on their own decline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from brobygger_contracts.events.matching import DeclineReason, MatchAccepted, MatchDeclined, MatchProposed
from brobygger_runtime.unit_of_work import UnitOfWork
from matching.adapters.tables import proposals, volunteer_questions
from matching.friendships import life
from matching.friendships.asking import AWAITING
from matching.service_layer import decisions
from matching.service_layer.errors import NotFound, Refused


@dataclass(frozen=True)
class Answered:
    accepted: MatchAccepted | None = None
    friendship_id: UUID | None = None
    declined: MatchDeclined | None = None
    next_proposal: MatchProposed | None = None


async def open_question(session, proposal_id: UUID) -> sa.Row:  # noqa: ANN001
    """The unanswered question of this proposal, or NotFound / Refused."""
    query = sa.select(volunteer_questions).where(volunteer_questions.c.proposal_id == str(proposal_id))
    row = (await session.execute(query.with_for_update())).first()
    if row is None:
        raise NotFound(f"no volunteer was asked about proposal {proposal_id}")
    if row.answer is not None:
        raise Refused(f"proposal {proposal_id} was already answered: {row.answer}")
    return row


async def _close(session, proposal_id: UUID, answer: str, at: datetime, note: str | None = None) -> None:  # noqa: ANN001
    await session.execute(volunteer_questions.update().where(volunteer_questions.c.proposal_id == str(proposal_id))
                          .values(answer=answer, answered_at=at, decline_note=note))


async def answer(uow: UnitOfWork, proposal_id: UUID, accept: bool, note: str | None = None) -> Answered:
    await open_question(uow.session, proposal_id)
    if accept:
        accepted = await decisions.accept(uow, proposal_id, volunteer_said_yes=True)
        assert isinstance(accepted, MatchAccepted)
        friendship_id = await life.start(uow, accepted)
        await _close(uow.session, proposal_id, "accepted", accepted.accepted_at)
        return Answered(accepted=accepted, friendship_id=friendship_id)
    declined, following = await decisions.volunteer_declined(uow, proposal_id, DeclineReason.volunteer_declined)
    await _close(uow.session, proposal_id, "declined", declined.declined_at, note)
    return Answered(declined=declined, next_proposal=following)


async def expire_unanswered(uow: UnitOfWork, now: datetime, limit: int = 100) -> int:
    """Questions past their deadline count as no (`volunteer_no_answer`). Crash-safe and idempotent: the
    decline and the closed question commit together, and a closed question is never looked at again."""
    session = uow.session
    due = (await session.scalars(
        sa.select(volunteer_questions.c.proposal_id)
        .where(volunteer_questions.c.answer.is_(None), volunteer_questions.c.answer_due <= now)
        .order_by(volunteer_questions.c.answer_due).limit(limit)
    )).all()
    expired = 0
    for key in due:
        proposal_id = UUID(key)
        # Locked and read again: an answer given meanwhile wins, and this round then leaves the question alone.
        still_open = (await session.execute(sa.select(volunteer_questions.c.proposal_id).where(
            volunteer_questions.c.proposal_id == key, volunteer_questions.c.answer.is_(None)).with_for_update())).first()
        if still_open is None:
            continue
        status = await session.scalar(sa.select(proposals.c.status).where(proposals.c.proposal_id == key))
        if status != AWAITING:  # withdrawn meanwhile (the volunteer retired, the citizen left)
            await _close(session, proposal_id, "withdrawn", now)
            continue
        await decisions.volunteer_declined(uow, proposal_id, DeclineReason.volunteer_no_answer)
        await _close(session, proposal_id, "no_answer", now)
        expired += 1
    return expired
