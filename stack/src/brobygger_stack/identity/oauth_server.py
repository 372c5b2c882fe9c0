"""authlib's OAuth 2.0 authorization server, adapted to Starlette, for one
organisation: the client credentials grant (services) and the authorization
code grant with PKCE S256 required (people). Access tokens are RFC 9068 JWTs
signed with the organisation's key, carrying `roles`, `aud` and `org` (the
latter for display only: services take the organisation from the issuer)."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Payload, OAuth2Request, grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from brobygger_stack.identity.accounts import Client, Person
from brobygger_stack.identity.signing_keys import ALGORITHM, RealmKeys

AUTHORIZATION_CODE_SECONDS = 60


@dataclass
class ReadRequest:
    """A Starlette request with its query and form already read, for authlib's synchronous code."""

    method: str
    url: str
    headers: Headers
    query: list[tuple[str, str]]
    form: list[tuple[str, str]]

    @classmethod
    async def of(cls, request: Request) -> "ReadRequest":
        form: list[tuple[str, str]] = []
        if request.method == "POST":
            form = [(k, v) for k, v in (await request.form()).multi_items() if isinstance(v, str)]
        return cls(request.method, str(request.url), request.headers, list(request.query_params.multi_items()), form)


class _Payload(OAuth2Payload):
    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in pairs:
            self._datalist[key].append(value)
        self._data = {key: values[0] for key, values in self._datalist.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class StarletteOAuth2Request(OAuth2Request):
    def __init__(self, read: ReadRequest) -> None:
        super().__init__(method=read.method, uri=read.url, headers=read.headers)
        self._args = dict(read.query)
        self._form = dict(read.form)
        self.payload = _Payload(read.query + read.form)

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


@dataclass
class AuthorizationCode:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    username: str
    code_challenge: str
    code_challenge_method: str
    auth_time: int
    expires_at: float
    nonce: str | None = None

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None

    def get_auth_time(self) -> int:
        return self.auth_time


class RequireS256(CodeChallenge):
    """PKCE for every authorization code, S256 only: no plain, no code without a challenge."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge with code_challenge_method=S256")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant: Any, result: Any) -> None:
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier' (PKCE is required)")
        super().validate_code_verifier(grant, result)


class IdTokens(OpenIDCode):
    """OpenID Connect: with `scope=openid` the token response also carries an
    ID token for the client (aud = client id), signed with the same key."""

    def __init__(self, server: "OrganisationServer") -> None:
        super().__init__(require_nonce=False)
        self.server = server

    def resolve_client_private_key(self, client: Client) -> Any:
        return self.server.keys.signing_set()

    def get_client_algorithm(self, client: Client) -> str:
        return ALGORITHM

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        return {"iss": self.server.issuer, "aud": [client.client_id], "exp": int(time.time()) + 300}

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        return any(c.nonce == nonce and c.client_id == request.payload.client_id for c in self.server.codes.values())

    def generate_user_info(self, user: Person, scope: str) -> UserInfo:
        info = UserInfo(sub=user.subject, name=user.display_name, preferred_username=user.username)
        if user.email and "email" in scope.split():
            info["email"] = user.email
        return info


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


class AccessTokenGenerator(JWTBearerTokenGenerator):
    def __init__(self, realm: "OrganisationServer", lifetime_seconds: int) -> None:
        super().__init__(issuer=realm.issuer, alg=ALGORITHM, expires_generator=lifetime_seconds)
        self.realm = realm

    def get_jwks(self) -> Any:
        return self.realm.keys.signing_set()

    def get_audiences(self, client: Client, user: Person | None, scope: str) -> str:
        return self.realm.audience

    def get_auth_time(self, user: Person | None) -> int | None:
        return None

    def get_extra_claims(self, client: Client, grant_type: str, user: Person | None, scope: str) -> dict[str, Any]:
        claims: dict[str, Any] = {"azp": client.client_id, "org": self.realm.org, "nbf": int(time.time())}
        if user is None:
            claims["roles"] = list(client.roles)
        else:
            claims["roles"] = list(user.roles)
            claims["name"] = user.display_name
            claims["preferred_username"] = user.username
            if user.email:
                claims["email"] = user.email
        return claims


class OrganisationServer(AuthorizationServer):
    """The authorization server of one organisation's issuer."""

    def __init__(
        self,
        org: str,
        issuer: str,
        audience: str,
        keys: RealmKeys,
        clients: dict[str, Client],
        people: dict[str, Person],
        token_lifetime_seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(scopes_supported=None)
        self.org = org
        self.issuer = issuer
        self.audience = audience
        self.keys = keys
        self.clients = clients
        self.people = people
        self.codes: dict[str, AuthorizationCode] = {}
        self._clock = clock
        self.register_token_generator("default", AccessTokenGenerator(self, token_lifetime_seconds))
        self.register_grant(ClientCredentialsGrant)
        self.register_grant(_authorization_code_grant(self), [RequireS256(required=True), IdTokens(self)])

    # authlib's framework hooks
    def query_client(self, client_id: str) -> Client | None:
        return self.clients.get(client_id)

    def save_token(self, token: dict, request: OAuth2Request) -> None:
        """Access tokens are self-contained JWTs and no refresh tokens are issued: nothing to keep."""

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        if isinstance(request, OAuth2Request):
            return request
        return StarletteOAuth2Request(request)

    def create_json_request(self, request: Any) -> Any:
        raise NotImplementedError("no JSON endpoints here")

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
        if isinstance(body, dict):
            return JSONResponse(body, status_code=status, headers=dict(headers))
        return Response(body or b"", status_code=status, headers=dict(headers))

    def forget_expired_codes(self) -> None:
        now = self._clock()
        for code in [c for c, item in self.codes.items() if item.expires_at <= now]:
            del self.codes[code]


def _authorization_code_grant(server: OrganisationServer) -> type[grants.AuthorizationCodeGrant]:
    class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

        def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
            server.forget_expired_codes()
            data = request.payload.data
            now = server._clock()
            server.codes[code] = AuthorizationCode(
                code=code,
                client_id=request.client.client_id,
                redirect_uri=data.get("redirect_uri", ""),
                scope=request.scope or "",
                username=request.user.username,
                code_challenge=data["code_challenge"],
                code_challenge_method=data.get("code_challenge_method", "S256"),
                auth_time=int(now),
                expires_at=now + AUTHORIZATION_CODE_SECONDS,
                nonce=data.get("nonce"),
            )

        def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
            item = server.codes.pop(code, None)  # one presentation only, even a failed one
            if item is None or item.client_id != client.client_id or item.expires_at <= server._clock():
                return None
            return item

        def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
            server.codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code: AuthorizationCode) -> Person | None:
            return server.people.get(authorization_code.username)

    return AuthorizationCodeGrant
