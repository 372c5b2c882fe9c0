"""The citizen's journey as an explicit state machine.

Every step the guide logs or another service reports is a `Step`; the table
`TRANSITIONS` says in which states a step is allowed and where it leads. A
step not in the table is refused with `IllegalTransition`, never silently
applied.
"""

from __future__ import annotations

from enum import Enum

from journey.domain.errors import IllegalTransition


class State(str, Enum):
    referred = "referred"
    contacted = "contacted"
    clarified = "clarified"
    matching = "matching"
    match_accepted = "match_accepted"
    first_visit = "first_visit"
    active = "active"
    exited = "exited"


class Outcome(str, Enum):
    completed = "completed"
    dropped_out = "dropped_out"
    escalated = "escalated"
    declined = "declined"


class Step(str, Enum):
    contact = "contact"
    """The guide reached the citizen (phone call or home visit)."""
    clarify = "clarify"
    """Wishes, barriers and baseline loneliness recorded."""
    propose = "propose"
    """Matching proposed a friend or an activity."""
    accept = "accept"
    """The citizen accepted a proposal."""
    decline = "decline"
    """The citizen (or candidate) declined a pending proposal."""
    fall_through = "fall_through"
    """The accepted match fell through (declined after acceptance): back to matching."""
    plan_visit = "plan_visit"
    """The guide booked the first visit (time and companion); booking again replaces it."""
    first_visit = "first_visit"
    """The first visit took place."""
    attend = "attend"
    """The citizen took part again after the first visit."""
    complete = "complete"
    drop_out = "drop_out"
    escalate = "escalate"
    refuse = "refuse"
    """The citizen said no to the journey."""
    ask_again = "ask_again"
    """A follow-up found it did not work out: back to matching for a new proposal."""


EXIT_STEPS: dict[Step, Outcome] = {
    Step.complete: Outcome.completed,
    Step.drop_out: Outcome.dropped_out,
    Step.escalate: Outcome.escalated,
    Step.refuse: Outcome.declined,
}

S = State
_OPEN = [s for s in State if s is not State.exited]
_BEFORE_MATCH = [S.referred, S.contacted, S.clarified, S.matching]

TRANSITIONS: dict[tuple[State, Step], State] = {}


def _allow(step: Step, sources: list[State], target: State | None) -> None:
    """`target` None: the step keeps the state it happens in."""
    for source in sources:
        TRANSITIONS[(source, step)] = target or source


# Contact is logged at any time; only the first one moves the journey on.
_allow(Step.contact, [S.referred], S.contacted)
_allow(Step.contact, [s for s in _OPEN if s is not S.referred], None)
# Clarification usually follows a home visit; re-clarifying after declines is allowed.
_allow(Step.clarify, [S.referred, S.contacted, S.clarified, S.matching], S.clarified)
# Proposals come while matching, and again for a further community (Frida: self-help
# group first, then a social café as practice community).
_allow(Step.propose, [S.clarified, S.matching, S.match_accepted, S.first_visit, S.active], None)
TRANSITIONS[(S.clarified, Step.propose)] = S.matching
# A citizen may accept both a friend and an activity: a second acceptance keeps the state.
_allow(Step.accept, [S.clarified, S.matching, S.match_accepted, S.active, S.first_visit], S.match_accepted)
_allow(Step.decline, [S.clarified], S.matching)
_allow(Step.decline, [S.matching, S.match_accepted, S.first_visit, S.active], None)
_allow(Step.fall_through, [S.match_accepted], S.matching)
_allow(Step.fall_through, [S.first_visit, S.active], None)
_allow(Step.plan_visit, [S.match_accepted], None)
_allow(Step.first_visit, [S.match_accepted], S.first_visit)
_allow(Step.attend, [S.first_visit, S.active], S.active)
_allow(Step.complete, [S.first_visit, S.active], S.exited)
_allow(Step.drop_out, [s for s in _OPEN if s is not S.referred], S.exited)
_allow(Step.escalate, _OPEN, S.exited)
_allow(Step.refuse, _BEFORE_MATCH + [S.match_accepted], S.exited)
# A follow-up that needs a new proposal: like a fall-through, whatever came of the match so far.
_allow(Step.ask_again, [S.match_accepted, S.first_visit, S.active], S.matching)
_allow(Step.ask_again, [S.clarified, S.matching], None)


def next_state(state: State, step: Step) -> State:
    """Where `step` leads from `state`; raises `IllegalTransition` when it is not allowed."""
    target = TRANSITIONS.get((state, step))
    if target is None:
        raise IllegalTransition(state.value, step.value)
    return target


def allowed_steps(state: State) -> list[Step]:
    return [step for (source, step) in TRANSITIONS if source is state]
