"""A referral as journey sees it (read from ReferralReceived at the edge)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True)
class Referral:
    citizen_id: UUID
    source: str
    referrer_org: str | None
    urgency: str
    postal_code: str
    age_band: str
    language: str
    consented_orgs: frozenset[str]
    repeat: bool
    received_at: datetime

    def consents_to(self, org_id: str) -> bool:
        return org_id in self.consented_orgs
