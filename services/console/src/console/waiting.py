"""Who waits too long, in days since the referral, by the step they wait for.
The limits are journey's own defaults (FIRST_CONTACT_WORKING_DAYS about a
working week with the weekend, MATCH_WAIT_LIMIT_DAYS, FIRST_VISIT_WAIT_LIMIT_DAYS),
so the guide's list highlights the same citizens journey's report counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

WAIT_LIMIT_DAYS = {
    "referred": 5,         # first contact: 3 working days
    "contacted": 30,       # clarification and a match
    "clarified": 30,
    "matching": 30,
    "match_accepted": 14,  # the first visit
}


@dataclass(frozen=True)
class Waiting:
    days: int
    limit: int | None

    @property
    def too_long(self) -> bool:
        return self.limit is not None and self.days > self.limit


def waiting(state: str, referred_at: str | datetime | None, now: datetime | None = None) -> Waiting | None:
    """How long a citizen in `state` has waited since the referral; None once they reached a community."""
    if state not in WAIT_LIMIT_DAYS or referred_at is None:
        return None
    since = referred_at if isinstance(referred_at, datetime) else parse_time(referred_at)
    days = ((now or datetime.now(UTC)) - since).days
    return Waiting(max(days, 0), WAIT_LIMIT_DAYS[state])


def parse_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
