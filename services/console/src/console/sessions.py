"""Server-side sessions: the browser holds only a random session id (HttpOnly,
SameSite=Lax, Secure over https); the person's access token, who they are and
the form token stay here, in memory. Nothing about citizens is kept: every page
asks the services again with the person's token.

One console process keeps its own sessions (a restart logs everyone out, which
the issuers' short-lived tokens do within minutes anyway); run replicas with
sticky sessions."""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import Response

COOKIE = "console_session"


@dataclass
class Person:
    """Who is logged in, as their verified token says."""

    subject: str
    organisation: str
    roles: frozenset[str]
    name: str
    token: str
    token_expires_at: float

    def has(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)


@dataclass
class Session:
    id: str
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    person: Person | None = None
    login: dict[str, str] = field(default_factory=dict)
    """An unfinished login: state, PKCE verifier, nonce, organisation, where to go after."""
    flash: list[dict[str, Any]] = field(default_factory=list)
    """Notes shown once on the next page (what was saved, or why a service refused)."""
    touched_at: float = 0.0


class SessionStore:
    def __init__(self, idle_seconds: float, secure_cookies: bool, clock: Callable[[], float] = time.monotonic,
                 max_sessions: int = 20_000) -> None:
        self.idle_seconds = idle_seconds
        self.max_sessions = max_sessions
        self.secure_cookies = secure_cookies
        self._clock = clock
        self._sessions: dict[str, Session] = {}

    def of(self, request: Request) -> Session:
        """The request's session, a new (anonymous) one when it has none or it ended."""
        now = self._clock()
        self._forget_idle(now)
        found = self._sessions.get(request.cookies.get(COOKIE, ""))
        if found is None:
            self._make_room()
            found = Session(id=secrets.token_urlsafe(32))
            self._sessions[found.id] = found
        found.touched_at = now
        request.state.session = found
        return found

    def renew(self, session: Session) -> Session:
        """A new id for the same session at login (no session fixation), with a new form token."""
        self._sessions.pop(session.id, None)
        session.id = secrets.token_urlsafe(32)
        session.csrf = secrets.token_urlsafe(32)
        self._sessions[session.id] = session
        return session

    def end(self, session: Session) -> None:
        self._sessions.pop(session.id, None)
        session.person = None
        session.login = {}

    def set_cookie(self, response: Response, session: Session | None) -> None:
        if session is None or session.id not in self._sessions:
            response.delete_cookie(COOKIE, path="/", secure=self.secure_cookies, httponly=True, samesite="lax")
            return
        response.set_cookie(COOKIE, session.id, max_age=int(self.idle_seconds), path="/", secure=self.secure_cookies,
                            httponly=True, samesite="lax")

    def _make_room(self) -> None:
        """At the cap, the longest idle anonymous sessions go first (a flood of cookie-less requests must not
        grow memory without end, nor log out people who work)."""
        if len(self._sessions) < self.max_sessions:
            return
        anonymous = sorted((s for s in self._sessions.values() if s.person is None), key=lambda s: s.touched_at)
        for gone in anonymous[: max(1, len(self._sessions) - self.max_sessions + 1)]:
            del self._sessions[gone.id]

    def _forget_idle(self, now: float) -> None:
        for sid in [s for s, item in self._sessions.items() if now - item.touched_at > self.idle_seconds]:
            del self._sessions[sid]

    def __len__(self) -> int:
        return len(self._sessions)


class CsrfRefused(Exception):
    """A form came without this session's form token (another site posting, or an old page)."""


def check_csrf(session: Session, form: dict[str, Any]) -> None:
    sent = form.get("csrf_token")
    if not isinstance(sent, str) or not hmac.compare_digest(sent, session.csrf):
        raise CsrfRefused()
