"""Consent: which organisations of the partnership may receive a citizen's data."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class ConsentGiver(str, Enum):
    """Who gave the consent on the citizen's behalf."""

    citizen = "citizen"
    relative = "relative"
    legal_guardian = "legal_guardian"
    power_of_attorney = "power_of_attorney"


def unknown_orgs(organisations: list[str], partnership_orgs: frozenset[str]) -> list[int]:
    """Positions of organisations that are not members of the partnership."""
    return [i for i, org in enumerate(organisations) if org not in partnership_orgs]


@dataclass(frozen=True)
class ConsentChange:
    consented: list[str]
    added: list[str]
    removed: list[str]

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def change_consent(before: list[str], after: list[str]) -> ConsentChange:
    """What changed between two consents; order of the new list is kept, duplicates dropped."""
    consented = list(dict.fromkeys(after))
    return ConsentChange(
        consented=consented,
        added=[o for o in consented if o not in before],
        removed=[o for o in before if o not in consented],
    )
