"""Referral's API as the console uses it: cards in, the cards a person may see out."""

from __future__ import annotations

from typing import Any

from console.clients.base import Caller, ServiceClient


class ReferralClient(ServiceClient):
    name = "referral"

    async def submit(self, caller: Caller, card: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        """`201 {referral_id, citizen_id, repeat_referral}`; the key makes a resent form safe."""
        return await self.call(caller, "POST", "/referrals", json=card, headers={"Idempotency-Key": idempotency_key})

    async def cards(self, caller: Caller) -> list[dict[str, Any]]:
        """The cards the person may see (a guide: citizens in their organisation's consent)."""
        return await self.call(caller, "GET", "/referrals", params={"limit": 500})

    async def names(self, caller: Caller) -> dict[str, dict[str, Any]]:
        """citizen id -> the newest card the person may see about them (name, reason, contact)."""
        found: dict[str, dict[str, Any]] = {}
        for card in await self.cards(caller):
            found[str(card.get("citizen_id"))] = card
        return found
