"""Where the citizen is, as the referrer sees it (the closed loop).

Milestones arrive from several topics and may come out of order; the status is
the furthest milestone reached, and a journey's end is final.
"""

from __future__ import annotations

from enum import Enum


class Milestone(str, Enum):
    received = "received"
    contacted = "contacted"
    matched = "matched"
    first_visit_done = "first_visit_done"
    active = "active"
    completed = "completed"
    dropped_out = "dropped_out"
    declined = "declined"
    escalated = "escalated"


JOURNEY_ENDED = frozenset({Milestone.completed, Milestone.dropped_out, Milestone.declined, Milestone.escalated})
"""Milestones after which the journey is over: retention's clock starts."""

_RANK = {
    Milestone.received: 0,
    Milestone.contacted: 1,
    Milestone.matched: 2,
    Milestone.first_visit_done: 3,
    Milestone.active: 4,
}
ENDINGS = frozenset({Milestone.completed, Milestone.dropped_out, Milestone.declined, Milestone.escalated})


def current_status(reached: list[tuple[Milestone, object]]) -> Milestone:
    """The furthest milestone; among endings the first one reached wins (an ending is final)."""
    endings = sorted((at, m.value) for m, at in reached if m in ENDINGS)
    if endings:
        return Milestone(endings[0][1])
    progress = [m for m, _ in reached if m not in ENDINGS]
    return max(progress, key=_RANK.__getitem__, default=Milestone.received)


def in_order(reached: list[tuple[Milestone, object]]) -> list[tuple[Milestone, object]]:
    """The milestones by time; those reached at the same moment in the journey's order."""
    return sorted(reached, key=lambda item: (item[1], _RANK.get(item[0], len(_RANK))))


_REACHED_BY_ENTERING = {
    # A journey state entered means the referrer's milestone was reached (clarifying means
    # the guide met the citizen, so it counts as contact too).
    "contacted": Milestone.contacted,
    "clarified": Milestone.contacted,
    "matching": Milestone.contacted,
    "match_accepted": Milestone.matched,
    "first_visit": Milestone.first_visit_done,
    "active": Milestone.active,
}


def milestone_of_journey_state(state: str) -> Milestone | None:
    """The milestone reached by entering a journey state; None for states that are none
    (an exit's milestone comes with its outcome, from JourneyCompleted)."""
    return _REACHED_BY_ENTERING.get(state)


def journey_outcome_milestone(outcome: str) -> Milestone:
    """JourneyCompleted's outcome as a milestone."""
    return {
        "completed": Milestone.completed,
        "dropped_out": Milestone.dropped_out,
        "escalated": Milestone.escalated,
        "declined": Milestone.declined,
    }.get(outcome, Milestone.completed)
