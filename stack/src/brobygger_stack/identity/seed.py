"""Who exists in the embedded issuers: the demo partnership's people and one
service client per service per organisation, with generated passwords and
secrets kept in `<workdir>/identity/logins.json` (0600) so that they survive a
restart and can be printed as a logins table."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

SERVICES = ("referral", "matching", "journey", "notify")
DEMO_ORGANISATIONS = ("varde-kommune", "red-cross", "abf")
"""The partnership of the demo (stack.PARTNERSHIP_ORGS): Varde municipality,
Red Cross (volunteer friends) and ABF (study circles)."""
LOGIN_CLIENT = "brobygger-cli"
"""The public client people log in with (authorization code + PKCE, loopback redirect)."""
LOGIN_REDIRECTS = ("http://127.0.0.1/callback", "http://localhost/callback")
CONSOLE_CLIENT = "brobygger-console"
"""The web console's own confidential client: role referrer, for the public page where relatives and citizens
themselves refer (a card naming no organisation); people's pages use each person's own login."""


@dataclass(frozen=True)
class PersonSeed:
    org: str
    username: str
    display_name: str
    roles: tuple[str, ...]
    email: str | None = None


@dataclass(frozen=True)
class ClientSeed:
    org: str
    client_id: str
    roles: tuple[str, ...]
    description: str


_PEOPLE_PER_ORG = {
    "varde-kommune": [("anne", "Anne Holm", "guide"), ("karin", "Karin Ek", "guide"),
                      ("mette", "Mette Lund", "coordinator"), ("jens", "Jens Bak", "volunteer")],
    "red-cross": [("lone", "Lone Dahl", "guide"), ("birgit", "Birgit Vang", "coordinator"),
                  ("ole", "Ole Friis", "volunteer")],
    "abf": [("sofie", "Sofie Kjær", "guide"), ("lars", "Lars Juhl", "coordinator"),
            ("kirsten", "Kirsten Moos", "volunteer")],
}
_MAIL_DOMAIN = {"varde-kommune": "varde.example", "red-cross": "redcross.example", "abf": "abf.example"}


def demo_people(organisations: tuple[str, ...] = DEMO_ORGANISATIONS) -> list[PersonSeed]:
    """A guide, a coordinator and a volunteer per organisation; the municipality
    also has a referrer (home care), a steering-group member and an operator."""
    people: list[PersonSeed] = []
    if not organisations:
        return people
    for org in organisations:
        domain = _MAIL_DOMAIN.get(org, f"{org}.example")
        for username, name, role in _PEOPLE_PER_ORG.get(org, [(f"{role}-{org}", f"{role.title()} ({org})", role)
                                                             for role in ("guide", "coordinator", "volunteer")]):
            people.append(PersonSeed(org, username, name, (role,), f"{username}@{domain}"))
    home = organisations[0]
    domain = _MAIL_DOMAIN.get(home, f"{home}.example")
    people += [
        PersonSeed(home, "hanne", "Hanne Vester (hjemmeplejen)", ("referrer",), f"hanne@{domain}"),
        PersonSeed(home, "peter", "Peter Lind (styregruppen)", ("steering",), f"peter@{domain}"),
        PersonSeed(home, "drift", "Drift (operations)", ("operator",), f"drift@{domain}"),
    ]
    return people


def demo_clients(organisations: tuple[str, ...] = DEMO_ORGANISATIONS) -> list[ClientSeed]:
    """One confidential client per service per organisation (client credentials, role `service`)."""
    return [
        ClientSeed(org, f"brobygger-{service}", ("service",), f"the {service} service of {org}")
        for org in organisations
        for service in SERVICES
    ]


class Credentials:
    """Generated passwords and client secrets, organisation -> name -> secret,
    kept in a 0600 file when there is a work directory."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.passwords: dict[str, dict[str, str]] = {}
        self.client_secrets: dict[str, dict[str, str]] = {}
        if path is not None and path.exists():
            stored = json.loads(path.read_text())
            self.passwords = stored.get("passwords", {})
            self.client_secrets = stored.get("client_secrets", {})

    def password(self, org: str, username: str) -> str:
        return self.passwords.setdefault(org, {}).setdefault(username, _password())

    def client_secret(self, org: str, client_id: str) -> str:
        return self.client_secrets.setdefault(org, {}).setdefault(client_id, secrets.token_urlsafe(32))

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"passwords": self.passwords, "client_secrets": self.client_secrets}, f, indent=2)
        os.chmod(self.path, 0o600)


def _password() -> str:
    """Readable but strong: four groups of five letters and digits (about 100 bits)."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4))


def console_clients(organisations: tuple[str, ...] = DEMO_ORGANISATIONS) -> list[ClientSeed]:
    """The console's client at the first (home) organisation: it sends the public page's cards."""
    return [ClientSeed(org, CONSOLE_CLIENT, ("referrer",), "the web console's public referral page")
            for org in organisations[:1]]
