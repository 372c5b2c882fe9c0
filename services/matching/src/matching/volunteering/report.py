"""The coordinator's report on the organisation's volunteers: pure figures from lifecycle records (the
friendship figures, hours given and friendships that lasted, come from `matching.friendships.figures`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Mapping
from uuid import UUID

from matching.volunteering.lifecycle import (
    Expiry, LifecycleRules, Status, VolunteerRecord, approved_on, expiring, last_supervised, status,
    supervision_overdue,
)

EXPIRY_WINDOW_DAYS = 30


@dataclass(frozen=True)
class Overdue:
    volunteer_id: UUID
    last_supervised_on: date | None


@dataclass(frozen=True)
class VolunteerReport:
    by_status: dict[str, int]
    expiring: list[Expiry] = field(default_factory=list)
    supervision_overdue: list[Overdue] = field(default_factory=list)
    days_to_first_match: float | None = None
    """Average days from application (or direct registration) to the first accepted match; None without any."""
    matched_volunteers: int = 0
    """How many volunteers that average is over."""


def summarise(records: list[VolunteerRecord], first_match: Mapping[UUID, date], today: date,
              rules: LifecycleRules) -> VolunteerReport:
    """Volunteers by status, what expires within 30 days, who is overdue for supervision, and the average
    time from application to first accepted match (`first_match`: the day of each volunteer's first one)."""
    by_status = Counter(status(r, today, rules).value for r in records)
    waited = []
    for r in records:
        started = r.applied_on or r.registered_on or approved_on(r)
        matched = first_match.get(r.volunteer_id)
        if started is not None and matched is not None:
            waited.append(max((matched - started).days, 0))
    return VolunteerReport(
        by_status={s.value: by_status.get(s.value, 0) for s in Status},
        expiring=sorted((e for r in records for e in expiring(r, today, EXPIRY_WINDOW_DAYS)),
                        key=lambda e: (e.expires_on, str(e.volunteer_id), e.what)),
        supervision_overdue=[Overdue(r.volunteer_id, last_supervised(r)) for r in records
                             if supervision_overdue(r, today, rules)],
        days_to_first_match=round(sum(waited) / len(waited), 1) if waited else None,
        matched_volunteers=len(waited),
    )
