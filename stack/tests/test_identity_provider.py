"""The embedded OAuth 2.0 / OpenID Connect provider over real HTTP on
loopback: one issuer and signing key per organisation, client credentials for
services, authorization code with PKCE (S256 required) and a login form for
people, seeded demo accounts and logins kept in the work directory."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import signal
import stat
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from argon2 import PasswordHasher

from brobygger_runtime.auth import TokenVerifier, parse_trusted_issuers
from brobygger_runtime.auth.signing_keys import SigningKeys
from brobygger_stack.identity import DEMO_ORGANISATIONS, LOGIN_CLIENT, SERVICES, IdentityProvider
from brobygger_stack.identity.seed import CONSOLE_CLIENT

REDIRECT = "http://127.0.0.1:53682/callback"


def cheap_hasher() -> PasswordHasher:
    """Real argon2id, with a profile that keeps seeding a provider in tests fast."""
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(scope="module")
def provider() -> Iterator[IdentityProvider]:
    idp = IdentityProvider(password_hasher=cheap_hasher()).start()
    yield idp
    idp.stop()


@pytest.fixture(scope="module")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


async def client_token(http: httpx.AsyncClient, provider: IdentityProvider, org: str, client_id: str,
                       secret: str | None = None) -> httpx.Response:
    secret = provider.client_secret(org, client_id) if secret is None else secret
    return await http.post(provider.token_endpoint(org), data={"grant_type": "client_credentials"},
                           auth=(client_id, secret))


async def verified(http: httpx.AsyncClient, provider: IdentityProvider, org: str, token: str, audience: str) -> dict:
    """Checks a token against the issuer's published JWKS with PyJWT alone."""
    jwks = (await http.get(f"{provider.issuer(org)}/protocol/openid-connect/certs")).json()
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(jwt.PyJWK(k) for k in jwks["keys"] if k["kid"] == kid)
    return jwt.decode(token, key=key, algorithms=["RS256"], audience=audience, issuer=provider.issuer(org))


async def authorization_request(http: httpx.AsyncClient, provider: IdentityProvider, org: str,
                                **params: str) -> tuple[httpx.Response, str]:
    """Opens the login form; returns the page and the PKCE verifier."""
    verifier = secrets.token_urlsafe(48)
    query = {"response_type": "code", "client_id": LOGIN_CLIENT, "redirect_uri": REDIRECT, "state": "st",
             "scope": "openid profile email", "code_challenge": b64(hashlib.sha256(verifier.encode()).digest()),
             "code_challenge_method": "S256"}
    query.update(params)
    query = {k: v for k, v in query.items() if v}
    return await http.get(f"{provider.issuer(org)}/protocol/openid-connect/auth", params=query), verifier


async def submit_login(http: httpx.AsyncClient, provider: IdentityProvider, page: httpx.Response, username: str,
                       password: str) -> httpx.Response:
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
    return await http.post(f"{provider.base_url}{action}", data={**fields, "username": username, "password": password})


def code_from(redirected: httpx.Response) -> str:
    assert redirected.status_code == 302, redirected.text
    location = urlsplit(redirected.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == ["st"]
    return query["code"][0]


async def exchange(http: httpx.AsyncClient, provider: IdentityProvider, org: str, code: str,
                   verifier: str) -> httpx.Response:
    return await http.post(provider.token_endpoint(org), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": LOGIN_CLIENT,
        "code_verifier": verifier})


# --- issuers, keys, discovery -----------------------------------------------------------------------------------


async def test_each_organisation_has_its_own_issuer_discovery_and_signing_key(provider, http):
    kids = {}
    for org in DEMO_ORGANISATIONS:
        issuer = provider.issuer(org)
        assert issuer == f"{provider.base_url}/realms/{org}"
        discovery = (await http.get(f"{issuer}/.well-known/openid-configuration")).json()
        assert discovery["issuer"] == issuer
        for endpoint in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            assert discovery[endpoint].startswith(f"{issuer}/protocol/openid-connect/")
        assert discovery["code_challenge_methods_supported"] == ["S256"]
        assert set(discovery["grant_types_supported"]) == {"authorization_code", "client_credentials"}
        jwks = (await http.get(discovery["jwks_uri"])).json()
        for key in jwks["keys"]:
            assert key["kty"] == "RSA" and key["use"] == "sig" and key["alg"] == "RS256"
            assert not {"d", "p", "q", "dp", "dq", "qi"} & key.keys(), "a private part is published"
        kids[org] = {k["kid"] for k in jwks["keys"]}
    assert len(set().union(*kids.values())) == sum(len(k) for k in kids.values()), "organisations share a key"
    assert (await http.get(f"{provider.base_url}/realms/nobody/.well-known/openid-configuration")).status_code == 404


# --- client credentials -----------------------------------------------------------------------------------------


async def test_a_service_client_gets_a_signed_token_with_roles_audience_and_org(provider, http):
    answer = await client_token(http, provider, "red-cross", "brobygger-matching")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"].lower() == "bearer" and body["expires_in"] == 300 and "refresh_token" not in body
    token = body["access_token"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256" and header["typ"] == "at+jwt"
    claims = await verified(http, provider, "red-cross", token, "brobygger")
    assert claims["iss"] == provider.issuer("red-cross")
    assert claims["sub"] == claims["azp"] == claims["client_id"] == "brobygger-matching"
    assert claims["roles"] == ["service"] and claims["org"] == "red-cross"
    assert claims["exp"] - claims["iat"] == 300
    # and the runtime's verifier, the one every service will use, agrees
    verifier = TokenVerifier(parse_trusted_issuers(provider.trusted_issuers_json(), "brobygger"), SigningKeys(http=http))
    caller = await verifier.verify(token)
    assert (caller.organisation, caller.subject, sorted(caller.roles)) == ("red-cross", "brobygger-matching", ["service"])


async def test_client_secret_post_works_too(provider, http):
    client_id = "brobygger-notify"
    answer = await http.post(provider.token_endpoint("abf"), data={
        "grant_type": "client_credentials", "client_id": client_id,
        "client_secret": provider.client_secret("abf", client_id)})
    assert answer.status_code == 200 and claims_of(answer.json()["access_token"])["org"] == "abf"


async def test_client_credentials_are_refused_without_the_right_secret_for_that_organisation(provider, http):
    wrong = await client_token(http, provider, "varde-kommune", "brobygger-journey", secret="guess")
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    # the same client name exists at red-cross, with its own secret: that secret opens nothing at varde-kommune
    other = await client_token(http, provider, "varde-kommune", "brobygger-journey",
                               secret=provider.client_secret("red-cross", "brobygger-journey"))
    assert other.status_code == 401 and other.json()["error"] == "invalid_client"
    unknown = await client_token(http, provider, "varde-kommune", "somebody", secret="x")
    assert unknown.status_code == 401 and unknown.json()["error"] == "invalid_client"
    public = await http.post(provider.token_endpoint("varde-kommune"),
                             data={"grant_type": "client_credentials", "client_id": LOGIN_CLIENT})
    assert public.status_code in (400, 401) and public.json()["error"] in ("invalid_client", "unauthorized_client")
    password_grant = await http.post(provider.token_endpoint("varde-kommune"), data={
        "grant_type": "password", "username": "anne", "password": provider.password("varde-kommune", "anne"),
        "client_id": LOGIN_CLIENT})
    assert password_grant.status_code == 400 and password_grant.json()["error"] == "unsupported_grant_type"


# --- people: authorization code with PKCE -----------------------------------------------------------------------


async def test_a_person_logs_in_with_pkce_and_gets_their_roles_and_an_id_token(provider, http):
    page, verifier = await authorization_request(http, provider, "red-cross", nonce="n-42")
    assert page.status_code == 200 and "red-cross" in page.text
    code = code_from(await submit_login(http, provider, page, "birgit", provider.password("red-cross", "birgit")))
    answer = await exchange(http, provider, "red-cross", code, verifier)
    assert answer.status_code == 200, answer.text
    access = await verified(http, provider, "red-cross", answer.json()["access_token"], "brobygger")
    assert access["sub"] == "birgit" and access["roles"] == ["coordinator"] and access["org"] == "red-cross"
    assert access["name"] == "Birgit Vang" and access["preferred_username"] == "birgit"
    assert access["azp"] == LOGIN_CLIENT
    identity = await verified(http, provider, "red-cross", answer.json()["id_token"], LOGIN_CLIENT)
    assert identity["sub"] == "birgit" and identity["nonce"] == "n-42" and identity["email"] == "birgit@redcross.example"


async def test_pkce_is_required_and_only_s256(provider, http):
    for params in ({"code_challenge": "", "code_challenge_method": ""},
                   {"code_challenge_method": "plain"},
                   {"code_challenge_method": ""}):
        page, _ = await authorization_request(http, provider, "varde-kommune", **params)
        assert page.status_code == 302, (params, page.text)
        error = parse_qs(urlsplit(page.headers["Location"]).query)
        assert error["error"] == ["invalid_request"] and "code" not in error


async def test_a_wrong_verifier_is_refused_and_burns_the_code(provider, http):
    page, verifier = await authorization_request(http, provider, "varde-kommune")
    code = code_from(await submit_login(http, provider, page, "mette", provider.password("varde-kommune", "mette")))
    wrong = await exchange(http, provider, "varde-kommune", code, secrets.token_urlsafe(48))
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    again = await exchange(http, provider, "varde-kommune", code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


async def test_a_code_is_good_once(provider, http):
    page, verifier = await authorization_request(http, provider, "abf")
    code = code_from(await submit_login(http, provider, page, "sofie", provider.password("abf", "sofie")))
    assert (await exchange(http, provider, "abf", code, verifier)).status_code == 200
    replay = await exchange(http, provider, "abf", code, verifier)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"


async def test_a_wrong_password_or_unknown_user_shows_the_form_again_without_a_code(provider, http):
    page, _ = await authorization_request(http, provider, "varde-kommune")
    for username, password in (("anne", "not-her-password"), ("nobody", "x"),
                               ("lone", provider.password("red-cross", "lone"))):  # a red-cross person at varde
        answer = await submit_login(http, provider, page, username, password)
        assert answer.status_code == 401 and "Location" not in answer.headers
        assert "Wrong username or password." in answer.text
        page = answer  # the answer is a fresh form


async def test_a_login_form_is_good_once(provider, http):
    page, _ = await authorization_request(http, provider, "varde-kommune")
    code_from(await submit_login(http, provider, page, "jens", provider.password("varde-kommune", "jens")))
    again = await submit_login(http, provider, page, "jens", provider.password("varde-kommune", "jens"))
    assert again.status_code == 400 and "expired" in again.text


async def test_only_registered_redirects_and_only_the_login_client(provider, http):
    page, _ = await authorization_request(http, provider, "varde-kommune", redirect_uri="http://evil.example/callback")
    assert page.status_code == 400 and "Location" not in page.headers
    page, _ = await authorization_request(http, provider, "varde-kommune", redirect_uri="http://127.0.0.1:9999/other")
    assert page.status_code == 400 and "Location" not in page.headers
    page, _ = await authorization_request(http, provider, "varde-kommune", client_id="brobygger-journey",
                                          redirect_uri="")
    assert page.status_code == 400


async def test_failed_logins_are_throttled():
    with IdentityProvider(organisations=("varde-kommune",), password_hasher=cheap_hasher()) as idp:
        async with httpx.AsyncClient(timeout=10) as http:
            page, _ = await authorization_request(http, idp, "varde-kommune")
            for _ in range(10):
                page = await submit_login(http, idp, page, "anne", "wrong")
                assert page.status_code == 401
            blocked = await submit_login(http, idp, page, "anne", idp.password("varde-kommune", "anne"))
            assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) >= 1


# --- seed, logins, keys ----------------------------------------------------------------------------------------


def test_the_demo_is_seeded_with_people_of_every_role_and_a_client_per_service_per_organisation(provider):
    roles_by_org: dict[str, set[str]] = {}
    for org, realm in provider.realms.items():
        roles_by_org[org] = {role for person in realm.people.values() for role in person.roles}
        # the home organisation (the first) also has the web console's client for its public referral page
        console = {CONSOLE_CLIENT} if org == provider.organisations[0] else set()
        assert {f"brobygger-{s}" for s in SERVICES} | {LOGIN_CLIENT} | console == set(realm.clients)
        assert all(realm.clients[f"brobygger-{s}"].roles == ("service",) for s in SERVICES)
        assert all(realm.clients[c].roles == ("referrer",) for c in console)
        for person in realm.people.values():
            assert person.password_hash.startswith("$argon2id$")
    for org in DEMO_ORGANISATIONS:
        assert {"guide", "coordinator", "volunteer"} <= roles_by_org[org]
    assert {"referrer", "steering", "operator"} <= set().union(*roles_by_org.values())
    table = provider.logins_table()
    for org, realm in provider.realms.items():
        for username in realm.people:
            assert re.search(rf"{org}\s+\S+\s+{username}\s+{re.escape(provider.password(org, username))}", table)
        assert provider.issuer(org) in table


async def test_logins_and_keys_are_kept_0600_in_the_workdir_and_survive_a_restart(tmp_path, http):
    first = IdentityProvider(organisations=("varde-kommune",), workdir=tmp_path, password_hasher=cheap_hasher())
    with first:
        token = (await client_token(http, first, "varde-kommune", "brobygger-referral")).json()["access_token"]
        password = first.password("varde-kommune", "anne")
        secret = first.client_secret("varde-kommune", "brobygger-referral")
        kid = first.realms["varde-kommune"].keys.kid
    identity = tmp_path / "identity"
    assert stat.S_IMODE(identity.stat().st_mode) == 0o700
    for path in (identity / "logins.json", identity / "keys" / "varde-kommune.json"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert json.loads((identity / "logins.json").read_text())["passwords"]["varde-kommune"]["anne"] == password
    with IdentityProvider(organisations=("varde-kommune",), workdir=tmp_path, password_hasher=cheap_hasher()) as second:
        assert second.password("varde-kommune", "anne") == password
        assert second.client_secret("varde-kommune", "brobygger-referral") == secret
        assert second.realms["varde-kommune"].keys.kid == kid
        # the key survived: a token signed before the restart still verifies against the published keys
        jwks = (await http.get(f"{second.issuer('varde-kommune')}/protocol/openid-connect/certs")).json()
        key = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == kid))
        assert jwt.decode(token, key=key, algorithms=["RS256"], audience="brobygger")["sub"] == "brobygger-referral"


async def test_a_rotated_key_keeps_the_previous_one_published(tmp_path, http):
    with IdentityProvider(organisations=("red-cross",), password_hasher=cheap_hasher(), people=[]) as idp:
        before = (await client_token(http, idp, "red-cross", "brobygger-journey")).json()["access_token"]
        new_kid = idp.rotate_key("red-cross")
        after = (await client_token(http, idp, "red-cross", "brobygger-journey")).json()["access_token"]
        assert jwt.get_unverified_header(after)["kid"] == new_kid != jwt.get_unverified_header(before)["kid"]
        for token in (before, after):
            assert (await verified(http, idp, "red-cross", token, "brobygger"))["sub"] == "brobygger-journey"


def test_it_runs_alone_with_python_m(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "brobygger_stack.identity", "--port", "0", "--workdir", str(tmp_path),
         "--organisations", "varde-kommune,red-cross"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("Service clients"):
                break
        output = "".join(lines)
        trusted = json.loads(re.search(r"TRUSTED_ISSUERS='(.+)'", output).group(1))
        assert sorted(trusted.values()) == ["red-cross", "varde-kommune"]
        assert re.search(r"varde-kommune\s+guide\s+anne\s+\S+", output)
        issuer = next(iss for iss, org in trusted.items() if org == "red-cross")
        assert httpx.get(f"{issuer}/.well-known/openid-configuration").json()["issuer"] == issuer
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
        assert (Path(tmp_path) / "identity" / "logins.json").exists()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
