"""Citizens' data keys as every service gets them (DESIGN.md section 2).

Referral keeps the keys; every other service asks its key endpoint
(`POST {CITIZEN_KEYS_URL}` with `{"citizen_ids": [...]}`, at most 500 a call)
with its own client-credentials token. Referral answers only for citizens
whose current consent names the caller's organisation; the rest come back
`withheld`, without a reason (erased, unknown, not consented look alike).

`CitizenKeys` puts a bounded in-memory cache with a time to live in front of
the source, and asks for all missing keys of a batch in one call. A
`ConsentChanged` that no longer names this organisation, or a `CitizenErased`,
drops the citizen's key at once (`observe`). A withheld key is not cached:
new consent must be noticed at the next event.

Referral unavailable is transient (`KeyServiceUnavailable` is a
`ConnectionError`): the consumer's partition waits, as for a database outage.
"""

from __future__ import annotations

import base64
import binascii
import logging
import time
from collections import OrderedDict
from typing import Callable, Iterable, Protocol

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from brobygger_contracts.base import Event
from brobygger_contracts.events.referral import CitizenErased, ConsentChanged
from brobygger_runtime.auth import TokenUnavailable

log = logging.getLogger(__name__)

MAX_IDS_PER_CALL = 500
"""The key endpoint's limit per request."""


class KeyServiceUnavailable(ConnectionError):
    """Referral's key endpoint could not answer now (or no endpoint is configured): try again later."""


class KeySource(Protocol):
    async def fetch(self, citizen_ids: list[str], session: AsyncSession | None) -> dict[str, bytes]:
        """The keys handed out, by citizen id; an id missing from the answer is withheld."""


class KeyCache:
    """At most `size` keys, each for `ttl` seconds; the least recently used goes first."""

    def __init__(self, size: int, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.size, self.ttl, self.clock = size, ttl, clock
        self._keys: OrderedDict[str, tuple[bytes, float]] = OrderedDict()

    def get(self, citizen_id: str) -> bytes | None:
        found = self._keys.get(citizen_id)
        if found is None:
            return None
        key, expires = found
        if self.clock() >= expires:
            del self._keys[citizen_id]
            return None
        self._keys.move_to_end(citizen_id)
        return key

    def put(self, citizen_id: str, key: bytes) -> None:
        if self.size <= 0 or self.ttl <= 0:
            return
        self._keys[citizen_id] = (key, self.clock() + self.ttl)
        self._keys.move_to_end(citizen_id)
        while len(self._keys) > self.size:
            self._keys.popitem(last=False)

    def forget(self, citizen_id: str) -> None:
        self._keys.pop(citizen_id, None)

    def __contains__(self, citizen_id: str) -> bool:
        return self.get(citizen_id) is not None

    def __len__(self) -> int:
        return len(self._keys)


class CitizenKeys:
    """The one way a service gets citizens' data keys: its cache, then its source."""

    def __init__(self, source: KeySource, cache: KeyCache | None, own_org: str) -> None:
        self.source = source
        self.cache = cache
        self.own_org = own_org

    async def keys_for(self, citizen_ids: Iterable[str], session: AsyncSession | None = None) -> dict[str, bytes]:
        """The keys this organisation may have, by citizen id; withheld ones are absent.
        One call to the source for every id not cached."""
        wanted = list(dict.fromkeys(citizen_ids))
        found: dict[str, bytes] = {}
        missing: list[str] = []
        for citizen_id in wanted:
            key = self.cache.get(citizen_id) if self.cache is not None else None
            if key is None:
                missing.append(citizen_id)
            else:
                found[citizen_id] = key
        if missing:
            fetched = await self.source.fetch(missing, session)
            for citizen_id, key in fetched.items():
                if self.cache is not None:
                    self.cache.put(citizen_id, key)
                found[citizen_id] = key
        return found

    async def key_for(self, citizen_id: str, session: AsyncSession | None = None) -> bytes | None:
        return (await self.keys_for([citizen_id], session)).get(citizen_id)

    def forget(self, citizen_id: str) -> None:
        if self.cache is not None:
            self.cache.forget(citizen_id)

    def observe(self, event: Event) -> None:
        """Drop what this organisation may no longer hold: after an erasure, or a consent without it."""
        if isinstance(event, CitizenErased) or (
            isinstance(event, ConsentChanged) and self.own_org not in event.consented_orgs
        ):
            self.forget(str(event.citizen_id))


class HttpKeySource:
    """Referral's key endpoint, called with this service's client-credentials token."""

    def __init__(self, url: str, auth: httpx.Auth, timeout: float = 10.0) -> None:
        self.url = url
        self.auth = auth
        self.timeout = timeout

    async def fetch(self, citizen_ids: list[str], session: AsyncSession | None = None) -> dict[str, bytes]:
        keys: dict[str, bytes] = {}
        async with httpx.AsyncClient(timeout=self.timeout, auth=self.auth) as client:
            for start in range(0, len(citizen_ids), MAX_IDS_PER_CALL):
                keys.update(await self._ask(client, citizen_ids[start:start + MAX_IDS_PER_CALL]))
        return keys

    async def _ask(self, client: httpx.AsyncClient, citizen_ids: list[str]) -> dict[str, bytes]:
        try:
            response = await client.post(self.url, json={"citizen_ids": citizen_ids})
        except httpx.TransportError as exc:
            raise KeyServiceUnavailable(f"citizen key endpoint not reachable: {type(exc).__name__}") from exc
        except TokenUnavailable as exc:
            raise KeyServiceUnavailable(f"no token for the citizen key endpoint: {exc}") from exc
        if not response.is_success:
            # 401/403 are a configuration to fix, 5xx an outage: either way the events wait, none is skipped.
            log.error("citizen key endpoint answered %d", response.status_code)
            raise KeyServiceUnavailable(f"citizen key endpoint answered {response.status_code}")
        try:
            body = response.json()
            return {citizen_id: _key_of(text) for citizen_id, text in body["keys"].items()}
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
            raise KeyServiceUnavailable("citizen key endpoint answered something that is not a key list") from exc


def _key_of(text: str) -> bytes:
    key = base64.b64decode(text, validate=True)
    if len(key) != 32:
        raise ValueError("a data key is 32 bytes")
    return key


class NoKeySource:
    """No key endpoint configured: sealed events wait (logged), rather than being skipped as not ours."""

    def __init__(self, why: str) -> None:
        self.why = why

    async def fetch(self, citizen_ids: list[str], session: AsyncSession | None = None) -> dict[str, bytes]:
        raise KeyServiceUnavailable(self.why)


class FixedKeys:
    """Keys held in memory: tests and benchmarks that run a service without referral.
    `withheld` ids are refused as referral would refuse them."""

    def __init__(self, keys: dict[str, bytes] | None = None, *, derive: Callable[[str], bytes] | None = None) -> None:
        self.keys = dict(keys or {})
        self.derive = derive
        self.withheld: set[str] = set()
        self.calls = 0

    async def fetch(self, citizen_ids: list[str], session: AsyncSession | None = None) -> dict[str, bytes]:
        self.calls += 1
        found = {}
        for citizen_id in citizen_ids:
            if citizen_id in self.withheld:
                continue
            key = self.keys.get(citizen_id) or (self.derive(citizen_id) if self.derive else None)
            if key is not None:
                found[citizen_id] = key
        return found


def citizen_keys_for(settings, service_tokens) -> CitizenKeys:  # noqa: ANN001 - ServiceSettings, ServiceTokens
    """The key client of a service instance, from CITIZEN_KEYS_URL and its own credentials
    (missing credentials stop the start, as for any service that calls another)."""
    cache = KeyCache(settings.citizen_key_cache_size, settings.citizen_key_cache_seconds)
    if not settings.citizen_keys_url:
        source: KeySource = NoKeySource("CITIZEN_KEYS_URL is not set: sealed events wait until it is")
    else:
        source = HttpKeySource(settings.citizen_keys_url, service_tokens.httpx_auth())
    return CitizenKeys(source, cache, settings.org_id)
