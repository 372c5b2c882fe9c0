"""A friendship over time: it begins with the volunteer's yes, gets an agreed rhythm, channel and place,
its meetings are logged, both sides are asked how it goes after the first month, and either side may end it.
Ending frees the volunteer's place (the proposal goes to `ended`) and never retires the volunteer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from uuid import UUID

import sqlalchemy as sa

from brobygger_contracts.events.friendships import (
    FriendshipAgreed, FriendshipCheckInDue, FriendshipEnded, FriendshipEndReason, FriendshipSide, MeetingChannel, Rhythm,
)
from brobygger_contracts.events.matching import MatchAccepted
from brobygger_runtime.unit_of_work import UnitOfWork
from matching.adapters.metrics import metrics_of
from matching.adapters.tables import friendship_check_ins, friendship_meetings, friendships, proposals
from matching.friendships.rules import NotAllowed, check_in_due, meeting_date, meeting_note
from matching.service_layer.errors import NotFound, Refused


def check_in_days(uow: UnitOfWork) -> float:
    return getattr(uow.runtime.settings, "friendship_check_in_days", 30.0)


async def friendship(session, friendship_id: UUID, lock: bool = False) -> sa.Row:  # noqa: ANN001
    query = sa.select(friendships).where(friendships.c.friendship_id == str(friendship_id))
    row = (await session.execute(query.with_for_update() if lock else query)).first()
    if row is None:
        raise NotFound(f"no friendship {friendship_id}")
    return row


async def _ongoing(uow: UnitOfWork, friendship_id: UUID) -> sa.Row:
    row = await friendship(uow.session, friendship_id, lock=True)
    if row.ended_at is not None:
        raise Refused(f"friendship {friendship_id} ended on {row.ended_at.date()}")
    return row


async def start(uow: UnitOfWork, accepted: MatchAccepted) -> UUID:
    """The volunteer said yes: the friendship begins (its check-in is due FRIENDSHIP_CHECK_IN_DAYS later)."""
    friendship_id = uuid.uuid4()
    await uow.session.execute(friendships.insert().values(
        friendship_id=str(friendship_id), proposal_id=str(accepted.proposal_id), citizen_id=str(accepted.citizen_id),
        volunteer_id=str(accepted.candidate_id), started_at=accepted.accepted_at,
        check_in_due_at=check_in_due(accepted.accepted_at, check_in_days(uow)),
    ))
    return friendship_id


async def agree(uow: UnitOfWork, friendship_id: UUID, rhythm: Rhythm, channel: MeetingChannel,
                place: str | None) -> FriendshipAgreed:
    row = await _ongoing(uow, friendship_id)
    now = datetime.now(UTC)
    await uow.session.execute(friendships.update().where(friendships.c.friendship_id == row.friendship_id).values(
        rhythm=rhythm.value, channel=channel.value, place=place, agreed_at=now))
    event = FriendshipAgreed(friendship_id=friendship_id, proposal_id=UUID(row.proposal_id),
                             citizen_id=UUID(row.citizen_id), volunteer_id=UUID(row.volunteer_id), rhythm=rhythm,
                             channel=channel, agreed_at=now, place=place)
    await uow.publish(event)
    return event


@dataclass(frozen=True)
class Meeting:
    met_on: date
    minutes: int
    channel: MeetingChannel
    note: str | None = None


async def log_meeting(uow: UnitOfWork, friendship_id: UUID, meeting: Meeting, by: str) -> dict:
    """A meeting the volunteer logs: date, minutes, channel; a note only where the organisation allows notes."""
    row = await friendship(uow.session, friendship_id, lock=True)
    now = datetime.now(UTC)
    note = meeting_note(meeting.note, getattr(uow.runtime.settings, "meeting_notes_allowed", False))
    last_day = row.ended_at.date() if row.ended_at else now.date()
    met_on = meeting_date(meeting.met_on, row.started_at, last_day)
    meeting_id = uuid.uuid4()
    await uow.session.execute(friendship_meetings.insert().values(
        meeting_id=str(meeting_id), friendship_id=row.friendship_id, met_on=met_on, minutes=meeting.minutes,
        channel=meeting.channel.value, note=note, logged_by=by, logged_at=now))
    return {"meeting_id": str(meeting_id), "friendship_id": row.friendship_id, "met_on": met_on.isoformat(),
            "minutes": meeting.minutes, "channel": meeting.channel.value, "note": note}


async def record_check_in(uow: UnitOfWork, friendship_id: UUID, side: FriendshipSide, going_well: bool, by: str) -> dict:
    """One side's answer to 'how is it going?'; answering again replaces that side's answer."""
    row = await friendship(uow.session, friendship_id, lock=True)
    now = datetime.now(UTC)
    key = (friendship_check_ins.c.friendship_id == row.friendship_id) & (friendship_check_ins.c.side == side.value)
    await uow.session.execute(friendship_check_ins.delete().where(key))
    await uow.session.execute(friendship_check_ins.insert().values(
        friendship_id=row.friendship_id, side=side.value, going_well=going_well, answered_by=by, answered_at=now))
    return {"friendship_id": row.friendship_id, "side": side.value, "going_well": going_well, "answered_at": now}


async def end(uow: UnitOfWork, friendship_id: UUID, side: FriendshipSide, reason: FriendshipEndReason) -> FriendshipEnded:
    """Either side ends it: the proposal goes to `ended`, which frees the volunteer's place; the volunteer stays."""
    row = await _ongoing(uow, friendship_id)
    now = datetime.now(UTC)
    await uow.session.execute(friendships.update().where(friendships.c.friendship_id == row.friendship_id).values(
        ended_at=now, ended_side=side.value, ended_reason=reason.value))
    await uow.session.execute(proposals.update().where(proposals.c.proposal_id == row.proposal_id).values(
        status="ended", decided_at=now))
    metrics_of(uow.runtime).decisions.labels("volunteer_friend", "ended").inc()
    event = FriendshipEnded(friendship_id=friendship_id, proposal_id=UUID(row.proposal_id),
                            citizen_id=UUID(row.citizen_id), volunteer_id=UUID(row.volunteer_id), side=side,
                            reason=reason, started_at=row.started_at, ended_at=now)
    await uow.publish(event)
    return event


async def close_with_match(session, proposal_id: UUID, at: datetime,  # noqa: ANN001
                           side: FriendshipSide = FriendshipSide.volunteer) -> None:
    """The match itself ended and the journey already knows (the volunteer retired: `MatchDeclined`,
    `candidate_unavailable`; the citizen's journey ended or a follow-up found it stopped: journey's own event):
    the friendship ends with it, on that side."""
    await session.execute(friendships.update().where(
        friendships.c.proposal_id == str(proposal_id), friendships.c.ended_at.is_(None)).values(
        ended_at=at, ended_side=side.value, ended_reason=FriendshipEndReason.other.value))


async def publish_due_check_ins(uow: UnitOfWork, now: datetime, limit: int = 100) -> int:
    """`FriendshipCheckInDue` once per ongoing friendship whose first month has passed. The event and the mark
    that it went out commit together, and only an unmarked row is claimed: a crash or a second replica repeats
    nothing."""
    due = (await uow.session.execute(
        sa.select(friendships).where(friendships.c.check_in_published_at.is_(None), friendships.c.ended_at.is_(None),
                                     friendships.c.check_in_due_at <= now)
        .order_by(friendships.c.check_in_due_at).limit(limit)
    )).all()
    published = 0
    for row in due:
        claimed = await uow.session.execute(
            friendships.update().where(friendships.c.friendship_id == row.friendship_id,
                                       friendships.c.check_in_published_at.is_(None))
            .values(check_in_published_at=now))
        if not claimed.rowcount:
            continue
        await uow.publish(FriendshipCheckInDue(
            friendship_id=UUID(row.friendship_id), citizen_id=UUID(row.citizen_id), volunteer_id=UUID(row.volunteer_id),
            started_at=row.started_at, due_at=row.check_in_due_at))
        published += 1
    return published


__all__ = ["Meeting", "NotAllowed", "agree", "close_with_match", "end", "friendship", "log_meeting", "publish_due_check_ins",
           "record_check_in", "start"]
