"""The embedded identity provider: one issuer per organisation on one
loopback port, served by uvicorn in a background thread.

    provider = IdentityProvider(workdir=Path(".brobygger")).start()
    provider.trusted_issuers()   # -> TRUSTED_ISSUERS for the services
    print(provider.logins_table())
    provider.stop()

It is the embedded default for local runs and tests only; production trusts
each organisation's own provider (Keycloak in docker-compose.yml)."""

from __future__ import annotations

import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import uvicorn
from argon2 import PasswordHasher

from brobygger_stack.identity.accounts import Client, PasswordCheck, Person, default_password_hasher, secret_digest
from brobygger_stack.identity.app import build_app
from brobygger_stack.identity.oauth_server import OrganisationServer
from brobygger_stack.identity.seed import (
    DEMO_ORGANISATIONS,
    LOGIN_CLIENT,
    LOGIN_REDIRECTS,
    ClientSeed,
    Credentials,
    PersonSeed,
    console_clients,
    demo_clients,
    demo_people,
)
from brobygger_stack.identity.signing_keys import RealmKeys

DEFAULT_AUDIENCE = "brobygger"


class IdentityProvider:
    def __init__(
        self,
        *,
        organisations: tuple[str, ...] = DEMO_ORGANISATIONS,
        host: str = "127.0.0.1",
        port: int = 0,
        workdir: Path | None = None,
        audience: str = DEFAULT_AUDIENCE,
        token_lifetime_seconds: int = 300,
        people: list[PersonSeed] | None = None,
        clients: list[ClientSeed] | None = None,
        password_hasher: PasswordHasher | None = None,
    ) -> None:
        """`workdir`: keys and generated logins are kept in `<workdir>/identity/`
        (0600); without one they live in memory only. `password_hasher`: a
        cheaper argon2 profile for tests; the default is OWASP's minimum."""
        self.organisations = tuple(organisations)
        self.host = host
        self.port = port
        self.dir = workdir / "identity" if workdir is not None else None
        self.audience = audience
        self.token_lifetime_seconds = token_lifetime_seconds
        self.people_seed = demo_people(self.organisations) if people is None else people
        self.clients_seed = (demo_clients(self.organisations) + console_clients(self.organisations)
                             if clients is None else clients)
        self.hasher = password_hasher or default_password_hasher()
        self.password_check = PasswordCheck(self.hasher)
        self.credentials = Credentials(self.dir / "logins.json" if self.dir else None)
        self.realms: dict[str, OrganisationServer] = {}
        self.jwks_requests = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def issuer(self, org: str) -> str:
        return f"{self.base_url}/realms/{org}"

    def token_endpoint(self, org: str) -> str:
        return f"{self.issuer(org)}/protocol/openid-connect/token"

    def trusted_issuers(self, organisations: tuple[str, ...] | None = None) -> dict[str, str]:
        """TRUSTED_ISSUERS for a service that trusts these organisations (default all)."""
        return {self.issuer(org): org for org in (organisations or self.organisations)}

    def trusted_issuers_json(self, organisations: tuple[str, ...] | None = None) -> str:
        return json.dumps(self.trusted_issuers(organisations))

    def start(self, timeout_seconds: float = 15.0) -> "IdentityProvider":
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        self._build_realms()
        config = uvicorn.Config(build_app(self), log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name="identity-provider", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout_seconds
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the embedded identity provider did not start on {self.base_url}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> "IdentityProvider":
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def client_secret(self, org: str, client_id: str) -> str:
        return self.credentials.client_secrets[org][client_id]

    def password(self, org: str, username: str) -> str:
        return self.credentials.passwords[org][username]

    def issue_token(self, org: str, roles: tuple[str, ...] | list[str], *, subject: str | None = None,
                    name: str | None = None, client_id: str = LOGIN_CLIENT) -> str:
        """An access token exactly as `org`'s issuer hands one out after a login,
        for a person with `roles` (or, with `client_id` of a service client and
        no subject, for that client), without the browser round trip.

        For tests and local tools on this machine only: whoever holds the
        provider object holds its signing keys anyway. Services cannot tell
        these tokens from any other of the issuer's: they verify them the same way."""
        realm = self.realms[org]
        client = realm.clients.get(client_id) or Client(client_id, roles=tuple(roles))
        user = None
        if subject is not None or client_id == LOGIN_CLIENT:
            subject = subject or f"{'-'.join(roles) or 'nobody'}-{org}"
            user = Person(subject, name or subject, tuple(roles), password_hash="")
        else:
            client = Client(client.client_id, roles=tuple(roles))
        grant = "authorization_code" if user is not None else "client_credentials"
        token = realm.generate_token(grant, client, user=user, scope="openid", include_refresh_token=False)
        return token["access_token"]

    def rotate_key(self, org: str) -> str:
        """Sign with a new key from now on (the previous one stays published); returns its kid."""
        return self.realms[org].keys.rotate()

    def logins_table(self) -> str:
        rows = [("organisation", "role", "username", "password", "name")]
        for person in self.people_seed:
            rows.append((person.org, ",".join(person.roles), person.username,
                         self.credentials.password(person.org, person.username), person.display_name))
        lines = _table(rows)
        lines.append("")
        lines.append(f"People log in with the public client {LOGIN_CLIENT!r} (authorization code + PKCE S256,")
        lines.append("redirect to http://127.0.0.1:<any port>/callback). Issuers:")
        lines += [f"  {org}: {self.issuer(org)}" for org in self.organisations]
        lines.append(f"Service clients (client credentials) and their secrets: {self._where()}")
        return "\n".join(lines)

    def _where(self) -> str:
        return str(self.credentials.path) if self.credentials.path else "in memory (no work directory)"

    def _build_realms(self) -> None:
        if self.dir is not None:
            self.dir.mkdir(parents=True, exist_ok=True)
            self.dir.chmod(0o700)
        passwords = [self.credentials.password(p.org, p.username) for p in self.people_seed]
        with ThreadPoolExecutor(max_workers=2) as pool:  # argon2 releases the GIL
            hashes = list(pool.map(self.hasher.hash, passwords))
        people: dict[str, dict[str, Person]] = {org: {} for org in self.organisations}
        for seed, password_hash in zip(self.people_seed, hashes, strict=True):
            people[seed.org][seed.username] = Person(seed.username, seed.display_name, seed.roles, password_hash, seed.email)
        clients: dict[str, dict[str, Client]] = {org: {} for org in self.organisations}
        for seed in self.clients_seed:
            secret = self.credentials.client_secret(seed.org, seed.client_id)
            clients[seed.org][seed.client_id] = Client(
                seed.client_id, roles=seed.roles, secret_digest=secret_digest(secret),
                grant_types=("client_credentials",), description=seed.description,
            )
        for org in self.organisations:
            clients[org][LOGIN_CLIENT] = Client(
                LOGIN_CLIENT, grant_types=("authorization_code",), redirect_uris=LOGIN_REDIRECTS,
                description="people's logins (public client, PKCE)",
            )
            keys = RealmKeys(self.dir / "keys" / f"{org}.json" if self.dir else None)
            self.realms[org] = OrganisationServer(
                org, self.issuer(org), self.audience, keys, clients[org], people[org], self.token_lifetime_seconds,
            )
        self.credentials.save()


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
