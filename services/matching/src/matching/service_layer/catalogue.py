"""One partnership catalogue: every matching instance keeps the activities its partners publish.

A partner's `ActivityPublished` comes from that partner's matching topic; the topic is the publisher's
identity (the runtime checks the envelope against it, DESIGN.md section 2), so the activity is catalogued
as that organisation's: consent must name it before the activity is proposed to anyone. An activity id
that another organisation (or this one) already publishes is refused: one publisher cannot overwrite
another's offer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from brobygger_runtime.unit_of_work import UnitOfWork
from matching.adapters import repository as repo
from matching.adapters.tables import activities
from matching.domain.registry import Activity
from matching.service_layer.errors import Refused


@dataclass(frozen=True)
class PartnerActivity:
    activity: Activity
    published_by: str
    """The organisation whose matching topic the activity came from: its owner in this catalogue."""
    published_at: datetime


async def catalogue_partner_activity(uow: UnitOfWork, entry: PartnerActivity) -> bool:
    """Keep (or update) a partner's activity; False for this instance's own events (its table is their source)."""
    if entry.published_by == uow.runtime.settings.org_id:
        return False
    activity = entry.activity
    key = str(activity.activity_id)
    holder = (await uow.session.execute(sa.select(activities.c.catalogued_from).where(
        activities.c.activity_id == key))).first()
    if holder is not None and holder.catalogued_from != entry.published_by:
        raise Refused(f"activity {key} is {holder.catalogued_from or uow.runtime.settings.org_id}'s, "
                      f"not {entry.published_by}'s to publish")
    await repo.upsert(uow.session, activities, "activity_id", {
        "activity_id": key, "org": entry.published_by, "name": activity.name,
        "interests": list(activity.interests), "languages": list(activity.languages),
        "postal_code": activity.postal_code, "address": None, "latitude": activity.latitude,
        "longitude": activity.longitude, "schedule": repo.slots_json(activity.schedule), "seats": activity.seats,
        "cost_dkk": activity.cost_dkk, "reduced_cost_dkk": activity.reduced_cost_dkk, "step_free": activity.step_free,
        "accompaniment_welcome": activity.accompaniment_welcome, "practice_community": activity.practice_community,
        "hearing_loop": activity.hearing_loop, "interpreter_available": activity.interpreter_available,
        "published_at": entry.published_at, "catalogued_from": entry.published_by,
    })
    return True
