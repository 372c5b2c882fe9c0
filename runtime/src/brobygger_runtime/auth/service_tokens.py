"""This service's own tokens for calling other services: client credentials
at its organisation's issuer (AUTH_ISSUER, else the issuer TRUSTED_ISSUERS
lists for ORG_ID), as client AUTH_CLIENT_ID (default brobygger-<service>)."""

from __future__ import annotations

from typing import Any

import httpx

from brobygger_runtime.auth.client_credentials import ClientCredentialsTokenSource
from brobygger_runtime.auth.trust import TrustConfiguration, TrustConfigurationError, url_problem


class ServiceTokens:
    def __init__(self, settings: Any, trust: TrustConfiguration) -> None:
        self.client_id = settings.auth_client_id or f"brobygger-{settings.service_name}"
        self.issuer = settings.auth_issuer or next(iter(trust.issuers_of(settings.org_id)), "")
        self._secret = settings.auth_client_secret
        self._plain_http_hosts = trust.plain_http_hosts
        self._source: ClientCredentialsTokenSource | None = None
        if self.issuer and (problem := url_problem(self.issuer, trust.plain_http_hosts)):
            raise TrustConfigurationError(f"AUTH_ISSUER {self.issuer!r} {problem}")

    @property
    def configured(self) -> bool:
        return bool(self.issuer and self._secret)

    def require(self, needed_for: str) -> None:
        """At start-up, for a service that will call others: refuse to start without credentials."""
        if not self.issuer:
            raise TrustConfigurationError(
                f"{needed_for} needs this service's own tokens, but no issuer is known for its organisation: "
                "set AUTH_ISSUER (or list the organisation's issuer in TRUSTED_ISSUERS)"
            )
        if not self._secret:
            raise TrustConfigurationError(
                f"{needed_for} needs this service's own tokens: set AUTH_CLIENT_SECRET (client {self.client_id!r} "
                f"at {self.issuer})"
            )

    def httpx_auth(self) -> httpx.Auth:
        """Bearer tokens for an httpx.AsyncClient calling another service."""
        self.require("calling another service")
        if self._source is None:
            self._source = ClientCredentialsTokenSource(
                self.issuer, self.client_id, self._secret, plain_http_hosts=self._plain_http_hosts,
            )
        return self._source.httpx_auth()

    async def aclose(self) -> None:
        if self._source is not None:
            await self._source.aclose()
