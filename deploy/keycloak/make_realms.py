"""Writes the Keycloak realm of each demo organisation: `python deploy/keycloak/make_realms.py`.

One realm per organisation (varde-kommune, red-cross, abf), each an issuer of
its own, `<KC_HOSTNAME>/realms/<org>`, trusted for that organisation only
(TRUSTED_ISSUERS). The people and service clients are those of the embedded
provider's seed (stack/src/brobygger_stack/identity/seed.py), so the compose
stack and `brobygger up` know the same logins. The output is committed and a
test (tests/deploy/test_keycloak_realms.py) checks it is up to date.

No secret is in the files: every client secret and password is a placeholder
`${NAME}` that Keycloak fills from its environment when it imports the realm at
start-up (`--import-realm`). Keycloak leaves a placeholder whose variable is
not set as it is, literally, so docker-compose.yml passes every one of them
with `${NAME:?...}`: the stack refuses to start without it.

The audience and roles mappers sit on each client rather than in a client
scope of the realm file: a realm file that lists any client scope gets none of
Keycloak's default ones (among them `basic`, which puts `sub` in the tokens).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from brobygger_runtime.auth.roles import Role
from brobygger_stack.identity.seed import (
    DEMO_ORGANISATIONS,
    LOGIN_CLIENT,
    ClientSeed,
    PersonSeed,
    console_clients,
    demo_clients,
    demo_people,
)

HERE = Path(__file__).parent
REALMS = HERE / "realms"
AUDIENCE = "brobygger"
"""What AUTH_AUDIENCE says: every access token names it in `aud`."""
ACCESS_TOKEN_LIFESPAN_SECONDS = 300
LOGIN_REDIRECT_URIS = ["http://127.0.0.1/*", "http://localhost/*"]
"""Loopback redirects of the command-line login (RFC 8252); Keycloak ignores the port of a loopback redirect."""
DISPLAY_NAMES = {"varde-kommune": "Varde Kommune", "red-cross": "Røde Kors (Red Cross)", "abf": "ABF"}
ROLE_DESCRIPTIONS = {
    Role.referrer: "submits referral cards; sees the status of their own cards only",
    Role.guide: "clarifies and accompanies the citizens of their own caseload",
    Role.coordinator: "sees and acts on the organisation's citizens",
    Role.volunteer: "sees only the citizens matched to them, and only what they need",
    Role.steering: "aggregates only, never a person",
    Role.operator: "metrics and dead letters, never a person",
    Role.service: "another Brobygger service, with a client-credentials token",
}


def variable(*parts: str) -> str:
    """An environment variable name: variable("varde-kommune", "notify", "client secret")
    -> VARDE_KOMMUNE_NOTIFY_CLIENT_SECRET."""
    return "_".join(re.sub(r"[^A-Za-z0-9]+", "_", part).strip("_").upper() for part in parts)


def client_secret_variable(org: str, client_id: str) -> str:
    return variable(org, client_id.removeprefix("brobygger-"), "client secret")


def password_variable(org: str, username: str) -> str:
    return variable(org, username, "password")


def placeholder(name: str) -> str:
    return "${" + name + "}"


def audience_mapper() -> dict:
    return {
        "name": f"audience {AUDIENCE}",
        "protocol": "openid-connect",
        "protocolMapper": "oidc-audience-mapper",
        "consentRequired": False,
        "config": {"included.custom.audience": AUDIENCE, "access.token.claim": "true",
                   "introspection.token.claim": "true", "id.token.claim": "false"},
    }


def roles_mapper() -> dict:
    """Realm roles as a top-level `roles` claim (Keycloak's own `realm_access.roles` stays too)."""
    return {
        "name": "realm roles as roles",
        "protocol": "openid-connect",
        "protocolMapper": "oidc-usermodel-realm-role-mapper",
        "consentRequired": False,
        "config": {"claim.name": "roles", "multivalued": "true", "jsonType.label": "String",
                   "access.token.claim": "true", "introspection.token.claim": "true",
                   "id.token.claim": "false", "userinfo.token.claim": "false"},
    }


def service_client(client: ClientSeed) -> dict:
    """A confidential client for one service: client credentials only."""
    return {
        "clientId": client.client_id,
        "name": client.client_id,
        "description": client.description,
        "enabled": True,
        "protocol": "openid-connect",
        "publicClient": False,
        "clientAuthenticatorType": "client-secret",
        "secret": placeholder(client_secret_variable(client.org, client.client_id)),
        "serviceAccountsEnabled": True,
        "standardFlowEnabled": False,
        "implicitFlowEnabled": False,
        "directAccessGrantsEnabled": False,
        "frontchannelLogout": False,
        "fullScopeAllowed": True,
        "protocolMappers": [audience_mapper(), roles_mapper()],
    }


def service_account(client: ClientSeed) -> dict:
    return {
        "username": f"service-account-{client.client_id}",
        "enabled": True,
        "serviceAccountClientId": client.client_id,
        "realmRoles": list(client.roles),
    }


def login_client() -> dict:
    """The public client people log in with: authorization code with PKCE (S256), loopback redirects."""
    return {
        "clientId": LOGIN_CLIENT,
        "name": "Brobygger login",
        "description": "people's logins from a terminal or a script (authorization code + PKCE)",
        "enabled": True,
        "protocol": "openid-connect",
        "publicClient": True,
        "standardFlowEnabled": True,
        "implicitFlowEnabled": False,
        "directAccessGrantsEnabled": False,
        "serviceAccountsEnabled": False,
        "redirectUris": LOGIN_REDIRECT_URIS,
        "webOrigins": [],
        "fullScopeAllowed": True,
        "attributes": {"pkce.code.challenge.method": "S256", "post.logout.redirect.uris": "+"},
        "protocolMappers": [audience_mapper(), roles_mapper()],
    }


def person(seed: PersonSeed) -> dict:
    """A demo person with a temporary password: Keycloak asks for a new one at the first login."""
    name = seed.display_name.split(" (")[0]
    first, _, last = name.partition(" ")
    # Keycloak's user profile asks for both names and refuses parentheses in them.
    last = last or seed.display_name.partition("(")[2].rstrip(")") or first
    return {
        "username": seed.username,
        "enabled": True,
        "email": seed.email,
        "emailVerified": True,
        "firstName": first,
        "lastName": last,
        "realmRoles": list(seed.roles),
        "credentials": [{"type": "password", "value": placeholder(password_variable(seed.org, seed.username)),
                         "temporary": True}],
    }


def realm(org: str) -> dict:
    # the services' clients, and the web console's (role referrer: its public referral page) at the home organisation
    clients = [c for c in demo_clients(DEMO_ORGANISATIONS) + console_clients(DEMO_ORGANISATIONS) if c.org == org]
    people = [p for p in demo_people(DEMO_ORGANISATIONS) if p.org == org]
    return {
        "realm": org,
        "displayName": DISPLAY_NAMES.get(org, org),
        "enabled": True,
        "sslRequired": "external",
        "registrationAllowed": False,
        "resetPasswordAllowed": False,
        "rememberMe": False,
        "loginWithEmailAllowed": True,
        "duplicateEmailsAllowed": False,
        "editUsernameAllowed": False,
        "passwordPolicy": "length(12) and notUsername",
        "bruteForceProtected": True,
        "permanentLockout": False,
        "failureFactor": 5,
        "waitIncrementSeconds": 60,
        "maxFailureWaitSeconds": 900,
        "minimumQuickLoginWaitSeconds": 60,
        "quickLoginCheckMilliSeconds": 1000,
        "maxDeltaTimeSeconds": 43200,
        "accessTokenLifespan": ACCESS_TOKEN_LIFESPAN_SECONDS,
        "roles": {"realm": [{"name": role.value, "description": ROLE_DESCRIPTIONS[role]} for role in Role]},
        "clients": [*(service_client(c) for c in clients), login_client()],
        "users": [*(person(p) for p in people), *(service_account(c) for c in clients)],
    }


def placeholders(org: str) -> list[str]:
    """The environment variables Keycloak needs to import this organisation's realm."""
    return re.findall(r"\$\{([A-Z0-9_]+)\}", render(org))


def render(org: str) -> str:
    return json.dumps(realm(org), indent=2, ensure_ascii=False) + "\n"


def path(org: str) -> Path:
    return REALMS / f"{org}-realm.json"


def main() -> None:
    REALMS.mkdir(parents=True, exist_ok=True)
    for org in DEMO_ORGANISATIONS:
        path(org).write_text(render(org))
        print(f"wrote {path(org).relative_to(HERE.parent.parent)}")


if __name__ == "__main__":
    main()
