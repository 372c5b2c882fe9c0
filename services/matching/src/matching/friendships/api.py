"""HTTP routes of two-sided consent and friendships; `entrypoints/api.py` includes this router.

Who may act (DESIGN.md section 9): the volunteer themself (role `volunteer`, their token's `sub` is the
volunteer's `account` at this organisation), a coordinator of this instance's organisation, and for the
citizen's side the citizen's own guide (journey's `GuideAssigned`, within consent). Anyone else gets 404 as
for a friendship or question that does not exist; the refusal goes into the access log."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from uuid import UUID

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Response
from pydantic import BaseModel, ConfigDict, Field

from brobygger_contracts.events.friendships import FriendshipEndReason, FriendshipSide, MeetingChannel, Rhythm
from brobygger_contracts.sealed import readable
from brobygger_runtime import access_log
from brobygger_runtime.auth import Caller, Role, requires
from brobygger_runtime.http import runtime_of
from brobygger_runtime.service import ServiceRuntime
from brobygger_runtime.text import line
from matching.adapters.tables import (
    citizens, friendship_check_ins, friendship_meetings, friendships, proposals, volunteer_questions, volunteers,
)
from matching.entrypoints.access import Page, log_reads, refusal
from matching.friendships import answers, life
from matching.friendships.asking import AWAITING
from matching.friendships.rules import NotAllowed
from matching.service_layer.errors import NotFound, Refused

router = APIRouter(tags=["friendships"])


class VolunteerAnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answer: Literal["accept", "decline"]
    reason: line(200) | None = None
    """The volunteer's own words on a no; kept in this organisation's matching only, never on the bus."""


class AgreementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rhythm: Rhythm
    channel: MeetingChannel
    place: line(200) | None = None


class MeetingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    met_on: date
    minutes: int = Field(ge=5, le=600)
    channel: MeetingChannel
    note: line(280) | None = None


class CheckInIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    side: FriendshipSide
    going_well: bool


class EndIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    side: FriendshipSide
    reason: FriendshipEndReason


# -- who may act ------------------------------------------------------------------------------------

def _coordinator_here(caller: Caller, runtime: ServiceRuntime) -> bool:
    return caller.has(Role.coordinator) and caller.organisation == runtime.settings.org_id


async def _own_volunteer_ids(session, caller: Caller, runtime: ServiceRuntime) -> set[str]:  # noqa: ANN001
    """The volunteer(s) whose account is the caller's login at this organisation."""
    if not caller.has(Role.volunteer) or caller.organisation != runtime.settings.org_id:
        return set()
    query = sa.select(volunteers.c.volunteer_id).where(volunteers.c.account == caller.subject,
                                                       volunteers.c.org == runtime.settings.org_id)
    return set((await session.scalars(query)).all())


def _guided_by(caller: Caller) -> sa.Select:
    """Citizens whose guide the caller is (and whose consent names the guide's organisation)."""
    return sa.select(citizens.c.citizen_id).where(
        citizens.c.guide_id == caller.subject, citizens.c.guide_org == caller.organisation,
        sa.cast(citizens.c.consented_orgs, sa.Text).contains(f'"{caller.organisation}"', autoescape=True))


async def _is_guide_of(session, caller: Caller, citizen_id: str) -> bool:  # noqa: ANN001
    if not caller.has(Role.guide):
        return False
    return citizen_id in set((await session.scalars(_guided_by(caller).where(citizens.c.citizen_id == citizen_id))).all())


async def _may_act(session, caller: Caller, runtime: ServiceRuntime, row: sa.Row,  # noqa: ANN001
                   side: FriendshipSide | None) -> bool:
    """`side` citizen: the citizen's guide; volunteer: the volunteer themself; None: either. A coordinator of
    this organisation may act on either side (`side` citizen included only where `coordinator_for_citizen`)."""
    if side in (None, FriendshipSide.volunteer) and row.volunteer_id in await _own_volunteer_ids(session, caller, runtime):
        return True
    if side in (None, FriendshipSide.citizen) and await _is_guide_of(session, caller, row.citizen_id):
        return True
    return False


async def _refuse(runtime: ServiceRuntime, caller: Caller, subject: str, what: str, purpose: str) -> HTTPException:
    async with runtime.db.transaction() as session:
        await access_log.record(session, runtime.tables.access_log, caller, subject, fields=("friendship",),
                                purpose=f"refused: {purpose}", allowed=False)
    return refusal(404, "not_found", f"no {what} you may act on")


async def _friendship_for(runtime: ServiceRuntime, caller: Caller, friendship_id: UUID, purpose: str,
                          side: FriendshipSide | None, coordinator: bool = True) -> sa.Row:
    async with runtime.db.sessions() as session:
        row = (await session.execute(sa.select(friendships).where(
            friendships.c.friendship_id == str(friendship_id)))).first()
        allowed = row is not None and ((coordinator and _coordinator_here(caller, runtime))
                                       or await _may_act(session, caller, runtime, row, side))
    if not allowed:
        raise await _refuse(runtime, caller, row.citizen_id if row else str(friendship_id),
                            f"friendship {friendship_id}", purpose)
    await log_reads(runtime, caller, [row.citizen_id], fields=("friendship",), purpose=purpose)
    return row


def _as_http(call):  # noqa: ANN001, ANN202
    """A use case's refusals as HTTP: 404 unknown, 409 not in a state for it, 422 against policy (with why)."""
    async def run() -> Any:
        try:
            return await call()
        except NotFound as exc:
            raise HTTPException(404, detail=str(exc)) from exc
        except Refused as exc:
            raise HTTPException(409, detail=str(exc)) from exc
        except NotAllowed as exc:
            raise refusal(422, "not_allowed", str(exc)) from exc
    return run()


# -- two-sided consent ------------------------------------------------------------------------------

@router.post("/proposals/{proposal_id}/volunteer-answer")
async def volunteer_answer(proposal_id: UUID, body: VolunteerAnswerIn,
                           caller: Caller = Depends(requires(Role.volunteer, Role.coordinator)),
                           runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """The volunteer's answer to a citizen's yes (`{"answer": "accept" | "decline", "reason"?}`): accept publishes
    `MatchAccepted` and begins the friendship; decline publishes `MatchDeclined` (`volunteer_declined`) and proposes
    the citizen the next candidate. The volunteer themself, or a coordinator of this organisation on their behalf;
    409 once answered or timed out."""
    async with runtime.db.sessions() as session:
        question = (await session.execute(sa.select(volunteer_questions).where(
            volunteer_questions.c.proposal_id == str(proposal_id)))).first()
        allowed = question is not None and (
            _coordinator_here(caller, runtime)
            or question.volunteer_id in await _own_volunteer_ids(session, caller, runtime))
    if not allowed:
        raise await _refuse(runtime, caller, question.citizen_id if question else str(proposal_id),
                            f"question about proposal {proposal_id}", "volunteer answer")

    async def decide() -> answers.Answered:
        async with runtime.unit_of_work() as uow:
            return await answers.answer(uow, proposal_id, body.answer == "accept", body.reason)
    done = await _as_http(decide)
    return {
        "proposal_id": str(proposal_id), "answer": body.answer,
        "accepted": readable(done.accepted) if done.accepted else None,
        "friendship_id": str(done.friendship_id) if done.friendship_id else None,
        "declined": readable(done.declined) if done.declined else None,
        "next_proposal": readable(done.next_proposal) if done.next_proposal else None,
    }


@router.get("/friendships/questions")
async def pending_questions(response: Response, page: Page = Depends(),
                            caller: Caller = Depends(requires(Role.volunteer, Role.coordinator)),
                            runtime: ServiceRuntime = Depends(runtime_of)) -> list[dict[str, Any]]:
    """Questions waiting for a volunteer's answer, with what they need to decide and the deadline: a volunteer's
    own; a coordinator of this organisation sees the organisation's."""
    query = (sa.select(volunteer_questions).join(proposals, proposals.c.proposal_id == volunteer_questions.c.proposal_id)
             .where(volunteer_questions.c.answer.is_(None), proposals.c.status == AWAITING)
             .order_by(volunteer_questions.c.answer_due, volunteer_questions.c.proposal_id))
    async with runtime.db.sessions() as session:
        if _coordinator_here(caller, runtime):
            query = query.where(volunteer_questions.c.volunteer_id.in_(
                sa.select(volunteers.c.volunteer_id).where(volunteers.c.org == runtime.settings.org_id)))
        else:
            query = query.where(volunteer_questions.c.volunteer_id.in_(await _own_volunteer_ids(session, caller, runtime)))
        rows = page.cut(list((await session.execute(page.apply(query))).all()), response)
    await log_reads(runtime, caller, (r.citizen_id for r in rows), fields=("volunteer question",),
                    purpose="volunteer questions")
    return [{"proposal_id": r.proposal_id, "volunteer_id": r.volunteer_id, "asked_at": r.asked_at,
             "answer_due": r.answer_due, **r.shown} for r in rows]


# -- friendships ------------------------------------------------------------------------------------

async def _shown(session, rows: list[sa.Row]) -> list[dict[str, Any]]:  # noqa: ANN001
    ids = [r.friendship_id for r in rows]
    minutes = dict((await session.execute(
        sa.select(friendship_meetings.c.friendship_id, sa.func.sum(friendship_meetings.c.minutes))
        .where(friendship_meetings.c.friendship_id.in_(ids)).group_by(friendship_meetings.c.friendship_id))).all())
    meetings = dict((await session.execute(
        sa.select(friendship_meetings.c.friendship_id, sa.func.count())
        .where(friendship_meetings.c.friendship_id.in_(ids)).group_by(friendship_meetings.c.friendship_id))).all())
    check_ins: dict[str, dict[str, bool]] = {}
    for c in (await session.execute(sa.select(friendship_check_ins).where(
            friendship_check_ins.c.friendship_id.in_(ids)))).all():
        check_ins.setdefault(c.friendship_id, {})[c.side] = c.going_well
    return [dict(r._mapping) | {"active": r.ended_at is None, "meetings": meetings.get(r.friendship_id, 0),
                                "minutes": int(minutes.get(r.friendship_id) or 0),
                                "check_ins": check_ins.get(r.friendship_id, {})} for r in rows]


@router.get("/friendships")
async def list_friendships(response: Response, page: Page = Depends(),
                           caller: Caller = Depends(requires(Role.volunteer, Role.coordinator, Role.guide)),
                           runtime: ServiceRuntime = Depends(runtime_of)) -> list[dict[str, Any]]:
    """Friendships, newest first, a page at a time: a volunteer's own, a coordinator's organisation's, a guide's
    citizens'. Each citizen shown is in the access log."""
    query = sa.select(friendships).order_by(friendships.c.started_at.desc(), friendships.c.friendship_id)
    async with runtime.db.sessions() as session:
        if _coordinator_here(caller, runtime):
            query = query.where(friendships.c.volunteer_id.in_(
                sa.select(volunteers.c.volunteer_id).where(volunteers.c.org == runtime.settings.org_id)))
        else:
            mine = friendships.c.volunteer_id.in_(await _own_volunteer_ids(session, caller, runtime))
            guided = friendships.c.citizen_id.in_(_guided_by(caller)) if caller.has(Role.guide) else sa.false()
            query = query.where(sa.or_(mine, guided))
        rows = page.cut(list((await session.execute(page.apply(query))).all()), response)
        shown = await _shown(session, rows)
    await log_reads(runtime, caller, (r.citizen_id for r in rows), fields=("friendship",), purpose="friendships")
    return shown


@router.post("/friendships/{friendship_id}/agreement", status_code=201)
async def agree(friendship_id: UUID, body: AgreementIn, caller: Caller = Depends(requires(Role.guide, Role.coordinator)),
                runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """The agreed rhythm (weekly, fortnightly, monthly), channel (in_person, phone, video) and place (kept here;
    sealed on the bus): publishes `FriendshipAgreed`. The citizen's guide, or a coordinator of this organisation."""
    await _friendship_for(runtime, caller, friendship_id, "friendship agreement", FriendshipSide.citizen)

    async def record() -> Any:
        async with runtime.unit_of_work() as uow:
            return await life.agree(uow, friendship_id, body.rhythm, body.channel, body.place)
    return readable(await _as_http(record))


@router.post("/friendships/{friendship_id}/meetings", status_code=201)
async def log_meeting(friendship_id: UUID, body: MeetingIn,
                      caller: Caller = Depends(requires(Role.volunteer, Role.coordinator)),
                      runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """A meeting: `met_on`, `minutes` (5-600), `channel`; a `note` only where MEETING_NOTES_ALLOWED (else 422 with
    the reason). The volunteer of the friendship, or a coordinator of this organisation."""
    await _friendship_for(runtime, caller, friendship_id, "log meeting", FriendshipSide.volunteer)
    meeting = life.Meeting(body.met_on, body.minutes, body.channel, body.note)

    async def record() -> Any:
        async with runtime.unit_of_work() as uow:
            return await life.log_meeting(uow, friendship_id, meeting, caller.subject)
    return await _as_http(record)


@router.post("/friendships/{friendship_id}/check-ins", status_code=201)
async def check_in(friendship_id: UUID, body: CheckInIn,
                   caller: Caller = Depends(requires(Role.guide, Role.volunteer, Role.coordinator)),
                   runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """One side's answer to the check-in (`{side, going_well}`): the citizen's side by their guide, the volunteer's
    by the volunteer; a coordinator of this organisation for either."""
    await _friendship_for(runtime, caller, friendship_id, "friendship check-in", body.side)

    async def record() -> Any:
        async with runtime.unit_of_work() as uow:
            return await life.record_check_in(uow, friendship_id, body.side, body.going_well, caller.subject)
    return await _as_http(record)


@router.post("/friendships/{friendship_id}/end")
async def end(friendship_id: UUID, body: EndIn,
              caller: Caller = Depends(requires(Role.guide, Role.volunteer, Role.coordinator)),
              runtime: ServiceRuntime = Depends(runtime_of)) -> dict[str, Any]:
    """Either side ends the friendship with a reason code: publishes `FriendshipEnded`, the proposal becomes
    `ended` and the volunteer's place is free; the volunteer is not retired. The citizen's side: their guide;
    the volunteer's side: the volunteer or a coordinator of this organisation. 409 when it already ended."""
    await _friendship_for(runtime, caller, friendship_id, "end friendship", body.side,
                          coordinator=body.side is FriendshipSide.volunteer)

    async def record() -> Any:
        async with runtime.unit_of_work() as uow:
            return await life.end(uow, friendship_id, body.side, body.reason)
    return readable(await _as_http(record))
