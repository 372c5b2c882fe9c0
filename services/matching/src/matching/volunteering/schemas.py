"""Request bodies of the lifecycle's routes: validated here, so a bad field answers 422 naming it."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from matching.entrypoints.schemas import VettingIn, VolunteerProfileIn
from matching.volunteering.lifecycle import InterviewOutcome, PauseReason, SupervisionKind

CourseCode = Field(pattern=r"^[a-z][a-z0-9_]{1,40}$", description="a course code, e.g. friend_basics")


class ApplicationIn(VolunteerProfileIn):
    """A volunteer's application: the profile they offer and the roles they apply for. A volunteer applying
    themself is their token's `sub` (`account` may be left out); a coordinator may name the account."""


class InterviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    held_on: date
    outcome: InterviewOutcome


class ConfidentialityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    signed_on: date


class TrainingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    course: str = CourseCode
    completed_on: date
    expires_on: date | None = Field(default=None, description="when the course must be taken again; none: never")


class SupervisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    held_on: date
    kind: SupervisionKind
    attendees: list[UUID] = Field(min_length=1, max_length=200, description="the volunteers who attended")


class PauseIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    starts_on: date = Field(alias="from", description="the first day of the pause")
    until: date | None = Field(default=None, description="the last day of the pause; none: until resumed")
    reason: PauseReason = PauseReason.other


__all__ = ["ApplicationIn", "ConfidentialityIn", "InterviewIn", "PauseIn", "SupervisionIn", "TrainingIn", "VettingIn"]
