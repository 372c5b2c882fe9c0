"""What every service client shares: the person's bearer token, their language,
and turning a service's answer into data or a reason a person can read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


class LoginExpired(Exception):
    """The service answered 401: the person's token expired or is no longer trusted; they log in again."""


class NotAvailable(Exception):
    """The service has no such route yet (404/405 on a planned API): the page says so."""


class Refused(Exception):
    """A 4xx with the service's reasons, e.g. a field that is not valid; shown on the form."""

    def __init__(self, status: int, problems: list[tuple[str, str]]) -> None:
        self.status = status
        self.problems = problems
        """(field, reason) pairs; the field is the API's dotted path (e.g. `citizen.birth_year`) or empty."""
        super().__init__("; ".join(self.reasons))

    @property
    def reasons(self) -> list[str]:
        return [f"{where}: {msg}" if where else msg for where, msg in self.problems]

    def by_field(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for where, msg in self.problems:
            found.setdefault(where, msg)
        return found


class Unreachable(Exception):
    """The service did not answer (or answered 5xx): the page says which one."""

    def __init__(self, service: str) -> None:
        super().__init__(service)
        self.service = service


@dataclass
class Caller:
    """Who a call is made for: the bearer token and the language wanted for reasons."""

    token: str
    language: str = "en"


class ServiceClient:
    name = "service"

    def __init__(self, base_url: str, http: httpx.AsyncClient) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http

    async def call(self, caller: Caller, method: str, path: str, *, json: Any = None,
                   params: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
                   planned: bool = False) -> Any:
        """The JSON answer (or text for CSV); `planned`: a route another change adds, so 404/405 means
        "not there yet" rather than "not found"."""
        sent = {"Authorization": f"Bearer {caller.token}", "Accept-Language": caller.language, **(headers or {})}
        try:
            answer = await self.http.request(method, self.base_url + path, json=json, params=params, headers=sent)
        except httpx.HTTPError:
            raise Unreachable(self.name) from None
        if answer.status_code == 401:
            raise LoginExpired()
        if planned and answer.status_code in (404, 405):
            raise NotAvailable(path)
        if answer.status_code >= 500:
            raise Unreachable(self.name)
        if answer.status_code >= 400:
            raise Refused(answer.status_code, reasons_of(answer))
        if answer.headers.get("content-type", "").startswith("application/json"):
            return answer.json()
        return answer.text


def reasons_of(answer: httpx.Response) -> list[tuple[str, str]]:
    """A 4xx answer's reasons as (field, reason): FastAPI's `detail` list (`loc` and `msg`), a `detail`
    text, or the services' own `{"detail": {"error": ..., "reason": ...}}`."""
    try:
        body = answer.json()
    except ValueError:
        return [("", answer.text[:300] or f"HTTP {answer.status_code}")]
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, list):
        found = []
        for item in detail:
            if isinstance(item, dict):
                where = ".".join(str(p) for p in item.get("loc", []) if p not in ("body", "query", "path"))
                found.append((where, str(item.get("msg", ""))))
            else:
                found.append(("", str(item)))
        return found or [("", f"HTTP {answer.status_code}")]
    if isinstance(detail, dict):
        text = detail.get("reason") or detail.get("message") or detail.get("detail") or detail.get("error")
        return [("", str(text) if text else str(detail)[:300])]
    return [("", str(detail))]
