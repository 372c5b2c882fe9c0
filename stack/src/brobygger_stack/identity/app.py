"""The HTTP side of the embedded issuers: per organisation, under
`/realms/<org>` (the same paths as Keycloak, so clients configured for one
work with the other): discovery, JWKS, token endpoint, and an authorize
endpoint with a minimal login form for local accounts."""

from __future__ import annotations

import html
import secrets
import time
from typing import TYPE_CHECKING

from authlib.oauth2.rfc6749.errors import OAuth2Error
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from brobygger_runtime.auth.throttle import FailureThrottle
from brobygger_stack.identity.oauth_server import OrganisationServer, ReadRequest
from brobygger_stack.identity.signing_keys import ALGORITHM

if TYPE_CHECKING:
    from brobygger_stack.identity.provider import IdentityProvider

FORM_SECONDS = 600
OAUTH_FIELDS = ("response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
                "code_challenge_method", "nonce")


def build_app(provider: "IdentityProvider") -> FastAPI:
    app = FastAPI(title="Brobygger embedded identity provider", docs_url=None, redoc_url=None, openapi_url=None)
    login_forms: dict[str, tuple[str, float]] = {}
    failed_logins = FailureThrottle(limit=10, window_seconds=60)

    def realm(org: str) -> OrganisationServer:
        server = provider.realms.get(org)
        if server is None:
            raise HTTPException(404, f"no issuer for organisation {org!r}")
        return server

    @app.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "live"}

    @app.get("/")
    async def issuers() -> dict[str, dict[str, str]]:
        return {"issuers": {org: server.issuer for org, server in provider.realms.items()}}

    @app.get("/realms/{org}/.well-known/openid-configuration")
    async def discovery(org: str) -> JSONResponse:
        server = realm(org)
        base = f"{server.issuer}/protocol/openid-connect"
        return JSONResponse({
            "issuer": server.issuer,
            "authorization_endpoint": f"{base}/auth",
            "token_endpoint": f"{base}/token",
            "jwks_uri": f"{base}/certs",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "client_credentials"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "scopes_supported": ["openid", "profile", "email", "roles"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [ALGORITHM],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "roles", "org", "name", "preferred_username", "email"],
        }, headers={"Cache-Control": "public, max-age=300"})

    @app.get("/realms/{org}/protocol/openid-connect/certs")
    async def jwks(org: str) -> JSONResponse:
        provider.jwks_requests += 1
        return JSONResponse(realm(org).keys.public_jwks(), headers={"Cache-Control": "public, max-age=300"})

    @app.post("/realms/{org}/protocol/openid-connect/token")
    async def token(org: str, request: Request) -> Response:
        server = realm(org)
        return server.create_token_response(await ReadRequest.of(request))

    @app.get("/realms/{org}/protocol/openid-connect/auth")
    async def authorize_form(org: str, request: Request) -> Response:
        server = realm(org)
        read = await ReadRequest.of(request)
        try:
            grant = server.get_consent_grant(read)
        except OAuth2Error as error:
            return server.handle_error_response(None, error)
        form_token = secrets.token_urlsafe(24)
        _forget_old(login_forms)
        login_forms[form_token] = (org, time.monotonic() + FORM_SECONDS)
        return HTMLResponse(_login_page(org, grant.request.payload.data, form_token, request.url.path))

    @app.post("/realms/{org}/protocol/openid-connect/auth")
    async def authorize_login(org: str, request: Request) -> Response:
        server = realm(org)
        address = request.client.host if request.client else "unknown"
        wait = failed_logins.retry_after(address)
        if wait is not None:
            return HTMLResponse(_page("Too many attempts", f"<p>Too many failed logins; try again in {wait} s.</p>"),
                                status_code=429, headers={"Retry-After": str(wait)})
        read = await ReadRequest.of(request)
        form = dict(read.form)
        issued = login_forms.pop(form.get("form_token", ""), None)
        if issued is None or issued[0] != org or issued[1] < time.monotonic():
            return HTMLResponse(_page("Login expired", "<p>This login form has expired; start the login again.</p>"),
                                status_code=400)
        # authlib reads the authorization request from the hidden fields, not from the query
        read.query = []
        read.form = [(k, v) for k, v in read.form if k in OAUTH_FIELDS]
        try:
            grant = server.get_consent_grant(read)
        except OAuth2Error as error:
            return server.handle_error_response(None, error)
        person = server.people.get(form.get("username", ""))
        if not await run_in_threadpool(provider.password_check.verify, person, form.get("password", "")):
            failed_logins.record_failure(address)
            form_token = secrets.token_urlsafe(24)
            login_forms[form_token] = (org, time.monotonic() + FORM_SECONDS)
            page = _login_page(org, grant.request.payload.data, form_token, request.url.path,
                               error="Wrong username or password.")
            return HTMLResponse(page, status_code=401)
        return server.create_authorization_response(grant.request, grant_user=person, grant=grant)

    return app


def _forget_old(forms: dict[str, tuple[str, float]]) -> None:
    now = time.monotonic()
    for key in [k for k, (_, until) in forms.items() if until < now]:
        del forms[key]
    while len(forms) > 10_000:
        forms.pop(next(iter(forms)))


def _login_page(org: str, params: dict[str, str], form_token: str, action: str, error: str | None = None) -> str:
    esc = html.escape
    hidden = "\n".join(
        f'<input type="hidden" name="{esc(k)}" value="{esc(v)}">' for k, v in params.items() if k in OAUTH_FIELDS
    )
    message = f'<p class="error">{esc(error)}</p>' if error else ""
    body = f"""<p>Log in to <strong>{esc(org)}</strong> (embedded identity provider for local use).</p>
{message}
<form method="post" action="{esc(action)}">
{hidden}
<input type="hidden" name="form_token" value="{esc(form_token)}">
<label>Username <input name="username" autocomplete="username" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Log in</button>
</form>"""
    return _page(f"Log in: {org}", body)


def _page(title: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta name="referrer" content="no-referrer">
<style>body{{font-family:sans-serif;max-width:28em;margin:3em auto}}label{{display:block;margin:.6em 0}}
input{{display:block;width:100%}}.error{{color:#a00}}</style></head>
<body><h1>{html.escape(title)}</h1>
{body}
</body></html>"""
