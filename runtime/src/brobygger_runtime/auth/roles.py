"""The roles of section 9 and where a token carries them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    referrer = "referrer"
    """Submits cards; sees only the status of the cards they submitted."""
    guide = "guide"
    """Clarifies and accompanies the citizens of their own caseload."""
    coordinator = "coordinator"
    """Sees and acts on their organisation's citizens."""
    volunteer = "volunteer"
    """Sees only the citizens matched to them, and only what they need."""
    steering = "steering"
    """Aggregates only, small cells suppressed; never a person."""
    operator = "operator"
    """Metrics and dead letters; never a person."""
    service = "service"
    """Another service calling with a client-credentials token."""


def roles_from_claims(claims: Mapping[str, Any]) -> frozenset[Role]:
    """The known roles in a token: a top-level `roles` claim (the embedded
    provider, Keycloak with a mapper, Entra ID app roles) and Keycloak's default
    `realm_access.roles`. Anything else (Keycloak's `offline_access`,
    `default-roles-…`) is not a role here and is ignored."""
    found: set[Role] = set()
    found.update(_known(claims.get("roles")))
    realm_access = claims.get("realm_access")
    if isinstance(realm_access, Mapping):
        found.update(_known(realm_access.get("roles")))
    return frozenset(found)


def _known(values: Any) -> Iterable[Role]:
    if isinstance(values, str):
        values = values.split()
    if not isinstance(values, list | tuple):
        return ()
    return (Role(v) for v in values if isinstance(v, str) and v in Role.__members__)
