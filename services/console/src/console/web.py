"""The console's plumbing shared by every page: the session and preferences
of a request, who may open a page, form tokens, rendering in the person's
language, and what a page shows when a service refuses or does not answer."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from brobygger_contracts.interests import label as interest_label
from brobygger_runtime.auth import ClientCredentialsTokenSource
from console.clients.base import Caller
from console.clients.journey import JourneyClient
from console.clients.matching import MatchingClient
from console.clients.referral import ReferralClient
from console.i18n import LANGUAGES, Formats, choose, translator
from console.login import Login
from console.sessions import CsrfRefused, Person, Session, SessionStore, check_csrf
from console.settings import ConsoleSettings

LANGUAGE_COOKIE = "console_lang"
TEXT_COOKIE = "console_text"
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


@dataclass
class Console:
    settings: ConsoleSettings
    sessions: SessionStore
    login: Login
    http: httpx.AsyncClient
    referral: ReferralClient
    journey: JourneyClient
    matching: dict[str, MatchingClient]
    public_referrals: ClientCredentialsTokenSource | None
    """The console's own client (role referrer at the home organisation): relatives' and self-referrals."""

    def matching_of(self, org: str) -> MatchingClient | None:
        return self.matching.get(org)


def console_of(request: Request) -> Console:
    return request.app.state.console


class NeedsLogin(Exception):
    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class NotYours(Exception):
    """Logged in, but the page is for other roles."""


def session_of(request: Request) -> Session:
    return request.state.session


def language_of(request: Request) -> str:
    return choose(request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language"))


def person(request: Request, *roles: str) -> Person:
    """The logged-in person if they hold one of `roles`; else to the login (NeedsLogin) or 403 (NotYours)."""
    found = session_of(request).person
    if found is not None and found.token_expires_at <= time.time():
        # the token no service would take any more: log in again rather than fail at the first call
        console_of(request).sessions.end(session_of(request))
        found = None
    if found is None:
        raise NeedsLogin(request.url.path)
    if roles and not found.has(*roles):
        raise NotYours()
    return found


def caller(request: Request, who: Person) -> Caller:
    return Caller(token=who.token, language=language_of(request))


async def form(request: Request) -> dict[str, Any]:
    """The posted form, refused (403) without this session's form token."""
    data = await request.form()
    fields: dict[str, Any] = {}
    for key, value in data.multi_items():
        if key in fields:
            fields[key] = (fields[key] if isinstance(fields[key], list) else [fields[key]]) + [value]
        else:
            fields[key] = value
    check_csrf(session_of(request), fields)
    return fields


def many(fields: dict[str, Any], key: str) -> list[str]:
    value = fields.get(key)
    if value is None or value == "":
        return []
    return [v for v in (value if isinstance(value, list) else [value]) if v != ""]


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    language = language_of(request)
    session = session_of(request)
    notes, session.flash = session.flash, []
    response = TEMPLATES.TemplateResponse(request, template, {
        "_": translator(language), "fmt": Formats(language), "lang": language, "languages": LANGUAGES,
        "large_text": request.cookies.get(TEXT_COOKIE) == "large", "session": session, "me": session.person,
        "csrf": session.csrf, "notes": notes, "path": request.url.path,
        "interest": lambda code: _interest(code, language),
        "interests": lambda codes: ", ".join(_interest(c, language) for c in codes or []), **context,
    }, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _interest(code: str, language: str) -> str:
    """An interest code in the person's language (the shared da/sv/en taxonomy); an unknown code as it is."""
    try:
        return interest_label(code, language)
    except (KeyError, ValueError):
        return code


def go(path: str, note: str | None = None, request: Request | None = None, *, problems: list[str] | None = None,
       values: dict[str, Any] | None = None) -> RedirectResponse:
    """After a form: back to a page (303), with a note (or the service's reasons for refusing) shown once."""
    if request is not None and (note or problems):
        session_of(request).flash.append({"text": note or "", "problems": problems or [], "values": values or {}})
    return RedirectResponse(path, status_code=303)


def local_path(value: str | None, default: str = "/") -> str:
    """Only a path on this console (never another site) as a place to go back to."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    return value


def login_redirect(next_path: str) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(local_path(next_path))}", status_code=303)


def security_headers(response: Response, login_origins: str = "") -> None:
    """No script at all, nothing from elsewhere; forms post here or (the login's redirect) to an issuer."""
    response.headers.setdefault("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; "
                                f"style-src 'self'; frame-ancestors 'none'; form-action 'self' {login_origins}; "
                                "base-uri 'none'")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")


__all__ = ["Console", "CsrfRefused", "NeedsLogin", "NotYours", "caller", "console_of", "form", "go", "language_of",
           "local_path", "login_redirect", "many", "person", "render", "security_headers", "session_of"]
