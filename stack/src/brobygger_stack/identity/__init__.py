"""The embedded OAuth 2.0 / OpenID Connect provider (DESIGN.md section 9):
one issuer URL and signing key per organisation (`/realms/<org>`), built on
authlib's authorization server. Services get tokens with the client
credentials grant; people log in with the authorization code grant and PKCE
(S256) against local accounts (argon2id password hashes). The embedded
default for local runs and tests; production trusts each organisation's own
provider."""

from brobygger_stack.identity.provider import DEFAULT_AUDIENCE, IdentityProvider
from brobygger_stack.identity.seed import DEMO_ORGANISATIONS, LOGIN_CLIENT, SERVICES, ClientSeed, PersonSeed

__all__ = ["DEFAULT_AUDIENCE", "DEMO_ORGANISATIONS", "LOGIN_CLIENT", "SERVICES", "ClientSeed", "IdentityProvider",
           "PersonSeed"]
