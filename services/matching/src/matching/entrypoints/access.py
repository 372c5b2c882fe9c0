"""Who may see what in matching's API (DESIGN.md section 9): the instance's own organisation,
consent, the access log, paging and capped bodies."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from fastapi import Response

from brobygger_runtime.auth.route_guard import refusal, require_own_organisation
from brobygger_runtime.paging import DEFAULT_LIMIT, Limit, Offset
from brobygger_runtime import access_log
from brobygger_runtime.auth import Caller, Role
from brobygger_runtime.service import ServiceRuntime
from matching.adapters import repository as repo
from matching.adapters.tables import citizens

MIN_CELL = 5
"""Aggregates never show a cell of fewer citizens than this (section 9)."""


def own_organisation(caller: Caller, runtime: ServiceRuntime, what: str) -> None:
    """The registries (volunteers, activities) and batch runs belong to the organisation running this instance."""
    org = runtime.settings.org_id
    require_own_organisation(caller, org, f"{what} belongs to {org}'s coordinators")


def consent_names(org: str) -> sa.ColumnElement[bool]:
    """Citizens whose stored consent names `org` (consent is a JSON list of organisation ids)."""
    return sa.cast(citizens.c.consented_orgs, sa.Text).contains(f'"{org}"', autoescape=True)


def caseload_only(caller: Caller) -> bool:
    """A guide (who is not also a coordinator) sees only their own caseload: the citizens journey assigned them."""
    return caller.has(Role.guide) and not caller.has(Role.coordinator)


def may_see(caller: Caller, row: sa.Row | None) -> bool:
    """The citizen's consent names the caller's organisation, and a guide's caseload holds the citizen."""
    if row is None or row.consented_orgs is None or caller.organisation not in row.consented_orgs:
        return False
    if caseload_only(caller):
        return row.guide_id == caller.subject and row.guide_org == caller.organisation
    return True


def visible_citizens(caller: Caller) -> sa.Select:
    """The ids of the citizens the caller may see (`may_see` as a query)."""
    query = sa.select(citizens.c.citizen_id).where(consent_names(caller.organisation))
    if caseload_only(caller):
        query = query.where(citizens.c.guide_id == caller.subject, citizens.c.guide_org == caller.organisation)
    return query


async def visible_citizen(runtime: ServiceRuntime, caller: Caller, citizen_id: UUID, *,
                          fields: Sequence[str], purpose: str) -> sa.Row | None:
    """The citizen's row when the caller may see them (`may_see`), else None; either way the attempt goes into
    the access log, in a transaction of its own so that a refusal stays logged whatever the caller does next."""
    async with runtime.db.transaction() as session:
        row = await repo.citizen_row(session, citizen_id)
        allowed = may_see(caller, row)
        await access_log.record(session, runtime.tables.access_log, caller, citizen_id, fields=fields,
                                purpose=purpose if allowed else f"refused: {purpose}", allowed=allowed)
    return row if allowed else None


async def citizen_in_consent(runtime: ServiceRuntime, caller: Caller, citizen_id: UUID, *,
                             fields: Sequence[str], purpose: str) -> sa.Row:
    """`visible_citizen`, or 404: unknown, outside consent or another guide's citizen all look the same."""
    row = await visible_citizen(runtime, caller, citizen_id, fields=fields, purpose=purpose)
    if row is None:
        raise refusal(404, "not_found", f"no citizen {citizen_id} you may see")
    return row


async def log_reads(runtime: ServiceRuntime, caller: Caller, subjects: Iterable[Any], *,
                    fields: Sequence[str], purpose: str) -> None:
    async with runtime.db.transaction() as session:
        for subject in dict.fromkeys(str(s) for s in subjects):
            await access_log.record(session, runtime.tables.access_log, caller, subject, fields=fields,
                                    purpose=purpose, allowed=True)


class Page:
    """`limit` (default 50, at most 500) and `offset`; the answer's `X-Next-Offset` header names the next page."""

    def __init__(self, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0) -> None:
        self.limit = limit
        self.offset = offset

    def apply(self, query: sa.Select) -> sa.Select:
        return query.limit(self.limit + 1).offset(self.offset)  # one more than asked: is there a next page?

    def cut(self, rows: list[Any], response: Response) -> list[Any]:
        if len(rows) > self.limit:
            response.headers["X-Next-Offset"] = str(self.offset + self.limit)
            return rows[:self.limit]
        return rows
