"""Volunteers and activities as registered: the registries' own records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from uuid import UUID

from matching.domain.model import Slot, Traits


class RetireReason(str, Enum):
    """Why a volunteer stops, as a code (never free text)."""

    moved = "moved"
    no_time = "no_time"
    health = "health"
    other = "other"


@dataclass(frozen=True)
class Retirement:
    """The volunteer stopped: proposed to nobody any more, their citizens let go and matched anew."""

    at: datetime
    reason: RetireReason


@dataclass(frozen=True)
class Volunteer:
    volunteer_id: UUID
    org: str
    interests: tuple[str, ...]
    languages: tuple[str, ...]
    postal_code: str
    max_travel_km: float
    capacity: int
    trained: bool
    availability: frozenset[Slot] = frozenset()
    latitude: float | None = None
    longitude: float | None = None
    traits: Traits = Traits()
    """What the volunteer tells about themself (gender, age band, smoking, pets), for citizens' preferences."""
    retirement: Retirement | None = None
    """Set once the volunteer stopped; registering them again clears it."""
    roles: tuple[str, ...] = ("volunteer_friend",)
    """volunteer_friend (in person) and/or phone_friend (by phone or video)."""
    account: str | None = None
    """The volunteer's own login (the token's sub), when they have one; None leaves a stored one as it is."""

    @property
    def active(self) -> bool:
        return self.retirement is None


@dataclass(frozen=True)
class Activity:
    """An activity or group, after Open Referral HSDS: organisation, service, location, schedule."""

    activity_id: UUID
    org: str
    name: str
    interests: tuple[str, ...]
    postal_code: str
    languages: tuple[str, ...] = ()
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    schedule: frozenset[Slot] = frozenset()
    seats: int | None = None
    cost_dkk: float | None = None
    reduced_cost_dkk: float | None = None
    """A subsidised price for those who cannot pay the full one (0: subsidised in full)."""
    step_free: bool = False
    accompaniment_welcome: bool = True
    practice_community: bool = False
    hearing_loop: bool = False
    interpreter_available: bool = False
