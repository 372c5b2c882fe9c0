"""Registering volunteers and publishing activities: stored, then announced through the outbox."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from brobygger_contracts.events.matching import ActivityPublished, VolunteerRegistered
from brobygger_runtime.unit_of_work import UnitOfWork
from matching.adapters import repository as repo
from matching.adapters.tables import activities, volunteers
from matching.domain.registry import Activity, Volunteer


async def register_volunteer(uow: UnitOfWork, volunteer: Volunteer) -> VolunteerRegistered:
    now = datetime.now(UTC)
    await repo.upsert(uow.session, volunteers, "volunteer_id", {
        "volunteer_id": str(volunteer.volunteer_id), "org": volunteer.org, "interests": list(volunteer.interests),
        "languages": list(volunteer.languages), "postal_code": volunteer.postal_code,
        "latitude": volunteer.latitude, "longitude": volunteer.longitude, "max_travel_km": volunteer.max_travel_km,
        "capacity": volunteer.capacity, "trained": volunteer.trained,
        "availability": repo.slots_json(volunteer.availability), "traits": dataclasses.asdict(volunteer.traits),
        "registered_at": now,
    })
    event = VolunteerRegistered(
        volunteer_id=volunteer.volunteer_id, org=volunteer.org, interests=list(volunteer.interests),
        languages=list(volunteer.languages), postal_code=volunteer.postal_code, max_travel_km=volunteer.max_travel_km,
        capacity=volunteer.capacity, trained=volunteer.trained, availability=repo.slots_json(volunteer.availability),
        registered_at=now,
    )
    await uow.publish(event)
    return event


async def publish_activity(uow: UnitOfWork, activity: Activity) -> ActivityPublished:
    now = datetime.now(UTC)
    await repo.upsert(uow.session, activities, "activity_id", {
        "activity_id": str(activity.activity_id), "org": activity.org, "name": activity.name,
        "interests": list(activity.interests), "languages": list(activity.languages),
        "postal_code": activity.postal_code, "address": activity.address, "latitude": activity.latitude,
        "longitude": activity.longitude, "schedule": repo.slots_json(activity.schedule), "seats": activity.seats,
        "cost_dkk": activity.cost_dkk, "step_free": activity.step_free,
        "accompaniment_welcome": activity.accompaniment_welcome, "practice_community": activity.practice_community,
        "published_at": now,
    })
    event = ActivityPublished(
        activity_id=activity.activity_id, org=activity.org, name=activity.name, interests=list(activity.interests),
        postal_code=activity.postal_code, latitude=activity.latitude, longitude=activity.longitude,
        schedule=repo.slots_json(activity.schedule), seats=activity.seats, step_free=activity.step_free,
        accompaniment_welcome=activity.accompaniment_welcome, practice_community=activity.practice_community,
        published_at=now,
    )
    await uow.publish(event)
    return event
