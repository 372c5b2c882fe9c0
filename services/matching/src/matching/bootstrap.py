"""Composition root of the matching service."""

from __future__ import annotations

from typing import Literal

from fastapi import FastAPI
from pydantic import Field

from brobygger_runtime.service import ServiceRuntime
from brobygger_runtime.settings import ServiceSettings
from brobygger_runtime import retention
from matching.adapters.personal_data import personal_data
from matching.service_layer.citizens import forget_ended_journeys
from matching.adapters.tables import metadata
from matching.entrypoints import api, kafka, schedule
from matching.volunteering.settings import VolunteeringSettings


class Settings(ServiceSettings, VolunteeringSettings):
    service_name: str = "matching"
    http_port: int = 8002
    reasons_language: Literal["en", "da", "sv"] = Field(
        default="en", description="the language of the reasons written into proposals"
    )
    assignment_interval_seconds: float = Field(
        default=300, ge=0,
        description="run the batch assignment of volunteer friends this often; 0 = only on demand and on clarifications",
    )
    matching_orgs: str = Field(
        default="",
        description="the partnership's organisations that run matching, comma-separated, in the partnership's order: "
        "a citizen's new groups are proposed only by the first of them their consent names (one group proposal per "
        "partnership); empty = this instance groups every citizen it knows (one matching instance)",
    )
    activity_options_shown: int = Field(
        default=3, ge=1, le=10, description="how many activities a citizen is shown at once to choose from",
    )
    volunteer_options_shown: int = Field(
        default=1, ge=1, le=10,
        description="how many volunteer friends a citizen is shown at once: each one shown holds that volunteer's slot "
        "(and is asked), so by default one at a time from the batch assignment, the next after a decline",
    )
    import_max_bytes: int = Field(
        default=2_097_152, ge=1024,
        description="the largest CSV body POST /activities/import accepts; larger ones are refused with 413 unread "
        "(every body is also under the runtime's HTTP_MAX_BODY_BYTES)",
    )
    volunteer_answer_hours: float = Field(
        default=72, gt=0, description="how long a volunteer has to answer a citizen's yes before it counts as no")
    friendship_check_in_days: float = Field(
        default=30, gt=0, description="after how many days both sides of a friendship are asked how it goes")
    meeting_notes_allowed: bool = Field(
        default=False, description="the organisation's policy: may a volunteer add a short note to a logged meeting")
    friendship_check_seconds: float = Field(
        default=60, ge=0, description="how often unanswered questions and due check-ins are looked for; 0 = never")


def build(settings: Settings | None = None) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or Settings()
    runtime = ServiceRuntime(settings, metadata, service_package="matching")
    kafka.register(runtime)
    runtime.provides_personal_data(personal_data)
    app = runtime.http_app(
        "Brobygger matching",
        routers=[api.router],
        description="Volunteer friends, activities and new groups, proposed with reasons; the citizen chooses.",
    )
    schedule.schedule_assignments(runtime, settings.assignment_interval_seconds)
    schedule.schedule_friendship_checks(runtime, settings.friendship_check_seconds)
    runtime.retention = retention.install(runtime, forget_ended_journeys)
    return runtime, app


def create_app() -> FastAPI:
    return build()[1]
