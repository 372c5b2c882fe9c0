"""Journey's API as the console uses it: caseloads, a citizen's journey and its
steps, the guides' tasks, the reports for the steering group."""

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

    async def groups(self, caller: Caller) -> list[dict[str, Any]]:
        """The organisation's groups with facilitator, members and meetings (a guide: those they facilitate)."""
        return await self.call(caller, "GET", "/groups", params={"limit": 500})

    async def tasks(self, caller: Caller) -> list[dict[str, Any]]:
        """What needs a person, oldest first (a guide: their caseload's; a coordinator: the organisation's)."""
        return await self.call(caller, "GET", "/tasks", params={"done": "false", "limit": 500})

    async def task_done(self, caller: Caller, task_id: str, done: bool = True) -> Any:
        return await self.call(caller, "POST", f"/tasks/{task_id}/done", json={"done": done})

    async def report(self, caller: Caller, name: str, period: dict[str, str] | None = None) -> Any:
        """A report; `period` `{from, to}` (ISO with a UTC offset) narrows it to journeys referred then."""
        return await self.call(caller, "GET", f"/reports/{name}", params=period or None)

    async def report_csv(self, caller: Caller, name: str, period: dict[str, str] | None = None) -> str:
        return await self.call(caller, "GET", f"/reports/{name}" if name else "/reports",
                               params={"format": "csv", **(period or {})})
