"""A group's life: facilitated by a tovholder until it runs itself."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from journey.domain.errors import DomainError, GroupClosed


class GroupState(str, Enum):
    facilitated = "facilitated"
    self_running = "self_running"


class SelfRunningReason(str, Enum):
    meetings_without_facilitator = "meetings_without_facilitator"
    facilitator_decision = "facilitator_decision"


@dataclass(frozen=True)
class Group:
    state: GroupState = GroupState.facilitated
    meetings_held: int = 0
    consecutive_without_facilitator: int = 0

    def record_meeting(self, facilitator_present: bool, threshold: int) -> tuple["Group", SelfRunningReason | None]:
        """Log one meeting; returns the group after it and the reason if it just became self-running.

        Meetings keep being logged after the group runs itself (attendance still
        counts in the reports); only the facilitated group can turn self-running.
        """
        if threshold < 1:
            raise DomainError("the threshold of meetings without the facilitator must be at least 1")
        streak = 0 if facilitator_present else self.consecutive_without_facilitator + 1
        after = Group(self.state, self.meetings_held + 1, streak)
        if self.state is GroupState.facilitated and streak >= threshold:
            return Group(GroupState.self_running, after.meetings_held, streak), SelfRunningReason.meetings_without_facilitator
        return after, None

    def release_facilitator(self) -> "Group":
        """The facilitator decides the group runs itself."""
        if self.state is GroupState.self_running:
            raise GroupClosed("the group already runs itself")
        return Group(GroupState.self_running, self.meetings_held, self.consecutive_without_facilitator)


def after_meeting(missed_in_a_row: int, attended: bool, threshold: int) -> tuple[int, bool]:
    """A member's run of missed meetings after one more recorded meeting, and whether they just stopped
    attending (the run reached `threshold`): then their place is freed for someone waiting."""
    if threshold < 1:
        raise DomainError("the number of missed meetings after which a member stopped attending must be at least 1")
    missed = 0 if attended else missed_in_a_row + 1
    return missed, (not attended and missed == threshold)
