"""The lifecycle's use cases: one function per step, each in the caller's unit of work (one transaction).

Every step is stored with its date and who recorded it (the token's `sub`). A step that changes whether
the volunteer is trained announces it with `VolunteerRegistered` (the event the partnership already reads);
the other steps stay here: no other service needs them, and vetting and pauses are the volunteer's own
affairs (see the README's events table).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Iterable
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from brobygger_contracts.events.matching import VolunteerRegistered
from brobygger_runtime.retention import months_before
from brobygger_runtime.unit_of_work import UnitOfWork
from matching.adapters import repository as repo
from matching.adapters.tables import friendships, proposals, volunteers
from matching.domain.registry import Volunteer
from matching.service_layer import decisions, registry
from matching.service_layer.errors import NotFound, Refused
from matching.volunteering import store
from matching.friendships.figures import friendship_figures
from matching.volunteering.report import VolunteerReport, summarise
from matching.volunteering.lifecycle import (
    InterviewOutcome, LifecycleRules, PauseReason, SupervisionKind, VettingKind, VolunteerRecord, course_valid,
)


def today() -> date:
    return datetime.now(UTC).date()


@dataclass(frozen=True)
class VettingSeen:
    kind: VettingKind
    seen_on: date
    expires_on: date | None = None
    """None: seen_on + VETTING_VALID_MONTHS."""


class InvalidStep(Refused):
    """The step's own data does not hold together (a date in the future, an expiry before the start): 422."""


def _not_after_today(day: date, what: str) -> None:
    if day > today():
        raise InvalidStep(f"{what} {day.isoformat()} is in the future")


async def _volunteer(uow: UnitOfWork, volunteer_id: UUID) -> Volunteer:
    found = await repo.volunteer(uow.session, volunteer_id, lock=True)
    if found is None or found.org != uow.runtime.settings.org_id:
        raise NotFound(f"no volunteer {volunteer_id}")
    return found


async def _account_free(uow: UnitOfWork, account: str | None, volunteer_id: UUID) -> None:
    if account is None:
        return
    holder = await uow.session.scalar(sa.select(volunteers.c.volunteer_id).where(volunteers.c.account == account))
    if holder is not None and holder != str(volunteer_id):
        raise Refused(f"the account {account} already belongs to another volunteer")


def trained_for_roles(record: VolunteerRecord, on: date, rules: LifecycleRules) -> bool:
    """Every course one of the volunteer's roles requires is done and valid: what `VolunteerRegistered.trained` says."""
    return any(all(course_valid(record, c, on) for c in rules.courses_for(role)) for role in record.roles)


async def apply(uow: UnitOfWork, volunteer: Volunteer, by: str) -> VolunteerRegistered:
    """A volunteer applies (themself, or a coordinator for them): stored as `applied`, proposed to nobody yet."""
    if await repo.volunteer(uow.session, volunteer.volunteer_id) is not None:
        raise Refused(f"volunteer {volunteer.volunteer_id} exists already")
    await _account_free(uow, volunteer.account, volunteer.volunteer_id)
    now = datetime.now(UTC)
    volunteer = dataclasses.replace(volunteer, trained=False, retirement=None)
    await repo.save_volunteer(uow.session, volunteer, now)
    await store.record_step(uow.session, volunteer.volunteer_id, "applied", now.date(), by, now)
    event = registry.announcement(volunteer, now)
    await uow.publish(event)
    return event


async def register_directly(uow: UnitOfWork, volunteer: Volunteer, by: str, rules: LifecycleRules,
                            vetting: VettingSeen | None = None, signed_on: date | None = None) -> VolunteerRegistered:
    """`POST /volunteers`: a coordinator registers (or updates) a volunteer recruited already. The registration
    counts as their approval; `trained` true records the courses their roles require as completed today; a
    vetting and the confidentiality agreement may be recorded in the same call. Without a vetting and a signed
    agreement (now or later) the volunteer is not proposed."""
    await _account_free(uow, volunteer.account, volunteer.volunteer_id)
    if vetting is not None:
        _check_vetting(vetting)
    if signed_on is not None:
        _not_after_today(signed_on, "signed_on")
    event = await registry.register_volunteer(uow, volunteer)
    now, session, key = datetime.now(UTC), uow.session, volunteer.volunteer_id
    found = await store.record_of(session, key)
    record = found[1] if found else VolunteerRecord(key)
    if record.registered_on is None:
        await store.record_step(session, key, "registered", now.date(), by, now)
    if volunteer.trained:
        for course in rules.courses_for_roles(record.roles):
            if not course_valid(record, course, now.date()):
                await store.record_step(session, key, "training", now.date(), by, now, code=course)
    if vetting is not None:
        await _record_vetting(uow, key, vetting, by, rules, now)
    if signed_on is not None and record.confidentiality_signed_on is None:
        await store.record_step(session, key, "confidentiality", signed_on, by, now)
    return event


async def interview(uow: UnitOfWork, volunteer_id: UUID, held_on: date, outcome: InterviewOutcome, by: str) -> None:
    _not_after_today(held_on, "held_on")
    await _volunteer(uow, volunteer_id)
    now = datetime.now(UTC)
    await store.record_step(uow.session, volunteer_id, "interview", held_on, by, now, code=outcome.value)


def _check_vetting(vetting: VettingSeen) -> None:
    _not_after_today(vetting.seen_on, "seen_on")
    if vetting.expires_on is not None and vetting.expires_on <= vetting.seen_on:
        raise InvalidStep("expires_on must come after seen_on")


async def _record_vetting(uow: UnitOfWork, volunteer_id: UUID, vetting: VettingSeen, by: str, rules: LifecycleRules,
                          now: datetime) -> date:
    expires_on = vetting.expires_on or months_before(vetting.seen_on, -rules.vetting_valid_months)
    await store.record_step(uow.session, volunteer_id, "vetting", vetting.seen_on, by, now, valid_until=expires_on,
                            code=vetting.kind.value)
    return expires_on


async def vet(uow: UnitOfWork, volunteer_id: UUID, vetting: VettingSeen, by: str, rules: LifecycleRules) -> date:
    """That an extract was seen (kind and dates only, never the document); returns when it stops counting."""
    _check_vetting(vetting)
    await _volunteer(uow, volunteer_id)
    return await _record_vetting(uow, volunteer_id, vetting, by, rules, datetime.now(UTC))


async def sign_confidentiality(uow: UnitOfWork, volunteer_id: UUID, signed_on: date, by: str) -> None:
    _not_after_today(signed_on, "signed_on")
    await _volunteer(uow, volunteer_id)
    await store.record_step(uow.session, volunteer_id, "confidentiality", signed_on, by, datetime.now(UTC))


async def complete_training(uow: UnitOfWork, volunteer_id: UUID, course: str, completed_on: date,
                            expires_on: date | None, by: str, rules: LifecycleRules) -> bool:
    """A course completed; when that makes the volunteer trained for a role, `VolunteerRegistered` says so.
    Returns whether the volunteer is trained for one of their roles now."""
    _not_after_today(completed_on, "completed_on")
    if expires_on is not None and expires_on <= completed_on:
        raise InvalidStep("expires_on must come after completed_on")
    volunteer = await _volunteer(uow, volunteer_id)
    now = datetime.now(UTC)
    await store.record_step(uow.session, volunteer_id, "training", completed_on, by, now, valid_until=expires_on,
                            code=course)
    _row, record = await store.record_of(uow.session, volunteer_id)
    trained = trained_for_roles(record, now.date(), rules)
    if trained != volunteer.trained:
        await uow.session.execute(volunteers.update().where(volunteers.c.volunteer_id == str(volunteer_id))
                                  .values(trained=trained))
        await uow.publish(registry.announcement(dataclasses.replace(volunteer, trained=trained), now))
    return trained


async def supervise(uow: UnitOfWork, held_on: date, kind: SupervisionKind, attendees: Iterable[UUID], by: str) -> UUID:
    """A supervision session (group or individual) and who attended; only this organisation's volunteers."""
    _not_after_today(held_on, "held_on")
    attendees = list(dict.fromkeys(attendees))
    org = uow.runtime.settings.org_id
    unknown = set(attendees) - await store.volunteers_of(uow.session, org, attendees)
    if unknown:
        raise NotFound(f"no volunteers {sorted(str(u) for u in unknown)} of {org}")
    return await store.record_supervision(uow.session, org, held_on, kind.value, attendees, by, datetime.now(UTC))


async def pause(uow: UnitOfWork, volunteer_id: UUID, starts_on: date, until: date | None, reason: PauseReason,
                by: str) -> None:
    """A pause (holiday, illness): while today falls within it the volunteer is proposed to nobody; friendships
    already accepted go on (the volunteer tells their friend). A pause that has begun also lets go of the
    citizens still waiting on them (proposed, or asked and not yet answered): each is withdrawn with
    `MatchDeclined` (`candidate_unavailable`) and proposed the next best candidate, rather than waiting weeks."""
    if until is not None and until < starts_on:
        raise InvalidStep("until must not come before from")
    await _volunteer(uow, volunteer_id)
    await store.record_step(uow.session, volunteer_id, "pause", starts_on, by, datetime.now(UTC), valid_until=until,
                            code=reason.value)
    if starts_on <= today() and (until is None or until >= today()):
        await repo.serialise_proposals(uow.session)
        for proposal_id in await repo.holding(uow.session, volunteer_id, ("proposed", "awaiting_volunteer")):
            await decisions.candidate_unavailable(uow, proposal_id)


async def resume(uow: UnitOfWork, volunteer_id: UUID, by: str) -> bool:
    """The volunteer is back today: every pause not over yet ends yesterday (a planned one is cancelled).
    Returns whether there was a pause to end."""
    await _volunteer(uow, volunteer_id)
    _row, record = await store.record_of(uow.session, volunteer_id)
    on = today()
    pending = [p for p in record.pauses if p.ends_on is None or p.ends_on >= on]
    if not pending:
        return False
    await store.record_step(uow.session, volunteer_id, "resume", on, by, datetime.now(UTC))
    return True


async def volunteer_of_account(session: AsyncSession, account: str) -> UUID | None:
    """The volunteer whose own login `account` is (the token's sub)."""
    found = await session.scalar(sa.select(volunteers.c.volunteer_id).where(volunteers.c.account == account))
    return None if found is None else UUID(found)



# -- reading ------------------------------------------------------------------------------------------

async def organisation_records(session: AsyncSession, org: str) -> list[VolunteerRecord]:
    ours = volunteers.c.org == org
    rows = list((await session.execute(sa.select(volunteers).where(ours)
                                       .order_by(volunteers.c.registered_at, volunteers.c.volunteer_id))).all())
    found = await store.records(session, rows, ours)
    return [found[UUID(r.volunteer_id)] for r in rows]


async def first_matches(session: AsyncSession, org: str) -> dict[UUID, date]:
    """The day of each volunteer's first match: the start of their first friendship (the day the volunteer said
    yes). Matches accepted before friendships were kept have no friendship row; for those the proposal's decision
    time stands in (an ended one keeps only its end's time, so that day can be later than the acceptance)."""
    started = (sa.select(friendships.c.volunteer_id, sa.func.min(friendships.c.started_at))
               .join(volunteers, volunteers.c.volunteer_id == friendships.c.volunteer_id)
               .where(volunteers.c.org == org).group_by(friendships.c.volunteer_id))
    first = {UUID(v): at.date() for v, at in (await session.execute(started)).all()}
    decided = (sa.select(proposals.c.candidate_id, sa.func.min(proposals.c.decided_at))
               .join(volunteers, volunteers.c.volunteer_id == proposals.c.candidate_id)
               .where(volunteers.c.org == org, proposals.c.kind == "volunteer_friend",
                      proposals.c.status.in_(("accepted", "ended")), proposals.c.decided_at.is_not(None))
               .group_by(proposals.c.candidate_id))
    for volunteer_id, at in (await session.execute(decided)).all():
        first.setdefault(UUID(volunteer_id), at.date())
    return first


async def report(session: AsyncSession, org: str, rules: LifecycleRules) -> tuple[VolunteerReport, dict]:
    records = await organisation_records(session, org)
    summary = summarise(records, await first_matches(session, org), today(), rules)
    return summary, await friendship_figures(session, org, datetime.now(UTC))
