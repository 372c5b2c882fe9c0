"""The HTTP client that talks to identity providers: made on first use (or
given, then not closed by us), no redirects followed (an issuer's answers
come from the issuer's own URLs)."""

from __future__ import annotations

import httpx


class IssuerHttp:
    def __init__(self, http: httpx.AsyncClient | None, timeout_seconds: float) -> None:
        self._http = http
        self._own_http = http is None
        self._timeout = timeout_seconds

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self._timeout, follow_redirects=False)
        return self._http

    async def aclose(self) -> None:
        if self._own_http and self._http is not None:
            await self._http.aclose()
            self._http = None
