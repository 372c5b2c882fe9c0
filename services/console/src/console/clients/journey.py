"""Journey's API as the console uses it: caseloads, a citizen's journey and its
steps, the reports for the steering group."""

from __future__ import annotations

from typing import Any

from console.clients.base import Caller, ServiceClient


class JourneyClient(ServiceClient):
    name = "journey"

    async def caseload(self, caller: Caller) -> list[dict[str, Any]]:
        return await self.call(caller, "GET", "/journeys", params={"limit": 500})

    async def journey(self, caller: Caller, citizen_id: str) -> dict[str, Any]:
        return await self.call(caller, "GET", f"/journeys/{citizen_id}")

    async def record(self, caller: Caller, citizen_id: str, step: str, body: dict[str, Any]) -> Any:
        """A step on the citizen's journey: contacts, clarification, first-visit/plan, first-visit, attendance, exit."""
        return await self.call(caller, "POST", f"/journeys/{citizen_id}/{step}", json=body)

    async def guides(self, caller: Caller) -> list[dict[str, Any]]:
        return await self.call(caller, "GET", "/guides")

    async def report(self, caller: Caller, name: str) -> Any:
        return await self.call(caller, "GET", f"/reports/{name}")

    async def report_csv(self, caller: Caller, name: str) -> str:
        return await self.call(caller, "GET", f"/reports/{name}" if name else "/reports", params={"format": "csv"})
