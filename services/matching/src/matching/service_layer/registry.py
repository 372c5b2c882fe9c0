"""Registering volunteers and publishing activities: stored, then announced through the outbox."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

from brobygger_contracts.events.matching import ActivityPublished, MatchDeclined, MatchProposed, VolunteerRegistered
from brobygger_runtime.unit_of_work import UnitOfWork
from matching.adapters import repository as repo
from matching.adapters.tables import activities
from matching.domain.registry import Activity, RetireReason, Retirement, Volunteer
from matching.service_layer import decisions
from matching.service_layer.errors import NotFound
from matching.volunteering import store as volunteer_store


def announcement(volunteer: Volunteer, at: datetime) -> VolunteerRegistered:
    # Only that they exist and how many friends they can take: their traits stay in this registry.
    return VolunteerRegistered(
        volunteer_id=volunteer.volunteer_id, org=volunteer.org, capacity=volunteer.capacity,
        trained=volunteer.trained, registered_at=at, active=volunteer.active,
    )


async def register_volunteer(uow: UnitOfWork, volunteer: Volunteer) -> VolunteerRegistered:
    """Register or update a volunteer; a retired volunteer registered again is active again."""
    now = datetime.now(UTC)
    volunteer = dataclasses.replace(volunteer, retirement=None)
    await repo.save_volunteer(uow.session, volunteer, now)
    event = announcement(volunteer, now)
    await uow.publish(event)
    return event


@dataclass(frozen=True)
class Retired:
    volunteer: Volunteer
    already: bool
    """Retired before this call: nothing changed and nothing was published."""
    declined: list[MatchDeclined] = field(default_factory=list)
    """One per citizen let go: pending proposals withdrawn, accepted matches ended."""
    proposed: list[MatchProposed] = field(default_factory=list)
    """The next candidates proposed to those citizens."""


async def retire_volunteer(uow: UnitOfWork, volunteer_id: UUID, reason: RetireReason, by: str | None = None) -> Retired:
    """The volunteer stops: proposed to nobody any more, and the partnership is told (`VolunteerRegistered`, inactive).

    Every citizen with a pending or accepted proposal of theirs is let go with `MatchDeclined`
    (`candidate_unavailable`) and proposed the next best candidate, all in this transaction.
    Retiring again changes and publishes nothing.
    """
    session = uow.session
    await repo.serialise_proposals(session)  # no proposal to them can be made while they retire
    volunteer = await repo.volunteer(session, volunteer_id, lock=True)
    if volunteer is None:
        raise NotFound(f"no volunteer {volunteer_id}")
    if not volunteer.active:
        return Retired(volunteer, already=True)
    now = datetime.now(UTC)
    retirement = Retirement(now, reason)
    volunteer = dataclasses.replace(volunteer, retirement=retirement)
    await repo.retire_volunteer(session, volunteer_id, retirement)
    if by is not None:  # the lifecycle's log: who retired them, when and why
        await volunteer_store.record_step(session, volunteer_id, "retired", now.date(), by, now, code=reason.value)
    await uow.publish(announcement(volunteer, now))
    retired = Retired(volunteer, already=False)
    for proposal_id in await repo.holding(session, volunteer_id):
        declined, following = await decisions.candidate_unavailable(uow, proposal_id)
        retired.declined.append(declined)
        if following is not None:
            retired.proposed.append(following)
    return retired


async def publish_activity(uow: UnitOfWork, activity: Activity) -> ActivityPublished:
    now = datetime.now(UTC)
    await repo.upsert(uow.session, activities, "activity_id", {
        "activity_id": str(activity.activity_id), "org": activity.org, "name": activity.name,
        "interests": list(activity.interests), "languages": list(activity.languages),
        "postal_code": activity.postal_code, "address": activity.address, "latitude": activity.latitude,
        "longitude": activity.longitude, "schedule": repo.slots_json(activity.schedule), "seats": activity.seats,
        "cost_dkk": activity.cost_dkk, "reduced_cost_dkk": activity.reduced_cost_dkk, "step_free": activity.step_free,
        "accompaniment_welcome": activity.accompaniment_welcome, "practice_community": activity.practice_community,
        "hearing_loop": activity.hearing_loop, "interpreter_available": activity.interpreter_available,
        "published_at": now,
    })
    event = ActivityPublished(
        activity_id=activity.activity_id, org=activity.org, name=activity.name, interests=list(activity.interests),
        postal_code=activity.postal_code, latitude=activity.latitude, longitude=activity.longitude,
        schedule=repo.slots_json(activity.schedule), seats=activity.seats, step_free=activity.step_free,
        accompaniment_welcome=activity.accompaniment_welcome, practice_community=activity.practice_community,
        languages=list(activity.languages), interpreter_available=activity.interpreter_available,
        hearing_loop=activity.hearing_loop, cost_dkk=activity.cost_dkk, reduced_cost_dkk=activity.reduced_cost_dkk,
        published_at=now,
    )
    await uow.publish(event)
    return event
