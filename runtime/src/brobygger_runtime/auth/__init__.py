"""Identity and access (DESIGN.md section 9): bearer JWTs from trusted issuers.

- `require_trust_configuration(settings)`: the start-up check; TRUSTED_ISSUERS
  (issuer URL -> organisation) must be set, there is no "authentication off".
- `TokenVerifier`: signature by the issuer's published key (OIDC discovery ->
  JWKS, cached, fetched again on an unknown key id or expiry), issuer, audience,
  exp/nbf/iat, RS256/ES256/EdDSA only. The organisation comes from the issuer.
- `requires(*roles)`: the FastAPI dependency each route declares; with
  `Authenticator` (verifier + failed-authentication throttle) on the app.
- `ClientCredentialsTokenSource`: tokens for calls to other services.
"""

from brobygger_runtime.auth.caller import Caller
from brobygger_runtime.auth.client_credentials import ClientCredentialsTokenSource, TokenUnavailable
from brobygger_runtime.auth.roles import Role, roles_from_claims
from brobygger_runtime.auth.route_guard import Authenticator, requires
from brobygger_runtime.auth.signing_keys import ALLOWED_ALGORITHMS, IssuerUnavailable, SigningKeys
from brobygger_runtime.auth.throttle import FailureThrottle
from brobygger_runtime.auth.trust import (
    TrustConfiguration,
    TrustConfigurationError,
    parse_trusted_issuers,
    require_trust_configuration,
)
from brobygger_runtime.auth.verify import InvalidToken, TokenVerifier

__all__ = [
    "ALLOWED_ALGORITHMS",
    "Authenticator",
    "Caller",
    "ClientCredentialsTokenSource",
    "FailureThrottle",
    "InvalidToken",
    "IssuerUnavailable",
    "Role",
    "SigningKeys",
    "TokenUnavailable",
    "TokenVerifier",
    "TrustConfiguration",
    "TrustConfigurationError",
    "parse_trusted_issuers",
    "require_trust_configuration",
    "requires",
    "roles_from_claims",
]
