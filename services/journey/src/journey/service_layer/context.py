"""What every use case needs besides its unit of work: our org, the clock, the policies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Callable

from journey.domain.timers import TimerPolicy


def system_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Context:
    org_id: str
    policy: TimerPolicy = field(default_factory=TimerPolicy)
    self_running_after_meetings: int = 3
    """Consecutive meetings without the facilitator after which a group runs itself."""
    clock: Callable[[], datetime] = system_now
    """Injectable so tests move time instead of sleeping."""
    match_wait_limit_days: int = 30
    first_visit_wait_limit_days: int = 14
    retention_months_after_exit: int = 12
    """A journey's personal data is kept this long after it ended, then only its anonymous counts."""
    stopped_attending_after_meetings: int = 3
    """Recorded meetings in a row a group member missed after which their place is freed (issue 15)."""

    def now(self) -> datetime:
        return self.clock()
