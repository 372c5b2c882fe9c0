"""What the guide learns at the home visit, checked before it goes to matching."""

from __future__ import annotations

import re
from dataclasses import dataclass

from journey.domain.errors import InvalidClarification

INTEREST_CODE = re.compile(r"^[a-z][a-z_]+$")
LANGUAGE = re.compile(r"^[a-z]{2}$")
POSTAL_CODE = re.compile(r"^[0-9]{3,5}$")
WISHES = frozenset({"friend", "activity", "group", "phone_friend"})  # phone_friend: a ringvän, by phone or video


@dataclass(frozen=True)
class Ucla:
    """The three-item UCLA loneliness scale: each answer 1 (hardly ever) to 3 (often)."""

    lack_companionship: int
    left_out: int
    isolated: int

    def __post_init__(self) -> None:
        for name in ("lack_companionship", "left_out", "isolated"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 3:
                raise InvalidClarification(f"ucla.{name}", f"must be 1, 2 or 3, got {value!r}")

    @property
    def total(self) -> int:
        return self.lack_companionship + self.left_out + self.isolated

    def as_dict(self) -> dict[str, int]:
        return {"lack_companionship": self.lack_companionship, "left_out": self.left_out, "isolated": self.isolated}


@dataclass(frozen=True)
class Slot:
    day: str
    part: str


@dataclass(frozen=True)
class Clarification:
    interests: tuple[str, ...]
    languages: tuple[str, ...]
    postal_code: str
    wishes: tuple[str, ...]
    barriers: tuple[str, ...] = ()
    wants_accompaniment: bool = False
    max_travel_km: float = 5.0
    needs_step_free: bool = False
    availability: tuple[Slot, ...] = ()
    baseline: Ucla | None = None
    relatives_involved: bool = False

    def __post_init__(self) -> None:
        if not self.interests:
            raise InvalidClarification("interests", "name at least one interest")
        for code in self.interests:
            if not INTEREST_CODE.match(code) or len(code) > 41:
                raise InvalidClarification("interests", f"{code!r} is not a canonical interest code (lower-case letters and _)")
        if not self.languages:
            raise InvalidClarification("languages", "name at least one language")
        for language in self.languages:
            if not LANGUAGE.match(language):
                raise InvalidClarification("languages", f"{language!r} is not a two-letter language code")
        if not POSTAL_CODE.match(self.postal_code):
            raise InvalidClarification("postal_code", f"{self.postal_code!r} is not a postal code")
        if not self.wishes:
            raise InvalidClarification("wishes", "choose at least one of friend, phone_friend, activity, group")
        unknown = set(self.wishes) - WISHES
        if unknown:
            raise InvalidClarification("wishes", f"unknown wishes {sorted(unknown)}")
        if not 0 <= self.max_travel_km <= 200:
            raise InvalidClarification("max_travel_km", "must be between 0 and 200")
