"""Triage: the guide's decision whether volunteers and communities can help."""

from __future__ import annotations

from enum import Enum

from brobygger_contracts.events.referral import TriageDecision
from referral.domain.errors import Refused
from referral.domain.status import Milestone


class ReferralState(str, Enum):
    received = "received"
    bridging = "bridging"
    """Triaged `bridge`: the volunteer journey goes on."""
    escalated = "escalated"
    declined = "declined"


_AFTER_TRIAGE = {
    TriageDecision.bridge: ReferralState.bridging,
    TriageDecision.professional: ReferralState.escalated,
    TriageDecision.declined: ReferralState.declined,
}

MILESTONE_OF_DECISION = {
    TriageDecision.professional: Milestone.escalated,
    TriageDecision.declined: Milestone.declined,
}


def triage(state: ReferralState, decision: TriageDecision) -> ReferralState:
    """A referral is triaged once; a later change of mind is a new referral."""
    if state is not ReferralState.received:
        raise Refused(f"the referral was already triaged ({state.value})")
    return _AFTER_TRIAGE[decision]
