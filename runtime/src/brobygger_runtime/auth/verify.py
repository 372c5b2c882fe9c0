"""Verifying a bearer JWT: signature by a trusted issuer's published key,
issuer, audience, expiry; the caller's organisation from the issuer."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import jwt
from jwt import exceptions as jwt_errors

from brobygger_runtime.auth.caller import Caller
from brobygger_runtime.auth.roles import Role, roles_from_claims
from brobygger_runtime.auth.signing_keys import ALLOWED_ALGORITHMS, SigningKeys
from brobygger_runtime.auth.trust import TrustConfiguration

LEEWAY_SECONDS = 30
"""Clock skew allowed between an issuer and a service for exp, nbf and iat."""
MAX_TOKEN_BYTES = 16_384


class InvalidToken(Exception):
    """The token is refused (answered 401); `reason` is safe to show the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TokenVerifier:
    def __init__(
        self,
        trust: TrustConfiguration,
        keys: SigningKeys | None = None,
        *,
        leeway_seconds: float = LEEWAY_SECONDS,
        algorithms: Iterable[str] = ALLOWED_ALGORITHMS,
    ) -> None:
        self.trust = trust
        self.algorithms = tuple(a for a in algorithms if a in ALLOWED_ALGORITHMS)
        self.keys = keys or SigningKeys(algorithms=self.algorithms, plain_http_hosts=trust.plain_http_hosts)
        self.leeway_seconds = leeway_seconds

    async def verify(self, token: str) -> Caller:
        """The caller a valid token speaks for, or InvalidToken saying why not.
        May raise IssuerUnavailable when a trusted issuer's keys cannot be fetched."""
        if len(token) > MAX_TOKEN_BYTES:
            raise InvalidToken("the token is too large")
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt_errors.PyJWTError:
            raise InvalidToken("the token is not a well-formed JWT") from None
        alg = header.get("alg")
        if alg not in self.algorithms:
            raise InvalidToken(
                f"the token's algorithm {str(alg)[:16]!r} is not accepted (accepted: {', '.join(self.algorithms)})"
            )
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("the token names no signing key (kid)")
        issuer = unverified.get("iss")
        if not isinstance(issuer, str) or not issuer:
            raise InvalidToken("the token names no issuer (iss)")
        organisation = self.trust.organisation_of(issuer)
        if organisation is None:
            # Checked before anything is fetched: keys come only from trusted issuers.
            raise InvalidToken(f"the token's issuer {issuer[:200]!r} is not trusted")
        key = await self.keys.key(issuer, kid)
        if key is None:
            raise InvalidToken("the token's signing key (kid) is not one its issuer publishes")
        claims = self._decode(token, key, alg, issuer)
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise InvalidToken("the token names no subject (sub)")
        roles = roles_from_claims(claims)
        client_id = _text(claims.get("azp")) or _text(claims.get("client_id"))
        display_name = None if Role.service in roles else (_text(claims.get("name")) or _text(claims.get("preferred_username")))
        return Caller(
            subject=subject,
            organisation=organisation,
            roles=roles,
            issuer=issuer,
            client_id=client_id,
            display_name=display_name,
        )

    def _decode(self, token: str, key: jwt.PyJWK, alg: str, issuer: str) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key=key,
                algorithms=[alg],
                audience=self.trust.audience,
                issuer=issuer,
                leeway=self.leeway_seconds,
                options={
                    "require": ["exp", "iat", "iss", "sub", "aud"],
                    "verify_signature": True,
                    "verify_exp": True,
                    "verify_nbf": True,
                    "verify_iat": True,
                    "verify_aud": True,
                    "verify_iss": True,
                },
            )
        except jwt_errors.ExpiredSignatureError:
            raise InvalidToken("the token has expired") from None
        except jwt_errors.ImmatureSignatureError:
            raise InvalidToken("the token is not valid yet (nbf or iat in the future)") from None
        except jwt_errors.InvalidAudienceError:
            raise InvalidToken(f"the token is not meant for this audience ({self.trust.audience})") from None
        except jwt_errors.InvalidIssuerError:
            raise InvalidToken("the token's issuer does not match") from None
        except jwt_errors.MissingRequiredClaimError as exc:
            raise InvalidToken(f"the token lacks the {exc.claim!r} claim") from None
        except jwt_errors.InvalidSignatureError:
            raise InvalidToken("the token's signature does not verify") from None
        except jwt_errors.InvalidAlgorithmError:
            raise InvalidToken("the token's algorithm does not match its signing key") from None
        except jwt_errors.PyJWTError as exc:
            raise InvalidToken(f"the token is invalid ({type(exc).__name__})") from None

    async def aclose(self) -> None:
        await self.keys.aclose()


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
