"""Bearer tokens from trusted issuers (DESIGN.md section 9), verified by the
runtime against the real embedded identity provider over HTTP on loopback.

The provider serves three organisations; the service under test trusts two of
them (varde-kommune, red-cross), so abf's issuer is a real but untrusted one."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from argon2 import PasswordHasher
from fastapi import Depends, FastAPI

from brobygger_runtime.auth import (
    Authenticator,
    Caller,
    ClientCredentialsTokenSource,
    FailureThrottle,
    InvalidToken,
    Role,
    SigningKeys,
    TokenUnavailable,
    TokenVerifier,
    TrustConfigurationError,
    parse_trusted_issuers,
    require_trust_configuration,
    requires,
    roles_from_claims,
)
from brobygger_runtime.settings import ServiceSettings
from brobygger_stack.identity import LOGIN_CLIENT, IdentityProvider

TRUSTED = ("varde-kommune", "red-cross")
AUDIENCE = "brobygger"


@pytest.fixture(scope="module")
def provider() -> Iterator[IdentityProvider]:
    # A cheap argon2 profile keeps seeding fast; the hashing itself is the real one.
    idp = IdentityProvider(password_hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)).start()
    yield idp
    idp.stop()


@pytest.fixture(scope="module")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """One client for every fetch of keys and tokens (building one costs more than a verification)."""
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


def settings_for(provider: IdentityProvider) -> ServiceSettings:
    return ServiceSettings(service_name="journey", trusted_issuers=provider.trusted_issuers_json(TRUSTED))


def service_app(provider: IdentityProvider, http: httpx.AsyncClient) -> tuple[FastAPI, Authenticator]:
    """A service-like app with routes guarded as the services' routes will be."""
    app = FastAPI()
    authenticator = Authenticator.from_settings(settings_for(provider), keys=SigningKeys(http=http)).install(app)

    def described(caller: Caller) -> dict:
        return {"subject": caller.subject, "organisation": caller.organisation, "roles": sorted(caller.roles),
                "issuer": caller.issuer, "client_id": caller.client_id, "display_name": caller.display_name}

    @app.get("/whoami")
    async def whoami(caller: Caller = Depends(requires())) -> dict:
        return described(caller)

    @app.get("/journeys")
    async def journeys(caller: Caller = Depends(requires(Role.guide, Role.coordinator))) -> dict:
        return described(caller)

    @app.get("/internal")
    async def internal(caller: Caller = Depends(requires(Role.service))) -> dict:
        return described(caller)

    return app, authenticator


def client_of(app: FastAPI, address: str = "127.0.0.1") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 40000)), base_url="http://service")


async def service_token(provider: IdentityProvider, http: httpx.AsyncClient, org: str, service: str = "journey") -> str:
    client_id = f"brobygger-{service}"
    source = ClientCredentialsTokenSource(provider.issuer(org), client_id, provider.client_secret(org, client_id),
                                          http=http)
    return await source.token()


def signed(provider: IdentityProvider, org: str, /, **overrides: object) -> str:
    """A token signed with `org`'s real current key, claims as the provider
    would write them, with `overrides` (None removes a claim)."""
    now = int(time.time())
    claims: dict[str, object] = {"iss": provider.issuer(org), "sub": "anne", "aud": AUDIENCE, "iat": now,
                                 "nbf": now, "exp": now + 300, "roles": ["guide"], "org": org, "azp": LOGIN_CLIENT}
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    keys = provider.realms[org].keys
    return jwt.encode(claims, keys.current.private_key, algorithm="RS256", headers={"kid": keys.kid})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged(header: dict, claims: dict, signature: bytes = b"") -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}.{b64(signature)}"


async def refused_with(app: FastAPI, token: str, path: str = "/whoami") -> httpx.Response:
    async with client_of(app) as service:
        answer = await service.get(path, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401, answer.text
    assert answer.headers["WWW-Authenticate"].startswith('Bearer realm="brobygger", error="invalid_token"')
    assert answer.json()["detail"]["error"] == "invalid_token"
    return answer


def _claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


# --- accepted ---------------------------------------------------------------------------------------------------


async def test_client_credentials_token_verifies_with_the_issuers_organisation_and_roles(provider, http):
    app, _ = service_app(provider, http)
    token = await service_token(provider, http, "red-cross", "matching")
    async with client_of(app) as service:
        answer = await service.get("/internal", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "subject": "brobygger-matching", "organisation": "red-cross", "roles": ["service"],
        "issuer": provider.issuer("red-cross"), "client_id": "brobygger-matching", "display_name": None,
    }


async def test_token_source_caches_and_fetches_again_before_expiry(provider, http):
    now = [1000.0]
    client_id = "brobygger-notify"
    secret = provider.client_secret("varde-kommune", client_id)
    source = ClientCredentialsTokenSource(provider.issuer("varde-kommune"), client_id, secret, clock=lambda: now[0],
                                          http=http)
    first = await source.token()
    assert await source.token() == first and source.fetches == 1
    lifetime = _claims_of(first)["exp"] - _claims_of(first)["iat"]
    now[0] += lifetime - 31  # just outside the 30 s refresh margin
    assert await source.token() == first and source.fetches == 1
    now[0] += 2  # inside it
    await source.token()
    assert source.fetches == 2
    assert secret not in repr(source)


async def test_token_source_retries_once_with_a_fresh_token_after_401(provider, http):
    app, _ = service_app(provider, http)
    client_id = "brobygger-referral"
    source = ClientCredentialsTokenSource(provider.issuer("varde-kommune"), client_id,
                                          provider.client_secret("varde-kommune", client_id), http=http)
    await source.token()
    source._token = signed(provider, "varde-kommune", exp=int(time.time()) - 600)  # a cached token gone stale
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service",
                                 auth=source.httpx_auth()) as service:
        answer = await service.get("/internal")
    assert answer.status_code == 200 and answer.json()["organisation"] == "varde-kommune"
    assert source.fetches == 2


async def test_token_source_says_why_when_the_issuer_refuses(provider, http):
    source = ClientCredentialsTokenSource(provider.issuer("varde-kommune"), "brobygger-journey", "not-the-secret",
                                          http=http)
    with pytest.raises(TokenUnavailable, match="invalid_client"):
        await source.token()


async def log_in(http: httpx.AsyncClient, provider: IdentityProvider, org: str, username: str) -> httpx.Response:
    """What a browser and a CLI do together: authorization request with PKCE
    S256, the login form filled in and posted, the code exchanged at the token endpoint."""
    verifier = secrets.token_urlsafe(48)
    challenge = b64(hashlib.sha256(verifier.encode()).digest())
    issuer = provider.issuer(org)
    redirect = "http://127.0.0.1:53682/callback"
    form_page = await http.get(f"{issuer}/protocol/openid-connect/auth", params={
        "response_type": "code", "client_id": LOGIN_CLIENT, "redirect_uri": redirect, "scope": "openid profile",
        "state": "s-123", "code_challenge": challenge, "code_challenge_method": "S256"})
    assert form_page.status_code == 200, form_page.text
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form_page.text))
    action = re.search(r'<form method="post" action="([^"]+)"', form_page.text).group(1)
    fields.update(username=username, password=provider.password(org, username))
    redirected = await http.post(f"{provider.base_url}{action}", data=fields)
    assert redirected.status_code == 302, redirected.text
    location = urlsplit(redirected.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect
    query = parse_qs(location.query)
    assert query["state"] == ["s-123"]
    return await http.post(f"{issuer}/protocol/openid-connect/token", data={
        "grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": redirect,
        "client_id": LOGIN_CLIENT, "code_verifier": verifier})


async def test_person_logs_in_with_authorization_code_and_pkce_and_is_a_guide_of_their_organisation(provider, http):
    tokens = await log_in(http, provider, "varde-kommune", "anne")
    issuer = provider.issuer("varde-kommune")
    assert tokens.status_code == 200, tokens.text
    app, _ = service_app(provider, http)
    async with client_of(app) as service:
        answer = await service.get("/journeys", headers={"Authorization": f"Bearer {tokens.json()['access_token']}"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"subject": "anne", "organisation": "varde-kommune", "roles": ["guide"], "issuer": issuer,
                             "client_id": LOGIN_CLIENT, "display_name": "Anne Holm"}


async def test_the_organisation_comes_from_the_issuer_never_from_a_claim(provider, http):
    """varde-kommune's issuer signs a token that claims to be red-cross's, in
    every claim a careless verifier might read: the caller is varde-kommune."""
    app, _ = service_app(provider, http)
    token = signed(provider, "varde-kommune", org="red-cross", organisation="red-cross", tenant="red-cross",
                   azp="brobygger-red-cross")
    async with client_of(app) as service:
        answer = await service.get("/whoami", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    assert answer.json()["organisation"] == "varde-kommune"


async def test_keycloak_realm_roles_are_read_and_unknown_roles_ignored(provider, http):
    assert roles_from_claims({"realm_access": {"roles": ["coordinator", "offline_access", "default-roles-x"]}}) == {
        Role.coordinator}
    assert roles_from_claims({"roles": "guide volunteer", "realm_access": {"roles": ["steering"]}}) == {
        Role.guide, Role.volunteer, Role.steering}
    assert roles_from_claims({"roles": [{"name": "operator"}, 7]}) == frozenset()
    app, _ = service_app(provider, http)
    token = signed(provider, "red-cross", roles=None, realm_access={"roles": ["coordinator", "uma_authorization"]})
    async with client_of(app) as service:
        answer = await service.get("/journeys", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.json()["roles"] == ["coordinator"]


async def test_a_rotated_key_is_fetched_on_its_unknown_kid_and_made_up_kids_do_not_hammer_the_issuer(provider, http):
    keys = SigningKeys(http=http)
    verifier = TokenVerifier(parse_trusted_issuers(provider.trusted_issuers_json(TRUSTED), AUDIENCE), keys)
    try:
        await verifier.verify(signed(provider, "red-cross"))
        assert keys.fetches == 1
        old_kid = provider.realms["red-cross"].keys.kid
        new_kid = provider.rotate_key("red-cross")
        assert new_kid != old_kid
        caller = await verifier.verify(await service_token(provider, http, "red-cross"))
        assert caller.organisation == "red-cross" and keys.fetches == 2
        header = jwt.get_unverified_header(signed(provider, "red-cross"))
        assert header["kid"] == new_kid
        # A token naming a key id nobody publishes, right after: refused without another fetch.
        claims = _claims_of(signed(provider, "red-cross"))
        with pytest.raises(InvalidToken, match="signing key"):
            await verifier.verify(jwt.encode(claims, provider.realms["red-cross"].keys.current.private_key, algorithm="RS256",
                                             headers={"kid": "made-up"}))
        assert keys.fetches == 2
    finally:
        await verifier.aclose()


# --- refused ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("claims", "reason"), [
    ({"exp": int(time.time()) - 120}, "expired"),
    ({"aud": "some-other-api"}, "not meant for this audience"),
    ({"aud": None}, "'aud'"),
    ({"exp": None}, "'exp'"),
    ({"iat": None}, "'iat'"),
    ({"sub": None}, "'sub'"),
    ({"nbf": int(time.time()) + 600}, "not valid yet"),
    ({"iat": int(time.time()) + 600}, "not valid yet"),
])
async def test_claims_that_are_refused(provider, http, claims, reason):
    app, _ = service_app(provider, http)
    answer = await refused_with(app, signed(provider, "varde-kommune", **claims))
    assert reason in answer.json()["detail"]["reason"]


async def test_small_clock_skew_is_tolerated(provider, http):
    app, _ = service_app(provider, http)
    token = signed(provider, "varde-kommune", exp=int(time.time()) - 5, iat=int(time.time()) + 5)
    async with client_of(app) as service:
        assert (await service.get("/whoami", headers={"Authorization": f"Bearer {token}"})).status_code == 200


async def test_a_token_from_an_untrusted_issuer_is_refused(provider, http):
    """abf's issuer is real and its token is valid, but this service does not trust it."""
    app, authenticator = service_app(provider, http)
    answer = await refused_with(app, await service_token(provider, http, "abf"))
    assert "is not trusted" in answer.json()["detail"]["reason"]
    assert authenticator.verifier.keys.fetches == 0  # nothing fetched from an untrusted issuer


async def test_an_untrusted_key_cannot_sign_for_a_trusted_issuer(provider, http):
    """abf's key signs a token that names varde-kommune's issuer."""
    app, _ = service_app(provider, http)
    claims = _claims_of(signed(provider, "varde-kommune"))
    abf = provider.realms["abf"].keys
    answer = await refused_with(app, jwt.encode(claims, abf.current.private_key, algorithm="RS256", headers={"kid": abf.kid}))
    assert "signing key" in answer.json()["detail"]["reason"]
    varde_kid = provider.realms["varde-kommune"].keys.kid
    answer = await refused_with(app, jwt.encode(claims, abf.current.private_key, algorithm="RS256", headers={"kid": varde_kid}))
    assert "signature does not verify" in answer.json()["detail"]["reason"]


async def test_alg_none_is_refused(provider, http):
    app, _ = service_app(provider, http)
    claims = _claims_of(signed(provider, "varde-kommune", roles=["coordinator"]))
    kid = provider.realms["varde-kommune"].keys.kid
    for alg in ("none", "None", "NONE"):
        answer = await refused_with(app, forged({"alg": alg, "kid": kid, "typ": "JWT"}, claims))
        assert "is not accepted" in answer.json()["detail"]["reason"]


async def test_hs256_keyed_with_the_public_key_is_refused(provider, http):
    """The classic confusion: an HMAC 'signed' with the issuer's public key,
    which anyone can fetch from the JWKS endpoint."""
    app, _ = service_app(provider, http)
    keys = provider.realms["varde-kommune"].keys
    public_pem = keys.current.as_pem(private=False)
    claims = _claims_of(signed(provider, "varde-kommune", roles=["coordinator"]))
    header = {"alg": "HS256", "kid": keys.kid, "typ": "JWT"}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}".encode()
    token = forged(header, claims, hmac.new(public_pem, signing_input, hashlib.sha256).digest())
    answer = await refused_with(app, token)
    assert "'HS256' is not accepted" in answer.json()["detail"]["reason"]
    # Even a verifier configured to allow HS256 does not: only asymmetric algorithms survive.
    assert TokenVerifier(parse_trusted_issuers(provider.trusted_issuers_json(TRUSTED), AUDIENCE),
                         algorithms=("RS256", "HS256", "none")).algorithms == ("RS256",)


async def test_a_tampered_payload_is_refused(provider, http):
    app, _ = service_app(provider, http)
    token = await service_token(provider, http, "varde-kommune")
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["roles"] = ["coordinator"]
    answer = await refused_with(app, f"{header}.{b64(json.dumps(claims).encode())}.{signature}")
    assert "signature does not verify" in answer.json()["detail"]["reason"]


async def test_garbage_is_refused(provider, http):
    app, _ = service_app(provider, http)
    for token in ("not-a-jwt", "a.b.c", "x" * 20_000):
        await refused_with(app, token)


async def test_no_token_is_401_with_a_bearer_challenge(provider, http):
    app, _ = service_app(provider, http)
    async with client_of(app) as service:
        for headers in ({}, {"Authorization": "Basic YWxhZGRpbjpvcGVuc2VzYW1l"}, {"Authorization": "Bearer "}):
            answer = await service.get("/whoami", headers=headers)
            assert answer.status_code == 401
            assert answer.headers["WWW-Authenticate"] == 'Bearer realm="brobygger"'
            assert answer.json()["detail"]["error"] == "missing_token"


async def test_a_role_the_route_does_not_admit_is_403_with_the_reason(provider, http):
    app, _ = service_app(provider, http)
    async with client_of(app) as service:
        answer = await service.get("/journeys", headers={
            "Authorization": f"Bearer {await service_token(provider, http, 'varde-kommune')}"})
        assert answer.status_code == 403
        detail = answer.json()["detail"]
        assert detail["error"] == "insufficient_role"
        assert detail["required_roles"] == ["coordinator", "guide"] and detail["roles"] == ["service"]
        assert "admits coordinator, guide; the caller holds service" in detail["reason"]
        assert 'error="insufficient_scope"' in answer.headers["WWW-Authenticate"]
        volunteer = signed(provider, "red-cross", roles=["volunteer"])
        assert (await service.get("/internal", headers={"Authorization": f"Bearer {volunteer}"})).status_code == 403


async def test_failed_authentications_are_throttled_per_address(provider, http):
    app, _ = service_app(provider, http)  # the default: 20 failures a minute
    good = await service_token(provider, http, "varde-kommune")
    async with client_of(app, "192.0.2.7") as attacker, client_of(app, "192.0.2.8") as bystander:
        for _ in range(20):
            assert (await attacker.get("/whoami", headers={"Authorization": "Bearer nope"})).status_code == 401
        answer = await attacker.get("/whoami", headers={"Authorization": "Bearer still-nope"})
        assert answer.status_code == 429
        assert 1 <= int(answer.headers["Retry-After"]) <= 60
        assert answer.json()["detail"]["error"] == "too_many_failed_authentications"
        assert (await attacker.get("/whoami")).status_code == 429
        # A valid token from the same address (a colleague behind the same proxy) still passes.
        assert (await attacker.get("/whoami", headers={"Authorization": f"Bearer {good}"})).status_code == 200
        assert (await bystander.get("/whoami", headers={"Authorization": f"Bearer {good}"})).status_code == 200


def test_throttle_lets_an_address_try_again_once_its_failures_age_out():
    now = [0.0]
    throttle = FailureThrottle(limit=3, window_seconds=60, clock=lambda: now[0])
    for t in (0, 10, 20):
        now[0] = t
        throttle.record_failure("a")
    assert throttle.retry_after("a") == 40
    now[0] = 60.5
    assert throttle.retry_after("a") is None


async def test_an_unreachable_trusted_issuer_is_503_not_401(provider, http):
    dead_issuer = "http://127.0.0.1:9/realms/varde-kommune"  # discard port: nothing answers
    app = FastAPI()
    Authenticator.from_settings(ServiceSettings(trusted_issuers=json.dumps({dead_issuer: "varde-kommune"})),
                                keys=SigningKeys(http=http)).install(app)

    @app.get("/whoami")
    async def whoami(caller: Caller = Depends(requires())) -> dict:
        return {"subject": caller.subject}

    token = signed(provider, "varde-kommune", iss=dead_issuer)
    async with client_of(app) as service:
        answer = await service.get("/whoami", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 503 and answer.json()["detail"]["error"] == "issuer_unavailable"


async def test_a_guarded_route_without_an_authenticator_fails_closed():
    app = FastAPI()

    @app.get("/whoami")
    async def whoami(caller: Caller = Depends(requires())) -> dict:
        return {"subject": caller.subject}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                                 base_url="http://service") as http:
        assert (await http.get("/whoami")).status_code == 500


def test_an_unknown_role_name_fails_when_the_route_is_declared():
    with pytest.raises(ValueError):
        requires("staff")


# --- the start-up check -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "message"), [
    ("", "TRUSTED_ISSUERS is empty: authentication cannot be turned off"),
    ("   ", "authentication cannot be turned off"),
    ("{}", "authentication cannot be turned off"),
    ("{not json", "TRUSTED_ISSUERS is not valid JSON"),
    ('["https://id.example/realms/a"]', "must be a non-empty JSON object"),
    ('{"https://id.example/realms/a": 5}', "must be an organisation id"),
    ('{"https://id.example/realms/a": "Varde Kommune"}', "must be an organisation id"),
    ('{"http://id.example/realms/a": "varde-kommune"}', "must use https"),
    ('{"id.example": "varde-kommune"}', "absolute URL"),
])
def test_require_trust_configuration_refuses(raw, message):
    with pytest.raises(TrustConfigurationError, match=re.escape(message)):
        require_trust_configuration(ServiceSettings(trusted_issuers=raw))


def test_require_trust_configuration_reads_the_environment(monkeypatch):
    monkeypatch.setenv("TRUSTED_ISSUERS", '{"https://id.varde.example/realms/varde-kommune": "varde-kommune", '
                                          '"http://127.0.0.1:8090/realms/red-cross": "red-cross"}')
    monkeypatch.setenv("AUTH_AUDIENCE", "brobygger-test")
    trust = require_trust_configuration(ServiceSettings())
    assert trust.organisation_of("https://id.varde.example/realms/varde-kommune") == "varde-kommune"
    assert trust.organisation_of("https://id.varde.example/realms/varde-kommune/") is None  # exact match only
    assert trust.issuers_of("red-cross") == ["http://127.0.0.1:8090/realms/red-cross"]
    assert trust.audience == "brobygger-test"
    monkeypatch.setenv("TRUSTED_ISSUERS", "")
    with pytest.raises(TrustConfigurationError):
        Authenticator.from_settings(ServiceSettings())
