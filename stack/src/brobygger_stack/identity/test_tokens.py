"""Tokens for tests and local tools: a person of some organisation in some
role, signed by that organisation's embedded issuer.

    tokens = TestTokens(provider)
    client = httpx.AsyncClient(auth=tokens.auth("coordinator"), ...)
    tokens.headers("guide", subject="anne")
"""

from __future__ import annotations

from collections.abc import Generator

import httpx

from brobygger_stack.identity.provider import IdentityProvider

DEFAULT_ORG = "varde-kommune"


class TestTokens:
    __test__ = False  # not a test class, whatever its name says

    def __init__(self, provider: IdentityProvider) -> None:
        self.provider = provider

    def token(self, role: str | tuple[str, ...] = "coordinator", org: str = DEFAULT_ORG, *,
              subject: str | None = None, name: str | None = None) -> str:
        roles = (role,) if isinstance(role, str) else tuple(role)
        return self.provider.issue_token(org, roles, subject=subject, name=name)

    def service_token(self, service: str, org: str = DEFAULT_ORG) -> str:
        """What `service` of `org` gets from its issuer with its client credentials."""
        return self.provider.issue_token(org, ("service",), client_id=f"brobygger-{service}")

    def headers(self, role: str | tuple[str, ...] = "coordinator", org: str = DEFAULT_ORG, **who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, org, **who)}"}

    def auth(self, role: str | tuple[str, ...] = "coordinator", org: str = DEFAULT_ORG, **who: str) -> httpx.Auth:
        """An httpx auth that sends a fresh token with every request (tokens expire after minutes)."""
        return _FreshToken(lambda: self.token(role, org, **who))

    def service_auth(self, service: str, org: str = DEFAULT_ORG) -> httpx.Auth:
        return _FreshToken(lambda: self.service_token(service, org))


class _FreshToken(httpx.Auth):
    def __init__(self, make) -> None:  # noqa: ANN001
        self.make = make

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if "authorization" not in request.headers:  # a test may send its own (or none) for one call
            request.headers["Authorization"] = f"Bearer {self.make()}"
        yield request
