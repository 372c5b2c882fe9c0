"""Tokens for service-to-service calls: the OAuth 2.0 client credentials
grant against the calling organisation's own issuer, cached and fetched
again shortly before expiry.

    source = ClientCredentialsTokenSource(issuer, client_id, client_secret)
    async with httpx.AsyncClient(auth=source.httpx_auth()) as http:
        await http.get(f"{referral}/referrals/{id}/referrer-contact")
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable, Generator
from typing import Any

import httpx

from brobygger_runtime.auth.issuer_http import IssuerHttp

from brobygger_runtime.auth.trust import url_problem


class TokenUnavailable(RuntimeError):
    """The issuer did not hand out a token (wrong credentials, unreachable)."""


class ClientCredentialsTokenSource(IssuerHttp):
    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str,
        *,
        token_endpoint: str | None = None,
        scope: str | None = None,
        http: httpx.AsyncClient | None = None,
        refresh_margin_seconds: float = 30.0,
        timeout_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        plain_http_hosts: frozenset[str] = frozenset(),
    ) -> None:
        if not client_id or not client_secret:
            raise ValueError("a client credentials token source needs a client id and secret")
        self.issuer = issuer
        self.plain_http_hosts = plain_http_hosts
        self.client_id = client_id
        self._secret = client_secret
        self.token_endpoint = token_endpoint
        self.scope = scope
        self.refresh_margin_seconds = refresh_margin_seconds
        super().__init__(http, timeout_seconds)
        self._clock = clock
        self._token: str | None = None
        self._refresh_at = 0.0
        self._lock = asyncio.Lock()
        self.fetches = 0

    def __repr__(self) -> str:  # never the secret
        return f"ClientCredentialsTokenSource(issuer={self.issuer!r}, client_id={self.client_id!r})"

    async def token(self) -> str:
        """A current access token, fetched when there is none or it is about to expire."""
        if self._token is not None and self._clock() < self._refresh_at:
            return self._token
        async with self._lock:
            if self._token is not None and self._clock() < self._refresh_at:
                return self._token
            return await self._fetch()

    def invalidate(self) -> None:
        """Forget the cached token (e.g. after the callee answered 401)."""
        self._token = None

    def httpx_auth(self) -> httpx.Auth:
        return _BearerAuth(self)

    async def _fetch(self) -> str:
        endpoint = self.token_endpoint or await self._discover_token_endpoint()
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        started = self._clock()
        try:
            response = await self._client().post(
                endpoint, data=form, auth=httpx.BasicAuth(self.client_id, self._secret),
                headers={"Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise TokenUnavailable(f"cannot reach the token endpoint {endpoint}: {type(exc).__name__}") from exc
        body = _json_or_empty(response)
        if response.status_code != 200 or not isinstance(body.get("access_token"), str):
            error = body.get("error") or f"HTTP {response.status_code}"
            described = body.get("error_description")
            raise TokenUnavailable(
                f"{endpoint} refused client {self.client_id!r}: {error}" + (f" ({described})" if described else "")
            )
        expires_in = body.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, int | float) and expires_in > 0 else 60.0
        margin = min(self.refresh_margin_seconds, lifetime / 2)
        self._token = body["access_token"]
        self._refresh_at = started + lifetime - margin
        self.fetches += 1
        return self._token

    async def _discover_token_endpoint(self) -> str:
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            response = await self._client().get(url)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise TokenUnavailable(f"cannot read the discovery document {url}: {exc}") from exc
        endpoint = document.get("token_endpoint") if isinstance(document, dict) else None
        if not isinstance(endpoint, str) or url_problem(endpoint, self.plain_http_hosts):
            raise TokenUnavailable(f"{url} names no usable token_endpoint")
        self.token_endpoint = endpoint
        return endpoint



class _BearerAuth(httpx.Auth):
    """Adds the source's token; on a 401 fetches a fresh one and tries once more."""

    def __init__(self, source: ClientCredentialsTokenSource) -> None:
        self.source = source

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("client credentials tokens are fetched asynchronously: use an httpx.AsyncClient")
        yield request  # pragma: no cover

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        request.headers["Authorization"] = f"Bearer {await self.source.token()}"
        response = yield request
        if response.status_code == 401:
            self.source.invalidate()
            request.headers["Authorization"] = f"Bearer {await self.source.token()}"
            yield request


def _json_or_empty(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
