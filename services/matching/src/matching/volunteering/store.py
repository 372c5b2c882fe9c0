"""The lifecycle's tables read into `VolunteerRecord`s and written step by step."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, datetime
from typing import Iterable
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from matching.adapters.tables import supervision_attendance, supervision_sessions, volunteer_steps, volunteers
from matching.volunteering.lifecycle import (
    Interview, InterviewOutcome, Pause, PauseReason, Training, Vetting, VettingKind, VolunteerRecord, VolunteerRole,
    resumed,
)

DEFAULT_ROLES = (VolunteerRole.volunteer_friend.value,)
"""A volunteer registered before roles existed meets in person."""


FOLDED = (volunteer_steps.c.volunteer_id, volunteer_steps.c.step, volunteer_steps.c.happened_on,
          volunteer_steps.c.valid_until, volunteer_steps.c.code)
"""What the fold reads of a step (who recorded it is shown by `steps_of`)."""


def roles_of(stored: list[str] | None) -> frozenset[VolunteerRole]:
    return frozenset(VolunteerRole(r) for r in (stored or DEFAULT_ROLES))


async def record_step(session: AsyncSession, volunteer_id: UUID, step: str, happened_on: date, recorded_by: str,
                      now: datetime, *, valid_until: date | None = None, code: str | None = None) -> None:
    await session.execute(volunteer_steps.insert().values(
        step_id=str(uuid.uuid4()), volunteer_id=str(volunteer_id), step=step, happened_on=happened_on,
        valid_until=valid_until, code=code, recorded_by=recorded_by, recorded_at=now))


async def record_supervision(session: AsyncSession, org: str, held_on: date, kind: str, attendees: Iterable[UUID],
                             recorded_by: str, now: datetime) -> UUID:
    session_id = uuid.uuid4()
    await session.execute(supervision_sessions.insert().values(
        session_id=str(session_id), org=org, held_on=held_on, kind=kind, recorded_by=recorded_by, recorded_at=now))
    rows = [{"session_id": str(session_id), "volunteer_id": str(v)} for v in dict.fromkeys(attendees)]
    if rows:
        await session.execute(supervision_attendance.insert(), rows)
    return session_id


async def volunteers_of(session: AsyncSession, org: str, ids: Iterable[UUID]) -> set[UUID]:
    """Which of `ids` are volunteers of `org`."""
    keys = [str(i) for i in ids]
    if not keys:
        return set()
    query = sa.select(volunteers.c.volunteer_id).where(volunteers.c.volunteer_id.in_(keys), volunteers.c.org == org)
    return {UUID(v) for v in (await session.scalars(query)).all()}


async def records(session: AsyncSession, rows: list[sa.Row],
                  *where: sa.ColumnElement[bool]) -> dict[UUID, VolunteerRecord]:
    """The lifecycle record of each volunteer row (of the `volunteers` table), by volunteer id.

    `where`: the condition the rows were selected by, so that a whole registry's steps come in one query
    (joined to `volunteers`) instead of one per chunk of ids."""
    steps: dict[str, list[sa.Row]] = defaultdict(list)
    supervised: dict[str, list[date]] = defaultdict(list)
    for chosen in ([sa.and_(*where)] if where else
                   [volunteers.c.volunteer_id.in_(chunk) for chunk in _chunks([r.volunteer_id for r in rows])]):
        query = (sa.select(*FOLDED).join(volunteers, volunteers.c.volunteer_id == volunteer_steps.c.volunteer_id)
                 .where(chosen).order_by(volunteer_steps.c.recorded_at, volunteer_steps.c.step_id))
        for step in (await session.execute(query)).all():
            steps[step.volunteer_id].append(step)
        attended = (sa.select(supervision_attendance.c.volunteer_id, supervision_sessions.c.held_on)
                    .join(supervision_sessions, supervision_sessions.c.session_id == supervision_attendance.c.session_id)
                    .join(volunteers, volunteers.c.volunteer_id == supervision_attendance.c.volunteer_id)
                    .where(chosen))
        for volunteer_id, held_on in (await session.execute(attended)).all():
            supervised[volunteer_id].append(held_on)
    return {UUID(r.volunteer_id): _record(r, steps[r.volunteer_id], supervised[r.volunteer_id]) for r in rows}


async def record_of(session: AsyncSession, volunteer_id: UUID) -> tuple[sa.Row, VolunteerRecord] | None:
    row = (await session.execute(sa.select(volunteers).where(volunteers.c.volunteer_id == str(volunteer_id)))).first()
    if row is None:
        return None
    return row, (await records(session, [row]))[volunteer_id]


async def steps_of(session: AsyncSession, volunteer_id: UUID) -> list[sa.Row]:
    query = (sa.select(volunteer_steps).where(volunteer_steps.c.volunteer_id == str(volunteer_id))
             .order_by(volunteer_steps.c.recorded_at, volunteer_steps.c.step_id))
    return list((await session.execute(query)).all())


def _chunks(keys: list[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(keys), size):
        yield keys[start:start + size]


def _record(row: sa.Row, steps: list[sa.Row], supervised: list[date]) -> VolunteerRecord:
    """Fold the steps, oldest recorded first: a later resume ends the pauses recorded before it."""
    applied_on = registered_on = signed_on = None
    interviews: list[Interview] = []
    vettings: list[Vetting] = []
    trainings: list[Training] = []
    pauses: tuple[Pause, ...] = ()
    for step in steps:
        match step.step:
            case "applied":
                applied_on = applied_on or step.happened_on
            case "registered":
                registered_on = registered_on or step.happened_on
            case "interview":
                interviews.append(Interview(step.happened_on, InterviewOutcome(step.code)))
            case "vetting":
                vettings.append(Vetting(VettingKind(step.code), step.happened_on, step.valid_until))
            case "confidentiality":
                signed_on = signed_on or step.happened_on
            case "training":
                trainings.append(Training(step.code, step.happened_on, step.valid_until))
            case "pause":
                pauses += (Pause(step.happened_on, step.valid_until, PauseReason(step.code)),)
            case "resume":
                pauses = resumed(pauses, step.happened_on)
    return VolunteerRecord(
        volunteer_id=UUID(row.volunteer_id), roles=roles_of(row.roles), applied_on=applied_on,
        registered_on=registered_on, interviews=tuple(interviews), vettings=tuple(vettings),
        confidentiality_signed_on=signed_on, trainings=tuple(trainings), pauses=pauses,
        supervised_on=tuple(sorted(supervised)),
        retired_on=row.retired_at.date() if row.retired_at is not None else None,
    )
