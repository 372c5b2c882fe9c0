"""Value types shared by several events. Codes, not prose: events carry no free text."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

from pydantic import Field, StringConstraints, computed_field, model_validator

from brobygger_contracts.base import WireModel

OrgId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
"""An organisation's id within the partnership, e.g. `varde-kommune`, `red-cross`."""

PostalCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{3,5}$")]
"""A postal code (Danish 4 digits, Swedish 5 digits without the space)."""

Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]
"""An ISO 639-1 language code: `da`, `sv`, `en`, `ar`, ..."""

InterestCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{1,40}$")]
"""A canonical interest code from matching's taxonomy, e.g. `walking`, `baking`."""

StaffId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
"""A pseudonymous id of a guide, volunteer, facilitator or other staff member."""


class Barrier(str, Enum):
    """What stands between the citizen and a community (the seeds' list)."""

    transport = "transport"
    distance = "distance"
    health = "health"
    mobility = "mobility"
    money = "money"
    caring_for_spouse = "caring_for_spouse"
    hearing = "hearing"
    language = "language"
    anxiety = "anxiety"


class Weekday(str, Enum):
    mon = "mon"
    tue = "tue"
    wed = "wed"
    thu = "thu"
    fri = "fri"
    sat = "sat"
    sun = "sun"


class DayPart(str, Enum):
    morning = "morning"
    afternoon = "afternoon"
    evening = "evening"


class TimeSlot(WireModel):
    """A part of a weekday when someone is free or an activity meets."""

    day: Weekday
    """Day of the week."""
    part: DayPart
    """Morning (before 12), afternoon (12-17) or evening (after 17)."""


class UclaScore(WireModel):
    """The three-item UCLA loneliness scale; each answer 1 (hardly ever) to 3 (often)."""

    lack_companionship: int = Field(ge=1, le=3)
    """How often do you feel that you lack companionship?"""
    left_out: int = Field(ge=1, le=3)
    """How often do you feel left out?"""
    isolated: int = Field(ge=1, le=3)
    """How often do you feel isolated from others?"""

    @model_validator(mode="before")
    @classmethod
    def _accept_own_total(cls, data: Any) -> Any:
        """Take back the `total` that serialisation writes, if it is the sum of the answers.

        `total` is computed, so `model_dump_json` emits it; without this, the strict
        model refused its own output (`NeedsClarified.model_validate_json(e.model_dump_json())`
        failed whenever a UCLA score was present).
        """
        if not isinstance(data, dict) or "total" not in data:
            return data
        data = dict(data)
        total = data.pop("total")
        answers = [data.get(name) for name in ("lack_companionship", "left_out", "isolated")]
        if all(isinstance(a, int) for a in answers) and total != sum(answers):
            raise ValueError(f"total {total!r} is not the sum of the answers ({sum(answers)})")
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total(self) -> int:
        """Sum of the three answers, 3 (least lonely) to 9 (most lonely)."""
        return self.lack_companionship + self.left_out + self.isolated
