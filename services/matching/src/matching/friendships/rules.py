"""Pure rules of two-sided consent and friendships: no database, no transport."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from matching.domain.model import CitizenProfile, Slot

MONTH_DAYS = 30.4375
"""An average month, for 'lasted 3, 6 and 12 months'."""
LASTED_MONTHS = (3, 6, 12)


class NotAllowed(ValueError):
    """A request the organisation's policy or the friendship's state refuses (HTTP 422 with the reason)."""


@dataclass(frozen=True)
class WhatTheVolunteerSees:
    """Enough to decide on, nothing that names or locates the citizen beyond the postal district."""

    postal_code: str | None
    age_band: str | None
    languages: list[str]
    shared_interests: list[str]
    shared_times: list[Slot]


def what_the_volunteer_sees(citizen: CitizenProfile | None, postal_code: str | None, age_band: str | None,
                            interests: list[str], languages: list[str], availability: frozenset[Slot]) -> WhatTheVolunteerSees:
    """The overlap of the citizen and the volunteer: common languages, shared interests and free times."""
    if citizen is None:
        return WhatTheVolunteerSees(postal_code, age_band, [], [], [])
    return WhatTheVolunteerSees(
        postal_code=citizen.postal_code or postal_code,
        age_band=age_band,
        languages=sorted(citizen.languages & set(languages)),
        shared_interests=sorted(citizen.interests & set(interests)),
        shared_times=sorted(citizen.availability & availability),
    )


def answer_due(asked_at: datetime, hours: float) -> datetime:
    return asked_at + timedelta(hours=hours)


def check_in_due(started_at: datetime, days: float) -> datetime:
    return started_at + timedelta(days=days)


def meeting_note(note: str | None, notes_allowed: bool) -> str | None:
    """A meeting's note is kept only where the organisation's policy allows notes at all."""
    if note is not None and not notes_allowed:
        raise NotAllowed("this organisation keeps no notes about meetings (MEETING_NOTES_ALLOWED is off): "
                         "log the date, minutes and channel only")
    return note


def meeting_date(met_on: date, started_at: datetime, today: date) -> date:
    """A meeting happened while the friendship lasted, and not in the future."""
    if met_on > today:
        raise NotAllowed(f"met_on {met_on} is in the future")
    if met_on < started_at.date():
        raise NotAllowed(f"met_on {met_on} is before the friendship began ({started_at.date()})")
    return met_on


def months_lasted(started_at: datetime, ended_at: datetime | None, now: datetime) -> float:
    return ((ended_at or now) - started_at).total_seconds() / (MONTH_DAYS * 86400)


def lasted_counts(spans: list[tuple[datetime, datetime | None]], now: datetime) -> dict[int, int]:
    """How many friendships lasted at least 3, 6 and 12 months (ongoing ones count up to now)."""
    months = [months_lasted(start, end, now) for start, end in spans]
    return {m: sum(1 for lasted in months if lasted >= m) for m in LASTED_MONTHS}
