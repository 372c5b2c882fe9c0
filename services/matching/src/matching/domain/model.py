"""Who is matched with what: the citizen's profile and the candidates on offer."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from uuid import UUID

from matching.domain.geo import Point

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PARTS = ("morning", "afternoon", "evening")
DAY_NAMES = {
    "mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday",
    "fri": "Friday", "sat": "Saturday", "sun": "Sunday",
}


@dataclass(frozen=True, order=True)
class Slot:
    """A part of a weekday: when someone is free or an activity meets."""

    day: str
    part: str

    def __post_init__(self) -> None:
        if self.day not in DAYS or self.part not in PARTS:
            raise ValueError(f"no such time slot: {self.day} {self.part}")

    @property
    def index(self) -> int:
        return DAYS.index(self.day) * len(PARTS) + PARTS.index(self.part)

    def describe(self) -> str:
        return f"{DAY_NAMES[self.day]} {self.part}s"


SLOT_COUNT = len(DAYS) * len(PARTS)


class Kind(str, Enum):
    volunteer_friend = "volunteer_friend"
    activity = "activity"


class Wish(str, Enum):
    friend = "friend"
    activity = "activity"
    group = "group"
    phone_friend = "phone_friend"
    """A volunteer friend by phone or video (ringvän): distance does not matter."""


FRIEND_WISHES = frozenset({Wish.friend, Wish.phone_friend})


GENDERS = ("female", "male", "other")


@dataclass(frozen=True)
class Traits:
    """What a volunteer tells about themself, for the preferences a citizen may state."""

    gender: str | None = None
    age_band: str | None = None
    smokes: bool | None = None
    has_pets: bool | None = None


@dataclass(frozen=True)
class Preferences:
    """What the citizen would like in a volunteer friend; each is optional and only soft."""

    gender: str | None = None
    non_smoker: bool = False
    no_pets: bool = False
    similar_age: bool = False

    @property
    def stated(self) -> int:
        return (self.gender is not None) + self.non_smoker + self.no_pets + self.similar_age


@dataclass(frozen=True)
class CitizenProfile:
    """What matching knows of a citizen after clarification; pseudonymous."""

    citizen_id: UUID
    consented_orgs: frozenset[str]
    interests: frozenset[str]
    languages: frozenset[str]
    postal_code: str
    location: Point | None
    wishes: frozenset[Wish] = frozenset({Wish.friend, Wish.activity})
    barriers: frozenset[str] = frozenset()
    max_travel_km: float = 5.0
    needs_step_free: bool = False
    wants_accompaniment: bool = False
    availability: frozenset[Slot] = frozenset()
    age_band: str | None = None
    preferences: Preferences = Preferences()

    @property
    def wants_friend(self) -> bool:
        """A volunteer friend of either kind: in person or by phone."""
        return bool(self.wishes & FRIEND_WISHES)

    @property
    def wants_phone_friend(self) -> bool:
        return Wish.phone_friend in self.wishes

    @property
    def wants_friend_in_person(self) -> bool:
        """In person unless only a phone friend was wished (a citizen who named no friend is judged in person)."""
        return Wish.friend in self.wishes or not self.wants_phone_friend


@dataclass(frozen=True)
class Candidate:
    """A volunteer friend or an activity that could be proposed."""

    candidate_id: UUID
    kind: Kind
    org: str
    interests: frozenset[str]
    languages: frozenset[str]
    """Languages spoken; empty for an activity that did not state them (no constraint)."""
    location: Point | None
    travel_km: float = 0.0
    """How far the candidate comes to the citizen: a volunteer's max travel, 0 for activities."""
    capacity_left: int | None = None
    """Friends or seats still free; None when there is no limit."""
    trained: bool = True
    step_free: bool = True
    accompaniment_welcome: bool = True
    practice_community: bool = False
    availability: frozenset[Slot] = field(default_factory=frozenset)
    """A volunteer's free slots or an activity's schedule."""
    name: str | None = None
    cost_dkk: float | None = None
    """What taking part costs; None or 0 is free (a volunteer friend always is)."""
    reduced_cost_dkk: float | None = None
    """A subsidised price for those who cannot pay the full one (0: subsidised in full); None when there is none."""
    hearing_loop: bool = False
    interpreter_available: bool = False
    """An interpreter can be arranged, so a citizen who speaks none of its languages can still take part."""
    traits: Traits | None = None
    """A volunteer's traits; None for activities, where a citizen's preferences do not apply."""
    meets_in_person: bool = True
    """A volunteer ready for the in-person role (volunteer_friend); an activity always meets in person."""
    meets_by_phone: bool = False
    """A volunteer ready for the phone role (phone_friend, ringvän): distance does not apply."""
