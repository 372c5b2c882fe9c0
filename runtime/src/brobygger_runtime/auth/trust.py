"""Which issuers a service trusts, and for which organisation each.

`TRUSTED_ISSUERS` is a JSON object, issuer URL -> organisation id, e.g.

    TRUSTED_ISSUERS='{"https://id.varde.dk/realms/varde-kommune": "varde-kommune",
                      "https://login.redcross.dk/realms/red-cross": "red-cross"}'

An issuer is trusted only for its own organisation: the organisation of a
caller is the one their token's issuer is listed for here, whatever the token
claims. There is no way to turn authentication off: a service whose trust
configuration is empty or unreadable refuses to start.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

_ORG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
_EXAMPLE = '{"https://id.example.org/realms/varde-kommune": "varde-kommune"}'


class TrustConfigurationError(RuntimeError):
    """The trust configuration is missing or wrong: the service must not start."""


@dataclass(frozen=True)
class TrustConfiguration:
    issuers: Mapping[str, str]
    """Issuer URL (exactly as in the tokens' `iss`) -> organisation id."""
    audience: str
    """What a token's `aud` must contain to be meant for these services."""
    plain_http_hosts: frozenset[str] = frozenset()
    """Hosts an operator allowed over plain http (a private container network,
    AUTH_PLAIN_HTTP_HOSTS); every other non-loopback issuer needs https."""

    def organisation_of(self, issuer: str) -> str | None:
        return self.issuers.get(issuer)

    def issuers_of(self, organisation: str) -> list[str]:
        return [iss for iss, org in self.issuers.items() if org == organisation]


def require_trust_configuration(settings: Any) -> TrustConfiguration:
    """The trust configuration of `settings` (`trusted_issuers`, `auth_audience`),
    or a TrustConfigurationError that says what is wrong and how to set it."""
    return parse_trusted_issuers(
        getattr(settings, "trusted_issuers", ""), getattr(settings, "auth_audience", ""),
        plain_http_hosts=parse_host_list(getattr(settings, "auth_plain_http_hosts", "")),
    )


def parse_host_list(raw: str | None) -> frozenset[str]:
    """`"keycloak, id.internal"` -> {"keycloak", "id.internal"}."""
    return frozenset(h.strip().lower() for h in (raw or "").split(",") if h.strip())


def parse_trusted_issuers(raw: str | Mapping[str, str] | None, audience: str,
                          plain_http_hosts: frozenset[str] = frozenset()) -> TrustConfiguration:
    if raw is None or (isinstance(raw, str) and not raw.strip()) or (isinstance(raw, Mapping) and not raw):
        raise TrustConfigurationError(
            "TRUSTED_ISSUERS is empty: authentication cannot be turned off. Set it to a JSON object "
            f"mapping each trusted issuer URL to its organisation, e.g. TRUSTED_ISSUERS='{_EXAMPLE}'"
        )
    if isinstance(raw, str):
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise TrustConfigurationError(
                f"TRUSTED_ISSUERS is not valid JSON ({exc.msg} at position {exc.pos}): authentication cannot be "
                f"turned off. Expected a JSON object issuer URL -> organisation, e.g. {_EXAMPLE}"
            ) from None
    else:
        parsed = dict(raw)
    if not isinstance(parsed, dict) or not parsed:
        raise TrustConfigurationError(
            "TRUSTED_ISSUERS must be a non-empty JSON object issuer URL -> organisation "
            f"(authentication cannot be turned off), e.g. {_EXAMPLE}"
        )
    issuers: dict[str, str] = {}
    for issuer, org in parsed.items():
        if not isinstance(org, str) or not _ORG.match(org):
            raise TrustConfigurationError(
                f"TRUSTED_ISSUERS: the organisation for {issuer!r} must be an organisation id "
                f"(lower-case letters, digits and dashes), not {org!r}"
            )
        problem = url_problem(issuer, plain_http_hosts)
        if problem:
            raise TrustConfigurationError(f"TRUSTED_ISSUERS: issuer {issuer!r} {problem}")
        issuers[issuer] = org
    if not audience or not audience.strip():
        raise TrustConfigurationError("AUTH_AUDIENCE is empty: tokens must name the audience they are meant for")
    return TrustConfiguration(issuers=issuers, audience=audience.strip(), plain_http_hosts=plain_http_hosts)


def url_problem(url: str, plain_http_hosts: frozenset[str] = frozenset()) -> str | None:
    """What is wrong with `url` as an issuer, key-set or token address, or None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "is not a URL"
    if not parts.hostname or parts.query or parts.fragment:
        return "must be an absolute URL without query or fragment"
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and is_loopback(parts.hostname):
        return None  # the embedded provider on this machine
    if parts.scheme == "http" and parts.hostname.lower() in plain_http_hosts:
        return None  # an operator's explicit exception for a private network
    return ("must use https (plain http only on loopback, for the embedded provider, "
            "or for a host named in AUTH_PLAIN_HTTP_HOSTS)")


def is_loopback(host: str) -> bool:
    """localhost or a loopback address (the embedded provider's home)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
