"""The signing keys of trusted issuers: found through OIDC discovery
(`<issuer>/.well-known/openid-configuration` -> `jwks_uri`), kept in memory,
fetched again when they expire and when a token names a key id not seen yet
(a key rotation), at most once per `min_refresh_seconds` per issuer so that
tokens with made-up key ids cannot make the service hammer the issuer."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from brobygger_runtime.auth.issuer_http import IssuerHttp
from jwt import PyJWK
from jwt.exceptions import PyJWKError

from brobygger_runtime.auth.trust import url_problem

log = logging.getLogger(__name__)

ALLOWED_ALGORITHMS: tuple[str, ...] = ("RS256", "ES256", "EdDSA")
"""Asymmetric signatures only: never `none`, never HS* (a shared secret would
let every service forge tokens, and an HS* check keyed with a public key lets
anyone forge them)."""


class IssuerUnavailable(Exception):
    """The issuer's keys could not be fetched and none are cached: the token can
    be neither accepted nor refused now (answered 503, not 401)."""


@dataclass
class _IssuerKeys:
    jwks_uri: str | None = None
    keys: dict[str, PyJWK] = field(default_factory=dict)
    fetched_at: float | None = None
    forced_refresh_at: float | None = None
    generation: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class SigningKeys(IssuerHttp):
    def __init__(
        self,
        *,
        http: httpx.AsyncClient | None = None,
        ttl_seconds: float = 600.0,
        min_refresh_seconds: float = 10.0,
        timeout_seconds: float = 5.0,
        algorithms: Iterable[str] = ALLOWED_ALGORITHMS,
        clock: Callable[[], float] = time.monotonic,
        plain_http_hosts: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(http, timeout_seconds)
        self.plain_http_hosts = plain_http_hosts
        self.ttl_seconds = ttl_seconds
        self.min_refresh_seconds = min_refresh_seconds
        self.algorithms = frozenset(algorithms)
        self._clock = clock
        self._issuers: dict[str, _IssuerKeys] = {}
        self.fetches = 0
        """JWKS documents fetched so far (for tests and metrics)."""

    async def key(self, issuer: str, kid: str) -> PyJWK | None:
        """The issuer's verification key `kid`, or None if the issuer does not publish it.

        The caller has already checked that `issuer` is trusted: keys are never
        fetched for an issuer that is not."""
        state = self._issuers.setdefault(issuer, _IssuerKeys())
        now = self._clock()
        fetched_now = False
        if state.fetched_at is None or now - state.fetched_at >= self.ttl_seconds:
            await self._refresh(issuer, state, state.generation)
            fetched_now = True
        found = state.keys.get(kid)
        if found is not None or fetched_now:
            return found
        if state.forced_refresh_at is None or now - state.forced_refresh_at >= self.min_refresh_seconds:
            state.forced_refresh_at = now
            log.info("unknown key id %r for issuer %s: fetching its keys again", kid[:64], issuer)
            await self._refresh(issuer, state, state.generation, after_unknown_kid=True)
            return state.keys.get(kid)
        return None

    async def _refresh(self, issuer: str, state: _IssuerKeys, seen_generation: int, after_unknown_kid: bool = False) -> None:
        async with state.lock:
            if state.generation != seen_generation:
                return  # someone else refreshed while this one waited
            try:
                if state.jwks_uri is None or not after_unknown_kid:
                    state.jwks_uri = await self._discover_jwks_uri(issuer)
                state.keys = await self._fetch_keys(state.jwks_uri)
            except (httpx.HTTPError, ValueError) as exc:
                if state.keys:
                    # Keep what we have (stale beats down); try again after min_refresh_seconds.
                    log.warning("could not refresh the keys of %s (%s); keeping the cached ones", issuer, exc)
                    state.fetched_at = self._clock() - self.ttl_seconds + self.min_refresh_seconds
                    return
                raise IssuerUnavailable(f"cannot fetch the signing keys of {issuer}: {exc}") from exc
            state.fetched_at = self._clock()
            state.generation += 1

    async def _discover_jwks_uri(self, issuer: str) -> str:
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        document = await self._get_json(url)
        if document.get("issuer") != issuer:
            raise ValueError(f"the discovery document at {url} names issuer {document.get('issuer')!r}")
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str) or url_problem(jwks_uri, self.plain_http_hosts):
            raise ValueError(f"the discovery document at {url} has no usable jwks_uri")
        return jwks_uri

    async def _fetch_keys(self, jwks_uri: str) -> dict[str, PyJWK]:
        document = await self._get_json(jwks_uri)
        self.fetches += 1
        entries = document.get("keys")
        if not isinstance(entries, list):
            raise ValueError(f"{jwks_uri} is not a JWK set")
        keys: dict[str, PyJWK] = {}
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
                continue
            if entry.get("use", "sig") != "sig":
                continue  # e.g. Keycloak's encryption key
            if "d" in entry:
                continue  # a private key has no business in a JWK set; never use it
            try:
                key = PyJWK(entry)
            except PyJWKError:
                continue  # a key type or algorithm this verifier does not support
            if key.algorithm_name in self.algorithms:
                keys[entry["kid"]] = key
        return keys

    async def _get_json(self, url: str) -> dict[str, Any]:
        response = await self._client().get(url, headers={"Accept": "application/json"})
        response.raise_for_status()
        document = response.json()
        if not isinstance(document, dict):
            raise ValueError(f"{url} did not answer a JSON object")
        return document

