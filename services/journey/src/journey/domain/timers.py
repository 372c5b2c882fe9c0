"""When the guide must act: first contact, follow-ups, the exit review.

The periods are policy (Varde: exit review after 8 months), so they come from
`TimerPolicy` rather than constants. So does the holiday calendar: working days
skip weekends and whatever `TimerPolicy.is_holiday` says is a public holiday
(the composition root fills it from the `holidays` library for the country).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Callable


class TimerKind(str, Enum):
    first_contact = "first_contact"
    follow_up = "follow_up"
    exit_review = "exit_review"
    ucla_after_start = "ucla_after_start"
    ucla_after_exit = "ucla_after_exit"
    still_taking_part = "still_taking_part"


def no_holidays(day: date) -> bool:
    """A calendar without public holidays: only weekends are days off."""
    return False


@dataclass(frozen=True)
class TimerPolicy:
    first_contact_working_days: int = 3
    urgent_first_contact_working_days: int = 1
    """An urgent referral is contacted sooner."""
    first_follow_up_days: int = 14
    follow_up_every_months: int = 1
    exit_review_months: int = 8
    is_holiday: Callable[[date], bool] = no_holidays
    """Whether a day is a public holiday, when no one is expected to call."""
    ucla_after_start_months: int = 3
    """The UCLA-3 is asked again this long after the journey started (the referral)."""
    ucla_after_exit_months: int = 6
    """... and this long after the exit."""
    still_taking_part_weeks: int = 6
    """After a group runs itself, ask its members this much later whether they still take part."""


def add_working_days(start: datetime, days: int, is_holiday: Callable[[date], bool] = no_holidays) -> datetime:
    """`days` working days (Monday to Friday, not a holiday) after `start`, at the same time of day.

    The day is `start`'s calendar date in its own time zone.
    """
    moment = start
    left = days
    while left > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5 and not is_holiday(moment.date()):
            left -= 1
    return moment


def add_months(start: datetime, months: int) -> datetime:
    """The same day `months` later, or the month's last day when it is shorter."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


def first_contact_due(referred_at: datetime, policy: TimerPolicy, urgency: str = "routine") -> datetime:
    days = policy.urgent_first_contact_working_days if urgency == "urgent" else policy.first_contact_working_days
    return add_working_days(referred_at, days, policy.is_holiday)


def exit_review_due(referred_at: datetime, policy: TimerPolicy) -> datetime:
    return add_months(referred_at, policy.exit_review_months)


def first_follow_up_due(first_visit_at: datetime, policy: TimerPolicy) -> datetime:
    return first_visit_at + timedelta(days=policy.first_follow_up_days)


def next_follow_up_due(previous_due: datetime, policy: TimerPolicy) -> datetime:
    return add_months(previous_due, policy.follow_up_every_months)


def follow_up_after_contact(contact_at: datetime, policy: TimerPolicy) -> datetime:
    """A contact is a follow-up: the next one is a whole period after it, not after the old due date."""
    return add_months(contact_at, policy.follow_up_every_months)


def ucla_after_start_due(referred_at: datetime, policy: TimerPolicy) -> datetime:
    return add_months(referred_at, policy.ucla_after_start_months)


def ucla_after_exit_due(exited_at: datetime, policy: TimerPolicy) -> datetime:
    return add_months(exited_at, policy.ucla_after_exit_months)


def still_taking_part_due(self_running_at: datetime, policy: TimerPolicy) -> datetime:
    return self_running_at + timedelta(weeks=policy.still_taking_part_weeks)
