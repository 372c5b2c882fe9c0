"""The console's app: login and logout, preferences, health, and the pages
(refer, guide, volunteer, coordinator, steering) from `console.pages`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from brobygger_runtime.auth import ClientCredentialsTokenSource, require_trust_configuration
from console.clients.base import LoginExpired, NotAvailable, Unreachable
from console.clients.journey import JourneyClient
from console.clients.matching import MatchingClient
from console.clients.referral import ReferralClient
from console.i18n import LANGUAGES
from console.login import Login, LoginFailed
from console.pages import coordinator, guide, refer, steering, volunteer
from console.sessions import SessionStore
from console.settings import ConsoleSettings
from console.web import (
    LANGUAGE_COOKIE,
    TEXT_COOKIE,
    Console,
    CsrfRefused,
    NeedsLogin,
    NotYours,
    console_of,
    form,
    go,
    local_path,
    login_redirect,
    render,
    security_headers,
    session_of,
)

__all__ = ["ConsoleSettings", "build"]

STYLE = (Path(__file__).parent / "templates" / "console.css").read_text()
HOME_BY_ROLE = (("guide", "/guide"), ("coordinator", "/coordinator"), ("volunteer", "/volunteer"),
                ("steering", "/steering"), ("referrer", "/refer"))


def build(settings: ConsoleSettings) -> tuple[None, FastAPI]:
    trust = require_trust_configuration(settings)
    secure = settings.base_url().startswith("https://")
    login_origins = " ".join(sorted({f"{urlsplit(i).scheme}://{urlsplit(i).netloc}" for i in trust.issuers}))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=settings.request_timeout_seconds) as http:
            public = None
            if settings.auth_client_id and settings.auth_client_secret:
                issuer = settings.auth_issuer or trust.issuers_of(settings.org_id)[0]
                public = ClientCredentialsTokenSource(issuer, settings.auth_client_id, settings.auth_client_secret,
                                                      http=http, plain_http_hosts=trust.plain_http_hosts)
            app.state.console = Console(
                settings=settings,
                sessions=SessionStore(settings.session_minutes * 60, secure_cookies=secure),
                login=Login(trust, settings.login_client_id, settings.base_url() + "/callback", http),
                http=http,
                referral=ReferralClient(settings.referral_url, http),
                journey=JourneyClient(settings.journey_url, http),
                matching={org: MatchingClient(org, url, http) for org, url in settings.matching().items()},
                public_referrals=public,
            )
            yield
            await app.state.console.login.aclose()

    app = FastAPI(title="Brobygger console", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    @app.middleware("http")
    async def sessions_and_headers(request: Request, call_next: Any) -> Response:
        if request.url.path.startswith("/health/"):
            return await call_next(request)
        store = console_of(request).sessions
        store.of(request)
        response = await call_next(request)
        store.set_cookie(response, session_of(request))
        security_headers(response, login_origins)
        return response

    @app.exception_handler(NeedsLogin)
    async def needs_login(request: Request, exc: NeedsLogin) -> Response:
        return login_redirect(exc.next_path)

    @app.exception_handler(LoginExpired)
    async def expired(request: Request, exc: LoginExpired) -> Response:
        console_of(request).sessions.end(session_of(request))
        return login_redirect(request.url.path if request.method == "GET" else "/")

    # What a page says instead, by what went wrong: (status, title, text).
    messages: dict[type[Exception], tuple[int, str, str]] = {
        NotYours: (403, "Not for your role", "This page is for other roles. Your own pages are on the front page."),
        CsrfRefused: (403, "The form has expired", "Open the page again and send the form from there."),
        Unreachable: (503, "A service does not answer",
                      "The {service} service does not answer right now. Try again in a moment."),
        NotAvailable: (501, "Not available yet", "This part is not available yet."),
    }

    async def message(request: Request, exc: Exception) -> Response:
        status, title, text = messages[type(exc)]
        return render(request, "message.html.j2", status=status, title=title, text=text,
                      values={"service": getattr(exc, "service", "")})

    for kind in messages:
        app.add_exception_handler(kind, message)

    @app.get("/health/live", include_in_schema=False)
    async def live() -> dict[str, str]:
        return {"status": "live"}

    @app.get("/health/ready", include_in_schema=False)
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    @app.get("/console.css", include_in_schema=False)
    async def style() -> Response:
        return PlainTextResponse(STYLE, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})

    @app.get("/", response_class=HTMLResponse)
    async def home(request: Request) -> Response:
        me = session_of(request).person
        pages = [path for role, path in HOME_BY_ROLE if me is not None and me.has(role)]
        if me is not None and me.has("guide", "coordinator", "referrer") and "/refer" not in pages:
            pages.append("/refer")
        return render(request, "home.html.j2", pages=pages)

    @app.get("/login", response_class=HTMLResponse)
    async def choose_organisation(request: Request, next: str = "/") -> Response:
        return render(request, "login.html.j2", organisations=console_of(request).login.organisations(),
                      next=local_path(next))

    @app.get("/login/start")
    async def start_login(request: Request, org: str = "", next: str = "/") -> Response:
        console = console_of(request)
        if org not in console.login.organisations():
            return render(request, "login.html.j2", status=400, organisations=console.login.organisations(),
                          next=local_path(next), error="Choose your organisation.")
        try:
            url, pending = await console.login.start(org)
        except LoginFailed as exc:
            return render(request, "message.html.j2", status=502, title="Login failed", text=exc.reason)
        session = session_of(request)
        session.login = {**pending, "next": local_path(next)}
        return RedirectResponse(url, status_code=303)

    @app.get("/callback")
    async def callback(request: Request, state: str | None = None, code: str | None = None,
                       error: str | None = None) -> Response:
        console = console_of(request)
        session = session_of(request)
        pending, session.login = session.login, {}
        if error:
            return render(request, "message.html.j2", status=400, title="Login failed",
                          text="The identity provider says: {error}", values={"error": error[:200]})
        try:
            who = await console.login.finish(pending, state, code)
        except LoginFailed as exc:
            return render(request, "message.html.j2", status=400, title="Login failed", text=exc.reason)
        console.sessions.renew(session)
        session.person = who
        next_path = pending.get("next", "/")
        if next_path == "/":
            next_path = next((path for role, path in HOME_BY_ROLE if who.has(role)), "/")
        return RedirectResponse(next_path, status_code=303)

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        await form(request)
        console_of(request).sessions.end(session_of(request))
        return RedirectResponse("/", status_code=303)

    @app.post("/preferences")
    async def preferences(request: Request) -> Response:
        """Language and text size, remembered in cookies for a year (no personal data)."""
        fields = await form(request)
        response = go(local_path(fields.get("back")))
        secure = console_of(request).sessions.secure_cookies
        if fields.get("lang") in LANGUAGES:
            response.set_cookie(LANGUAGE_COOKIE, fields["lang"], max_age=365 * 86400, samesite="lax",
                                httponly=True, secure=secure)
        if fields.get("text") in ("large", "normal"):
            response.set_cookie(TEXT_COOKIE, fields["text"], max_age=365 * 86400, samesite="lax",
                                httponly=True, secure=secure)
        return response

    for page in (refer, guide, volunteer, coordinator, steering):
        app.include_router(page.router)
    return None, app
