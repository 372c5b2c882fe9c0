"""Request bodies of matching's API: validated here, so a bad field answers 422 naming it."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from brobygger_runtime.text import line
from brobygger_contracts.events.matching import DeclineReason
from brobygger_contracts.types import DayPart, Language, OrgId, PostalCode, Weekday
from brobygger_contracts.interests import InterestWords
from matching.domain.model import Preferences, Slot, Traits
from matching.domain.registry import Activity, RetireReason, Volunteer


Gender = Literal["female", "male", "other"]
AgeBand = Annotated[str, Field(pattern=r"^[0-9]{2}-[0-9]{2}$|^[0-9]{2}\+$")]


class TimeSlotIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    day: Weekday
    part: DayPart

    def slot(self) -> Slot:
        return Slot(self.day.value, self.part.value)


class VolunteerIn(BaseModel):
    """A volunteer friend of this organisation; registering the same id again updates the profile."""

    model_config = ConfigDict(extra="forbid")
    volunteer_id: UUID | None = None
    interests: InterestWords
    languages: list[Language] = Field(min_length=1)
    postal_code: PostalCode
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    max_travel_km: float = Field(default=10.0, ge=0, le=200)
    capacity: int = Field(default=1, ge=0, le=20)
    trained: bool = Field(description="completed training; only trained volunteers are proposed")
    availability: list[TimeSlotIn] = []
    gender: Gender | None = None
    age_band: AgeBand | None = None
    smokes: bool | None = None
    has_pets: bool | None = None

    def to_domain(self, org: str, volunteer_id: UUID) -> Volunteer:
        return Volunteer(
            volunteer_id=volunteer_id, org=org, interests=tuple(self.interests), languages=tuple(self.languages),
            postal_code=self.postal_code, max_travel_km=self.max_travel_km, capacity=self.capacity,
            trained=self.trained, availability=frozenset(s.slot() for s in self.availability),
            latitude=self.latitude, longitude=self.longitude,
            traits=Traits(gender=self.gender, age_band=self.age_band, smokes=self.smokes, has_pets=self.has_pets),
        )


class ActivityIn(BaseModel):
    """An activity or group in the catalogue; publishing the same id again updates it."""

    model_config = ConfigDict(extra="forbid")
    activity_id: UUID | None = None
    org: OrgId | None = Field(default=None, description="the owner organisation; defaults to this instance's")
    name: line(200)  # type: ignore[valid-type]
    interests: InterestWords
    languages: list[Language] = []
    postal_code: PostalCode
    address: line(200) | None = None  # type: ignore[valid-type]
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    schedule: list[TimeSlotIn] = []
    seats: int | None = Field(default=None, ge=0, description="seats; empty when there is no limit")
    cost_dkk: float | None = Field(default=None, ge=0, description="the price; empty or 0 is free")
    reduced_cost_dkk: float | None = Field(default=None, ge=0, description="a subsidised price for those who cannot "
                                           "pay the full one (0: free for them); empty when there is none")
    step_free: bool = False
    accompaniment_welcome: bool = True
    practice_community: bool = False
    hearing_loop: bool = False
    interpreter_available: bool = Field(default=False, description="an interpreter can be arranged: a citizen "
                                        "who speaks none of `languages` may still be proposed it")

    def to_domain(self, org: str, activity_id: UUID) -> Activity:
        return Activity(
            activity_id=activity_id, org=self.org or org, name=self.name, interests=tuple(self.interests),
            postal_code=self.postal_code, languages=tuple(self.languages), address=self.address,
            latitude=self.latitude, longitude=self.longitude, schedule=frozenset(s.slot() for s in self.schedule),
            seats=self.seats, cost_dkk=self.cost_dkk, reduced_cost_dkk=self.reduced_cost_dkk, step_free=self.step_free,
            accompaniment_welcome=self.accompaniment_welcome, practice_community=self.practice_community,
            hearing_loop=self.hearing_loop, interpreter_available=self.interpreter_available,
        )


class DeclineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: DeclineReason = DeclineReason.other


class RetireIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: RetireReason = Field(default=RetireReason.other, description="why the volunteer stops, as a code")


class PreferencesIn(BaseModel):
    """What the citizen would like in a volunteer friend; ranks candidates, never excludes them."""

    model_config = ConfigDict(extra="forbid")
    gender: Gender | None = None
    non_smoker: bool = False
    no_pets: bool = False
    similar_age: bool = False

    def to_domain(self) -> Preferences:
        return Preferences(gender=self.gender, non_smoker=self.non_smoker, no_pets=self.no_pets, similar_age=self.similar_age)
