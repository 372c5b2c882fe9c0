"""Local accounts of one organisation's embedded issuer: people (username and
password, hashed with argon2id) and OAuth clients (services with a client
secret, and the public login client that people use with PKCE)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from authlib.oauth2.rfc6749 import ClientMixin

from brobygger_runtime.auth.trust import is_loopback

ALLOWED_SCOPES = frozenset({"openid", "profile", "email", "roles"})


def default_password_hasher() -> PasswordHasher:
    """argon2id with OWASP's minimum profile (19 MiB, 2 passes): enough for
    local demo accounts without making a login take a second on a small machine."""
    return PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


@dataclass
class Person:
    username: str
    display_name: str
    roles: tuple[str, ...]
    password_hash: str
    email: str | None = None

    @property
    def subject(self) -> str:
        return self.username

    def get_user_id(self) -> str:  # authlib's user protocol
        return self.subject


def secret_digest(secret: str) -> str:
    """Client secrets are 256-bit random strings, so a plain SHA-256 stored and
    compared in constant time is enough (a slow hash is for guessable passwords)."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class Client(ClientMixin):
    client_id: str
    roles: tuple[str, ...] = ()
    """Roles of the tokens this client gets for itself (client credentials)."""
    secret_digest: str | None = None
    """None for a public client (people's logins, PKCE only)."""
    grant_types: tuple[str, ...] = ("client_credentials",)
    redirect_uris: tuple[str, ...] = ()
    description: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_public(self) -> bool:
        return self.secret_digest is None

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if len(self.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return ""
        return " ".join(s for s in scope.split() if s in ALLOWED_SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return any(_redirect_matches(registered, redirect_uri) for registered in self.redirect_uris)

    def check_client_secret(self, client_secret: str) -> bool:
        if self.secret_digest is None:
            return False
        return hmac.compare_digest(self.secret_digest, secret_digest(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.is_public:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


def _redirect_matches(registered: str, requested: str) -> bool:
    """Exact match, or (RFC 8252 section 7.3) a loopback redirect registered
    without a port matches the same address and path on any port."""
    if registered == requested:
        return True
    reg, req = urlsplit(registered), urlsplit(requested)
    if reg.scheme != "http" or req.scheme != "http" or reg.port is not None:
        return False
    if reg.hostname != req.hostname or not is_loopback(req.hostname or ""):
        return False
    return reg.path == req.path and not req.fragment and reg.query == req.query


class PasswordCheck:
    """Checks a username and password against a realm's people, spending the
    same argon2 work whether or not the username exists."""

    def __init__(self, hasher: PasswordHasher) -> None:
        self.hasher = hasher
        self._dummy = hasher.hash("not a password anyone has")

    def verify(self, person: Person | None, password: str) -> bool:
        try:
            return self.hasher.verify(person.password_hash if person else self._dummy, password) and person is not None
        except (VerificationError, InvalidHashError):
            return False
