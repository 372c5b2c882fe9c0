"""Request bodies of matching's API: validated here, so a bad field answers 422 naming it."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from brobygger_runtime.text import line
from brobygger_contracts.events.matching import DeclineReason
from brobygger_contracts.types import DayPart, Language, OrgId, PostalCode, Weekday
from brobygger_contracts.interests import InterestWords
from matching.domain.model import Preferences, Slot, Traits
from matching.domain.registry import Activity, RetireReason, Volunteer
from matching.volunteering.lifecycle import VettingKind, VolunteerRole


Gender = Literal["female", "male", "other"]
AgeBand = Annotated[str, Field(pattern=r"^[0-9]{2}-[0-9]{2}$|^[0-9]{2}\+$")]


class TimeSlotIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    day: Weekday
    part: DayPart

    def slot(self) -> Slot:
        return Slot(self.day.value, self.part.value)


class VolunteerProfileIn(BaseModel):
    """What a volunteer friend offers: interests, languages, area, reach, capacity, times, traits, roles."""

    model_config = ConfigDict(extra="forbid")
    volunteer_id: UUID | None = None
    interests: InterestWords
    languages: list[Language] = Field(min_length=1)
    postal_code: PostalCode
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    max_travel_km: float = Field(default=10.0, ge=0, le=200)
    capacity: int = Field(default=1, ge=0, le=20)
    availability: list[TimeSlotIn] = []
    gender: Gender | None = None
    age_band: AgeBand | None = None
    smokes: bool | None = None
    has_pets: bool | None = None
    roles: list[VolunteerRole] = Field(default=[VolunteerRole.volunteer_friend], min_length=1, description=(
        "volunteer_friend: meets in person, within reach; phone_friend (ringvän): by phone or video, distance "
        "does not apply"))
    account: line(200) | None = Field(default=None, description=(  # type: ignore[valid-type]
        "the volunteer's own login (their token's sub), so they can see their record and pause themself"))

    def to_domain(self, org: str, volunteer_id: UUID, trained: bool = False) -> Volunteer:
        return Volunteer(
            volunteer_id=volunteer_id, org=org, interests=tuple(self.interests), languages=tuple(self.languages),
            postal_code=self.postal_code, max_travel_km=self.max_travel_km, capacity=self.capacity,
            trained=trained, availability=frozenset(s.slot() for s in self.availability),
            latitude=self.latitude, longitude=self.longitude,
            traits=Traits(gender=self.gender, age_band=self.age_band, smokes=self.smokes, has_pets=self.has_pets),
            roles=tuple(sorted({r.value for r in self.roles})), account=self.account,
        )


class VettingIn(BaseModel):
    """That a criminal-record extract was seen: kind and dates only, never the document."""

    model_config = ConfigDict(extra="forbid")
    kind: VettingKind = Field(description="criminal_record_extract (DK straffeattest / børneattest) or "
                              "belastningsregister (SE)")
    seen_on: date
    expires_on: date | None = Field(default=None, description="default: seen_on + VETTING_VALID_MONTHS")


class VolunteerIn(VolunteerProfileIn):
    """A volunteer friend of this organisation registered directly by a coordinator; registering the same id
    again updates the profile. The registration counts as approval."""

    trained: bool = Field(description="true records the courses the volunteer's roles require as completed today")
    vetting: VettingIn | None = Field(default=None, description="record a vetting in the same call")
    confidentiality_signed_on: date | None = Field(default=None, description="record the signed agreement")

    def to_domain(self, org: str, volunteer_id: UUID, trained: bool | None = None) -> Volunteer:
        return super().to_domain(org, volunteer_id, self.trained if trained is None else trained)


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
