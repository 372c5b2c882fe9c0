"""What a message may tell its reader: scores (loneliness totals, match quality) go to staff only.

A referrer (an organisation, or a relative who asked to follow) hears that the person they referred
took a step, never how lonely they are; the citizen's own messages need no score either. The fields
are dropped before the delivery is stored, so no template, webhook or resend can carry them.
"""

from __future__ import annotations

from typing import Any, Mapping

SCORE_FIELDS = frozenset({"baseline", "final", "score"})
"""UCLA answers and totals at the start and the exit, and a proposal's match score."""
NEVER_TOLD_SCORES = frozenset({"referrer", "citizen", "volunteer"})
"""Roles whose messages carry no score."""


def facts_for(role: str, facts: Mapping[str, Any]) -> dict[str, Any]:
    """The event's facts as `role` may read them."""
    if role not in NEVER_TOLD_SCORES:
        return dict(facts)
    return {name: value for name, value in facts.items() if name not in SCORE_FIELDS}
