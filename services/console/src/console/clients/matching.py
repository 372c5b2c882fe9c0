"""Matching's API as the console uses it, one client per organisation's
instance: proposals with reasons (in the person's language), volunteers,
activities, gaps, volunteers' lifecycle report, the questions to volunteers, friendships
and the volunteer's own routes (issue 14)."""

from __future__ import annotations

from typing import Any

from console.clients.base import Caller, ServiceClient


class MatchingClient(ServiceClient):
    name = "matching"

    def __init__(self, org: str, base_url: str, http: Any) -> None:
        super().__init__(base_url, http)
        self.org = org
        self.name = f"matching ({org})"

    async def proposals(self, caller: Caller, citizen_id: str) -> list[dict[str, Any]]:
        return await self.call(caller, "GET", "/proposals", params={"citizen_id": citizen_id, "limit": 500})

    async def all_proposals(self, caller: Caller) -> list[dict[str, Any]]:
        """Every proposal of the citizens the person may see (a coordinator: the organisation's consent)."""
        return await self.call(caller, "GET", "/proposals", params={"limit": 500})

    async def answer(self, caller: Caller, proposal_id: str, accept: bool, reason: str | None = None) -> Any:
        if accept:
            return await self.call(caller, "POST", f"/proposals/{proposal_id}/accept")
        return await self.call(caller, "POST", f"/proposals/{proposal_id}/decline", json={"reason": reason or "other"})

    async def volunteers(self, caller: Caller) -> list[dict[str, Any]]:
        return await self.call(caller, "GET", "/volunteers", params={"limit": 500})

    async def activities(self, caller: Caller) -> list[dict[str, Any]]:
        return await self.call(caller, "GET", "/activities", params={"limit": 500})

    async def gaps(self, caller: Caller) -> dict[str, Any]:
        return await self.call(caller, "GET", "/gaps")

    async def volunteer_report(self, caller: Caller) -> dict[str, Any]:
        """Volunteers by status, vetting or training expiring, supervision overdue (a coordinator of this org)."""
        return await self.call(caller, "GET", "/volunteers/report")

    async def questions(self, caller: Caller) -> list[dict[str, Any]]:
        """Questions waiting for a volunteer's yes or no: the volunteer's own; a coordinator's: the org's."""
        return await self.call(caller, "GET", "/friendships/questions", params={"limit": 500})

    async def friendships(self, caller: Caller) -> list[dict[str, Any]]:
        return await self.call(caller, "GET", "/friendships", params={"limit": 500})

    # The volunteer's own routes (issue 14).
    async def me(self, caller: Caller) -> dict[str, Any]:
        """The volunteer's own record; NotAvailable (404) when their login is not a volunteer of this org."""
        return await self.call(caller, "GET", "/volunteers/me", planned=True)

    async def volunteer_answer(self, caller: Caller, proposal_id: str, accept: bool) -> Any:
        return await self.call(caller, "POST", f"/proposals/{proposal_id}/volunteer-answer",
                               json={"answer": "accept" if accept else "decline"})

    async def pause(self, caller: Caller, volunteer_id: str, body: dict[str, Any]) -> Any:
        return await self.call(caller, "POST", f"/volunteers/{volunteer_id}/pause", json=body)

    async def resume(self, caller: Caller, volunteer_id: str) -> Any:
        return await self.call(caller, "POST", f"/volunteers/{volunteer_id}/resume")

    async def log_meeting(self, caller: Caller, friendship_id: str, body: dict[str, Any]) -> Any:
        return await self.call(caller, "POST", f"/friendships/{friendship_id}/meetings", json=body)
