"""A person's login at an embedded issuer from a terminal or a script: the
authorization code flow with PKCE (S256, authlib's challenge), the login form
filled in as a browser would, the code exchanged for tokens.

    token = login("http://127.0.0.1:8090/realms/varde-kommune", "mette", password)
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from brobygger_stack.identity.seed import LOGIN_CLIENT

REDIRECT = "http://127.0.0.1/callback"
"""Registered for the login client; never opened: the code is read from the redirect itself."""


class LoginFailed(RuntimeError):
    pass


def login(issuer: str, username: str, password: str, *, timeout: float = 10.0) -> str:
    """An access token for `username` at `issuer` (the embedded provider's login form)."""
    verifier, state = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    with httpx.Client(timeout=timeout) as http:
        form_page = http.get(f"{issuer}/protocol/openid-connect/auth", params={
            "response_type": "code", "client_id": LOGIN_CLIENT, "redirect_uri": REDIRECT, "state": state,
            "scope": "openid profile email", "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256"})
        if form_page.status_code != 200:
            raise LoginFailed(f"the issuer did not show its login form: HTTP {form_page.status_code}")
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form_page.text))
        action = re.search(r'<form method="post" action="([^"]+)"', form_page.text)
        if action is None:
            raise LoginFailed("the issuer's login page has no form")
        answer = http.post(urljoin(issuer, action.group(1)), data={**fields, "username": username, "password": password})
        if answer.status_code != 302:
            raise LoginFailed(f"login refused for {username!r} (HTTP {answer.status_code})")
        query = parse_qs(urlsplit(answer.headers["Location"]).query)
        if query.get("state") != [state] or "code" not in query:
            raise LoginFailed("the issuer's redirect carries no code for this login")
        tokens = http.post(f"{issuer}/protocol/openid-connect/token", data={
            "grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": REDIRECT,
            "client_id": LOGIN_CLIENT, "code_verifier": verifier})
        if tokens.status_code != 200:
            raise LoginFailed(f"the code exchange failed: HTTP {tokens.status_code} {tokens.text[:200]}")
        return tokens.json()["access_token"]


def login_as(provider, org: str, username: str) -> str:  # noqa: ANN001
    """Login with the generated password the embedded provider keeps for `username`."""
    return login(provider.issuer(org), username, provider.password(org, username))
