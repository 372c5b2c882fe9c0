"""The guide's tasks: opened by their causes (each once), listed, done and undone."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from brobygger_runtime.unit_of_work import UnitOfWork
from journey.adapters.tables import journeys, tasks
from journey.domain.errors import NotFound
from journey.domain.tasks import TaskKind


async def open_task(uow: UnitOfWork, journey: sa.Row, kind: TaskKind, source_key: str, at: datetime,
                    **details: Any) -> bool:
    """A task for the journey's guide; False when its cause already made one. (Causes arrive once: timers
    are claimed, events pass the inbox; the unique `source_key` is the backstop.)"""
    if await uow.session.scalar(sa.select(tasks.c.task_id).where(tasks.c.source_key == source_key)):
        return False
    await uow.session.execute(tasks.insert().values(
        task_id=str(uuid.uuid4()), journey_id=journey.journey_id, citizen_id=journey.citizen_id, kind=kind.value,
        details={k: v for k, v in details.items() if v is not None}, source_key=source_key, created_at=at,
    ))
    return True


async def close_open(uow: UnitOfWork, journey_id: str, kinds: tuple[TaskKind, ...], by: str | None, at: datetime,
                     **details: Any) -> int:
    """Mark the journey's open tasks of `kinds` done (what the guide just recorded did them); with `details`,
    only tasks whose details say so (e.g. the UCLA of one time point)."""
    rows = (await uow.session.execute(sa.select(tasks.c.task_id, tasks.c.details).where(
        tasks.c.journey_id == journey_id, tasks.c.kind.in_([k.value for k in kinds]), tasks.c.done_at.is_(None),
    ))).all()
    ids = [r.task_id for r in rows if all((r.details or {}).get(k) == v for k, v in details.items())]
    if ids:
        await uow.session.execute(tasks.update().where(tasks.c.task_id.in_(ids)).values(done_at=at, done_by=by))
    return len(ids)


def visible_tasks(guide_id: str | None, done: bool | None) -> sa.Select:
    """Tasks of shown journeys (not erased, not hidden), oldest first; a guide's: their current caseload's."""
    query = (sa.select(tasks, journeys.c.guide_id).join(journeys, journeys.c.journey_id == tasks.c.journey_id)
             .where(journeys.c.erased.is_(False), journeys.c.hidden.is_(False))
             .order_by(tasks.c.created_at, tasks.c.task_id))
    if guide_id is not None:
        query = query.where(journeys.c.guide_id == guide_id)
    if done is not None:
        query = query.where(tasks.c.done_at.is_not(None) if done else tasks.c.done_at.is_(None))
    return query


def task_view(row: sa.Row) -> dict:
    return {
        "task_id": row.task_id, "kind": row.kind, "citizen_id": row.citizen_id, "journey_id": row.journey_id,
        "guide_id": row.guide_id, "details": row.details, "created_at": row.created_at, "done": row.done_at is not None,
        "done_at": row.done_at, "done_by": row.done_by,
    }


async def list_tasks(uow: UnitOfWork, guide_id: str | None, done: bool | None, limit: int, offset: int) -> list[dict]:
    rows = (await uow.session.execute(visible_tasks(guide_id, done).limit(limit).offset(offset))).all()
    return [task_view(r) for r in rows]


async def set_done(uow: UnitOfWork, task_id: str, guide_id: str | None, done: bool, by: str, at: datetime) -> dict:
    """Done or undone again; `guide_id` (a guide calling): only a task of their own caseload, else NotFound."""
    query = visible_tasks(guide_id, None).where(tasks.c.task_id == task_id)
    if (await uow.session.execute(query)).first() is None:
        raise NotFound(f"no task {task_id}")
    await uow.session.execute(tasks.update().where(tasks.c.task_id == task_id).values(
        done_at=at if done else None, done_by=by if done else None))
    return task_view((await uow.session.execute(query)).one())
