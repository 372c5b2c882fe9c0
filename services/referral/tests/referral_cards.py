"""Referral cards for the tests: a valid one and a way to vary it."""

from __future__ import annotations

import copy
from typing import Any

BASE_CARD: dict[str, Any] = {
    "referrer": {"source": "home_care", "org": "varde-kommune"},
    "citizen": {
        "name": "Frida Hansen",
        "birth_year": 1942,
        "postal_code": "6800",
        "address": "Storegade 12, 1. th",
        "phone": "+45 75 22 11 00",
        "email": "frida@example.dk",
        "language": "da",
        "lives_alone": True,
    },
    "reason": "Frida har mistet sin mand og går ikke længere ud. Hun nævner, at hun savner at bage med nogen.",
    "urgency": "soon",
    "consent": {"given_by": "citizen", "given_at": "2026-01-05T10:00:00Z", "organisations": ["varde-kommune", "red-cross"]},
}


def make_card(**changes: Any) -> dict[str, Any]:
    """A valid card; `citizen__name="X"` changes a nested field, a value of `...` removes it."""
    card = copy.deepcopy(BASE_CARD)
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        target = card
        for part in parents:
            target = target[part]
        if value is ...:
            target.pop(leaf, None)
        else:
            target[leaf] = value
    return card


REFERRERS: dict[str, dict[str, Any]] = {
    "relative": {"source": "relative", "name": "Karen Hansen", "relation": "daughter", "phone": "+4520304050"},
    "self": {"source": "self"},
}
"""Referrers who refer on their own behalf, with the fields their source requires."""
