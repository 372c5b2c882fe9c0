"""Who may call a route: `requires(*roles)` is a FastAPI dependency that
answers with the verified Caller, or refuses with

- 401 and `WWW-Authenticate: Bearer …` when the token is missing or invalid,
- 403 when the caller holds none of the route's roles,
- 429 with `Retry-After` once an address has failed to authenticate too often,
- 503 when a trusted issuer's keys cannot be fetched right now,

each with a JSON body `{"detail": {"error": …, "reason": …}}`.

The service installs one Authenticator on its app at start-up
(`Authenticator.from_settings(settings).install(app)`); without one every
guarded route fails closed."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from brobygger_runtime.auth.caller import Caller
from brobygger_runtime.auth.roles import Role
from brobygger_runtime.auth.signing_keys import IssuerUnavailable, SigningKeys
from brobygger_runtime.auth.throttle import FailureThrottle
from brobygger_runtime.auth.trust import require_trust_configuration
from brobygger_runtime.auth.verify import InvalidToken, TokenVerifier

log = logging.getLogger(__name__)

REALM = "brobygger"

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="An access token (JWT) from a trusted issuer: Authorization: Bearer <token>",
)


class Authenticator:
    """Everything one service needs to authenticate requests: the token
    verifier (trust configuration and key cache) and the failure throttle."""

    def __init__(self, verifier: TokenVerifier, throttle: FailureThrottle | None = None) -> None:
        self.verifier = verifier
        self.throttle = throttle or FailureThrottle()

    @classmethod
    def from_settings(cls, settings: Any, *, keys: SigningKeys | None = None,
                      throttle: FailureThrottle | None = None) -> "Authenticator":
        """Refuses (TrustConfigurationError) when the settings trust no issuer."""
        return cls(TokenVerifier(require_trust_configuration(settings), keys), throttle)

    def install(self, app: Any) -> "Authenticator":
        app.state.authenticator = self
        return self

    async def authenticate(self, request: Request) -> Caller:
        # A valid token always passes: many people may share one address (an
        # office's proxy), and one of them guessing must not lock out the rest.
        # What an address that keeps failing gets is 429 instead of 401.
        address = request.client.host if request.client else "unknown"
        token = _bearer_token(request)
        if token is None:
            self._refuse_failure(address)
            raise refusal(401, "missing_token", "this route needs Authorization: Bearer <access token>",
                           {"WWW-Authenticate": f'Bearer realm="{REALM}"'})
        try:
            caller = await self.verifier.verify(token)
        except InvalidToken as exc:
            self._refuse_failure(address)
            raise refusal(401, "invalid_token", exc.reason, {"WWW-Authenticate": _challenge("invalid_token", exc.reason)})
        except IssuerUnavailable as exc:
            log.warning("%s", exc)
            raise refusal(503, "issuer_unavailable", "the token's issuer cannot be reached to fetch its keys; try again",
                           {"Retry-After": "5"})
        request.state.caller = caller
        return caller

    def _refuse_failure(self, address: str) -> None:
        """Count a failed authentication; 429 once the address has failed too often."""
        wait = self.throttle.retry_after(address)
        if wait is not None:
            raise refusal(
                429, "too_many_failed_authentications",
                f"too many failed authentications from this address; try again in {wait} s",
                {"Retry-After": str(wait)},
            )
        self.throttle.record_failure(address)

    async def aclose(self) -> None:
        await self.verifier.aclose()


def requires(*roles: Role | str) -> Callable[..., Awaitable[Caller]]:
    """A dependency admitting callers that hold any of `roles` (any
    authenticated caller when none are named):

        @router.get("/journeys/{citizen_id}")
        async def journey(caller: Caller = Depends(requires(Role.guide, Role.coordinator))): ...
    """
    admitted = frozenset(Role(r) for r in roles)  # an unknown role name fails at import, not at request time

    async def authenticated_caller(
        request: Request,
        _credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),  # noqa: B008 - documents the scheme in OpenAPI
    ) -> Caller:
        authenticator = getattr(request.app.state, "authenticator", None)
        if authenticator is None:
            raise RuntimeError("no Authenticator installed on this app: refusing every guarded route")
        caller = await authenticator.authenticate(request)
        if admitted and not (caller.roles & admitted):
            wanted = ", ".join(sorted(admitted))
            held = ", ".join(sorted(caller.roles)) or "no role"
            raise refusal(
                403, "insufficient_role", f"this route admits {wanted}; the caller holds {held}",
                {"WWW-Authenticate": _challenge("insufficient_scope", f"needs one of: {wanted}")},
                required_roles=sorted(admitted), roles=sorted(caller.roles),
            )
        return caller

    authenticated_caller.admitted_roles = admitted  # type: ignore[attr-defined] - read by the route matrix test
    return authenticated_caller


def _bearer_token(request: Request) -> str | None:
    value = request.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _challenge(error: str, description: str) -> str:
    safe = "".join(c for c in description if c not in '"\\' and 0x20 <= ord(c) < 0x7F)[:200]
    return f'Bearer realm="{REALM}", error="{error}", error_description="{safe}"'


def refusal(status: int, error: str, reason: str, headers: dict[str, str] | None = None, **more: Any) -> HTTPException:
    """A refusal as every service answers one: `{"detail": {"error": …, "reason": …}}`."""
    return HTTPException(status_code=status, detail={"error": error, "reason": reason, **more}, headers=headers)


def require_own_organisation(caller: Caller, org_id: str, reason: str, error: str = "not_this_organisation") -> None:
    """403 unless the caller acts for `org_id`, the organisation running this instance
    (its registries, its delivery log, its access log)."""
    if caller.organisation != org_id:
        raise refusal(403, error, reason)


OPEN_PATHS = frozenset({"/health/live", "/health/ready", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect",
                        "/redoc"})
"""The only routes without a token: probes, metrics and the API's own documentation."""


def admitted_roles(route: Any) -> frozenset[Role] | None:
    """The roles a route's `requires(...)` admits (empty: any authenticated
    caller), or None when no dependency of the route checks a token."""
    pending = [getattr(route, "dependant", None)]
    while pending:
        dependant = pending.pop()
        if dependant is None:
            continue
        roles = getattr(dependant.call, "admitted_roles", None)
        if roles is not None:
            return roles
        pending.extend(dependant.dependencies)
    return None


def route_policies(app: Any) -> list[tuple[str, str, frozenset[Role] | None]]:
    """(method, path, admitted roles or None) for every route of `app` outside OPEN_PATHS."""
    policies = []
    for path, route in _flat_routes(app.routes):
        if path in OPEN_PATHS or not getattr(route, "methods", None):
            continue
        for method in sorted(route.methods - {"HEAD"}):
            policies.append((method, path, admitted_roles(route)))
    return policies


def _flat_routes(routes: Any) -> Any:
    """(full path, route); FastAPI keeps included routers as wrappers that list their routes lazily."""
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            for context in contexts():
                yield context.path, context.original_route
        else:
            yield getattr(route, "path", ""), route
