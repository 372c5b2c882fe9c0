"""People's login: OpenID Connect authorization code with PKCE (S256) against
their own organisation's issuer (one per organisation, TRUSTED_ISSUERS), with
authlib's OAuth 2.0 protocol helpers (grant URI, token request, S256 challenge) over the console's httpx client. The access token it brings back is verified like
every service verifies one (signature, issuer, audience, expiry) before the
console trusts who it names; the organisation comes from the issuer."""

from __future__ import annotations

import secrets
import time
from typing import Any

import httpx
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from brobygger_runtime.auth import TokenVerifier, TrustConfiguration
from console.sessions import Person

SCOPE = "openid profile email"


class LoginFailed(Exception):
    """The login did not complete (state mismatch, refused code, untrusted token); `reason` is safe to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Login:
    def __init__(self, trust: TrustConfiguration, client_id: str, redirect_uri: str, http: httpx.AsyncClient) -> None:
        self.trust = trust
        self.client_id = client_id
        self.redirect_uri = redirect_uri
        self.http = http
        self.verifier = TokenVerifier(trust)
        self._discovery: dict[str, dict[str, Any]] = {}

    def organisations(self) -> list[str]:
        return sorted(set(self.trust.issuers.values()))

    def issuer_of(self, org: str) -> str:
        issuers = self.trust.issuers_of(org)
        if not issuers:
            raise LoginFailed(f"no trusted identity provider for organisation {org!r}")
        return issuers[0]

    async def start(self, org: str) -> tuple[str, dict[str, str]]:
        """Where to send the browser, and what the session keeps until the callback."""
        issuer = self.issuer_of(org)
        endpoints = await self._endpoints(issuer)
        verifier = secrets.token_urlsafe(48)
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        url = prepare_grant_uri(endpoints["authorization_endpoint"], self.client_id, "code", self.redirect_uri,
                                scope=SCOPE, state=state, nonce=nonce,
                                code_challenge=create_s256_code_challenge(verifier), code_challenge_method="S256")
        return url, {"state": state, "verifier": verifier, "nonce": nonce, "org": org, "issuer": issuer,
                     "started": str(time.time())}

    async def finish(self, pending: dict[str, str], state: str | None, code: str | None) -> Person:
        if not pending or not state or not secrets.compare_digest(state, pending.get("state", "")):
            raise LoginFailed("this login was not started here, or it was started again in another tab")
        if not code:
            raise LoginFailed("the identity provider sent no authorization code")
        endpoints = await self._endpoints(pending["issuer"])
        body = prepare_token_request("authorization_code", code=code, redirect_uri=self.redirect_uri,
                                     client_id=self.client_id, code_verifier=pending["verifier"])
        try:
            answer = await self.http.post(endpoints["token_endpoint"], content=body,
                                          headers={"Content-Type": "application/x-www-form-urlencoded"})
            token = answer.json() if answer.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            token = None
        if not isinstance(token, dict):
            raise LoginFailed("the identity provider refused the code; start the login again")
        access = token.get("access_token")
        if not access:
            raise LoginFailed("the identity provider answered without an access token")
        try:
            caller = await self.verifier.verify(access)
        except Exception as exc:
            raise LoginFailed(f"the access token is not trusted: {getattr(exc, 'reason', exc)}") from None
        if caller.issuer != pending["issuer"]:
            raise LoginFailed("the token comes from another issuer than the one the login was sent to")
        lifetime = float(token.get("expires_in") or 300)
        return Person(subject=caller.subject, organisation=caller.organisation,
                      roles=frozenset(str(r) for r in caller.roles), name=caller.display_name or caller.subject,
                      token=access, token_expires_at=time.time() + lifetime)

    async def _endpoints(self, issuer: str) -> dict[str, Any]:
        if issuer not in self._discovery:
            try:
                answer = await self.http.get(f"{issuer}/.well-known/openid-configuration")
                answer.raise_for_status()
            except httpx.HTTPError:
                raise LoginFailed("the organisation's identity provider does not answer; try again shortly") from None
            self._discovery[issuer] = answer.json()
        return self._discovery[issuer]

    async def aclose(self) -> None:
        await self.verifier.aclose()
