"""Things that need a person: the guide's list (call, letter, arrange transport, ask the UCLA-3, follow up).

A task comes from a cause (a timer that fired, an accepted proposal with a transport need, a message that
could not reach the citizen) named by its `source_key`, so the same cause never makes two tasks. Details
are codes and ids only: the guide reads the person behind them in the journey.
"""

from __future__ import annotations

from enum import Enum

from journey.domain.timers import TimerKind


class TaskKind(str, Enum):
    first_contact = "first_contact"
    """Call or visit the citizen for the first time."""
    follow_up = "follow_up"
    """Ask how it goes, and record the outcome."""
    exit_review = "exit_review"
    """The journey's period ends: review and measure."""
    ask_ucla = "ask_ucla"
    """Ask the three UCLA questions (`details.time_point`)."""
    still_taking_part = "still_taking_part"
    """The citizen's group runs itself: do they still take part?"""
    arrange_transport = "arrange_transport"
    """Arrange `details.transport_need` (volunteer driver, flex transport, accompanied bus ride)."""
    call_or_write = "call_or_write"
    """A message could not reach the citizen (no e-mail, no mobile): call, or print the letter and send it."""


TIMER_TASKS: dict[TimerKind, TaskKind] = {
    TimerKind.first_contact: TaskKind.first_contact,
    TimerKind.follow_up: TaskKind.follow_up,
    TimerKind.exit_review: TaskKind.exit_review,
    TimerKind.ucla_after_start: TaskKind.ask_ucla,
    TimerKind.ucla_after_exit: TaskKind.ask_ucla,
    TimerKind.still_taking_part: TaskKind.still_taking_part,
}
"""Each fired timer is a task for the guide as well as a FollowUpDue for notify."""

DONE_BY_FOLLOW_UP = (TaskKind.follow_up, TaskKind.still_taking_part)
"""Recording a follow-up's outcome does these."""
