"""What happens after the first visit: follow-up outcomes and the repeated loneliness measure.

Pure rules; the use cases are in `service_layer/follow_through.py`.
"""

from __future__ import annotations

from enum import Enum

from journey.domain.errors import InvalidInput
from journey.domain.timers import TimerKind


class FollowUpOutcome(str, Enum):
    still_going = "still_going"
    paused = "paused"
    stopped = "stopped"
    needs_new_proposal = "needs_new_proposal"


STOP_REASONS = ("health", "moved", "did_not_click", "transport", "cost", "activity_ended", "found_own_community", "other")
"""Codes only: a reason in words would be free text about the citizen (and often their health)."""


def check_outcome(outcome: FollowUpOutcome, reason: str | None) -> None:
    """`stopped` needs a reason; `still_going` and `paused` take none (there is nothing to explain)."""
    if reason is not None and reason not in STOP_REASONS:
        raise InvalidInput("reason", f"unknown reason {reason!r}; one of {', '.join(STOP_REASONS)}")
    if outcome is FollowUpOutcome.stopped and reason is None:
        raise InvalidInput("reason", "a stop needs a reason code")
    if outcome in (FollowUpOutcome.still_going, FollowUpOutcome.paused) and reason is not None:
        raise InvalidInput("reason", f"{outcome.value} takes no reason")


class TimePoint(str, Enum):
    """When the UCLA-3 is asked: at clarification, some months after the start, at exit, some months after exit."""

    baseline = "baseline"
    after_start = "after_start"
    exit = "exit"
    after_exit = "after_exit"


FOLLOW_UP_POINTS = (TimePoint.after_start, TimePoint.exit, TimePoint.after_exit)
"""The time points compared with the baseline in the reports (paired: only citizens measured at both)."""

MEASURE_TIMERS: dict[TimerKind, TimePoint] = {
    TimerKind.ucla_after_start: TimePoint.after_start,
    TimerKind.ucla_after_exit: TimePoint.after_exit,
}
"""Timers that ask for a measure, and the time point the answers are kept under."""


def may_measure(point: TimePoint, exited: bool) -> None:
    """The exit and after-exit answers exist only once the journey ended; the rest only while it runs."""
    if point in (TimePoint.exit, TimePoint.after_exit) and not exited:
        raise InvalidInput("time_point", f"{point.value} is measured once the journey has ended")
    if point in (TimePoint.baseline, TimePoint.after_start) and exited:
        raise InvalidInput("time_point", f"{point.value} is measured while the journey runs; use exit or after_exit")
