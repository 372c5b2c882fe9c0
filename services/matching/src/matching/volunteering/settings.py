"""Settings of the volunteer lifecycle, mixed into matching's settings (same environment variables)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings

from matching.volunteering.lifecycle import DEFAULT_REQUIRED_COURSES, LifecycleRules, VolunteerRole


class VolunteeringSettings(BaseSettings):
    vetting_valid_months: int = Field(
        default=24, ge=1, le=120,
        description="a criminal-record extract (or belastningsregister extract) counts this many months after it "
        "was seen, unless the coordinator records another expiry",
    )
    role_required_courses: dict[VolunteerRole, list[str]] = Field(
        default_factory=lambda: {role: list(courses) for role, courses in DEFAULT_REQUIRED_COURSES.items()},
        description='JSON: the course codes each role requires, e.g. {"volunteer_friend": ["friend_basics"]}',
    )
    supervision_max_days: int = Field(
        default=90, ge=1, le=3650,
        description="a ready volunteer with no supervision attended for this many days is flagged to the coordinator",
    )

    def lifecycle_rules(self) -> LifecycleRules:
        return LifecycleRules(
            vetting_valid_months=self.vetting_valid_months,
            required_courses={role: tuple(courses) for role, courses in self.role_required_courses.items()},
            supervision_max_days=self.supervision_max_days,
        )


def rules_of(settings: object) -> LifecycleRules:
    """The rules of a running instance (the defaults when its settings carry none, e.g. a bare test runtime)."""
    if isinstance(settings, VolunteeringSettings):
        return settings.lifecycle_rules()
    return LifecycleRules()
