"""The console's own behaviour, against the real embedded identity provider
(no service behind it: pages that would ask one are not opened here; the
browser tests in tests/browser run the whole stack): the login with PKCE,
sessions and their cookies, form tokens, who may open which page, preferences."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from brobygger_stack.testing import embedded_identity
from console.app import build
from console.sessions import COOKIE
from console.settings import ConsoleSettings

BASE = "http://127.0.0.1:8765"

# Every page of the console and who may open it ("anyone" needs no login). A new page is added here.
ROUTES = {
    ("GET", "/"): "anyone", ("GET", "/login"): "anyone", ("GET", "/login/start"): "anyone",
    ("GET", "/callback"): "anyone", ("POST", "/logout"): "anyone (form token)",
    ("POST", "/preferences"): "anyone (form token)", ("GET", "/console.css"): "anyone",
    ("GET", "/health/live"): "anyone", ("GET", "/health/ready"): "anyone",
    ("GET", "/refer/public"): "anyone", ("POST", "/refer/public"): "anyone (form token)",
    ("GET", "/refer"): "referrer, guide, coordinator", ("POST", "/refer"): "referrer, guide, coordinator",
    ("GET", "/guide"): "guide, coordinator", ("GET", "/guide/citizens/{citizen_id}"): "guide, coordinator",
    ("POST", "/guide/citizens/{citizen_id}/{step}"): "guide, coordinator",
    ("POST", "/guide/tasks/{task_id}/done"): "guide, coordinator",
    ("GET", "/volunteer"): "volunteer", ("POST", "/volunteer/{action}"): "volunteer",
    ("GET", "/coordinator"): "coordinator",
    ("GET", "/steering"): "steering, coordinator", ("GET", "/steering/{name}.csv"): "steering, coordinator",
}


def console(public_url: str = BASE) -> TestClient:
    provider = embedded_identity()
    settings = ConsoleSettings(http_port=8765, public_url=public_url, trusted_issuers=provider.trusted_issuers_json(),
                               referral_url="http://127.0.0.1:9", journey_url="http://127.0.0.1:9",
                               matching_urls="varde-kommune=http://127.0.0.1:9")
    _runtime, app = build(settings)
    return TestClient(app, base_url=public_url)


def log_in(client: TestClient, org: str, username: str, next_path: str = "/") -> httpx.Response:
    """The whole authorization code flow: the console's redirect, the issuer's form, the callback."""
    provider = embedded_identity()
    start = client.get("/login/start", params={"org": org, "next": next_path}, follow_redirects=False)
    assert start.status_code == 303
    form = httpx.get(start.headers["location"])
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.text))
    action = re.search(r'<form method="post" action="([^"]+)"', form.text).group(1)
    answer = httpx.post(provider.base_url + action,
                        data={**fields, "username": username, "password": provider.password(org, username)})
    assert answer.status_code == 302, answer.text
    return client.get(answer.headers["location"].replace(client.base_url.__str__().rstrip("/"), ""),
                      follow_redirects=False)


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_every_page_is_listed_with_who_may_open_it() -> None:
    def routes(where: list) -> list:  # FastAPI keeps an included router as one entry
        return [r for route in where
                for r in (routes(route.original_router.routes) if hasattr(route, "original_router") else [route])]

    with console() as client:
        served = {(method, route.path) for route in routes(client.app.routes)
                  for method in getattr(route, "methods", ()) if method != "HEAD"}
    assert served == set(ROUTES)


def test_login_is_the_authorization_code_flow_with_pkce_at_the_persons_own_issuer() -> None:
    with console() as client:
        start = client.get("/login/start", params={"org": "red-cross"}, follow_redirects=False)
        where = urlsplit(start.headers["location"])
        query = parse_qs(where.query)
        assert where.path == "/realms/red-cross/protocol/openid-connect/auth"
        assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
        assert query["redirect_uri"] == [f"{BASE}/callback"] and query["response_type"] == ["code"]
        assert "code_verifier" not in query  # the verifier stays in the server-side session
        refused = client.get("/login/start", params={"org": "nowhere"})
        assert refused.status_code == 400


def test_after_login_the_session_id_is_new_and_the_cookie_is_httponly_and_samesite_lax() -> None:
    with console() as client:
        client.get("/")
        before = client.cookies.get(COOKIE)
        answer = log_in(client, "varde-kommune", "anne", "/guide")
        assert answer.status_code == 303 and answer.headers["location"] == "/guide"
        cookie = answer.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
        assert client.cookies.get(COOKIE) != before  # no session fixation
        home = client.get("/")
        assert "Anne Holm" in home.text and "varde-kommune" in home.text
        assert home.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in home.headers["content-security-policy"]


def test_over_https_the_session_cookie_is_secure() -> None:
    with console("https://console.varde.example") as client:
        answer = client.get("/")
        assert "Secure" in answer.headers["set-cookie"] and "HttpOnly" in answer.headers["set-cookie"]


def test_a_callback_that_this_session_did_not_start_logs_nobody_in() -> None:
    with console() as client:
        client.get("/login/start", params={"org": "varde-kommune"}, follow_redirects=False)
        forged = client.get("/callback", params={"state": "someone-elses", "code": "stolen"})
        assert forged.status_code == 400
        assert client.get("/guide", follow_redirects=False).headers["location"] == "/login?next=/guide"


def test_a_form_without_this_sessions_token_is_refused() -> None:
    with console() as client:
        page = client.get("/")
        refused = client.post("/preferences", data={"lang": "sv", "back": "/"})
        assert refused.status_code == 403 and "console_lang" not in refused.headers.get("set-cookie", "")
        wrong = client.post("/preferences", data={"lang": "sv", "back": "/", "csrf_token": "x" * 43})
        assert wrong.status_code == 403
        accepted = client.post("/preferences", data={"lang": "sv", "text": "large", "back": "/",
                                                     "csrf_token": csrf(page.text)}, follow_redirects=False)
        assert accepted.status_code == 303
        swedish = client.get("/")
        assert '<html lang="sv" class="large">' in swedish.text and "Logga in" in swedish.text


def test_pages_need_a_login_and_the_right_role() -> None:
    with console() as client:
        for path in ("/guide", "/refer", "/volunteer", "/coordinator", "/steering", "/steering/funnel.csv",
                     "/guide/citizens/6f1c1f8e-9b7a-4c1e-8a55-3d2f1b0c9e11"):
            answer = client.get(path, follow_redirects=False)
            assert answer.status_code == 303 and answer.headers["location"] == f"/login?next={path}", path
        log_in(client, "varde-kommune", "jens")  # a volunteer
        for path in ("/guide", "/refer", "/coordinator", "/steering", "/steering/funnel.csv"):
            assert client.get(path).status_code == 403, path
        log_in(client, "varde-kommune", "peter")  # the steering group
        for path in ("/guide", "/refer", "/coordinator", "/volunteer"):
            assert client.get(path).status_code == 403, path


def test_logout_ends_the_session() -> None:
    with console() as client:
        log_in(client, "varde-kommune", "anne")
        page = client.get("/refer")
        assert page.status_code == 200
        client.post("/logout", data={"csrf_token": csrf(page.text)})
        assert client.get("/refer", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("next_path", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
def test_the_login_goes_back_only_to_a_page_of_the_console(next_path: str) -> None:
    with console() as client:
        page = client.get("/login", params={"next": next_path})
        assert 'name="next" value="/"' in page.text


def test_the_public_page_takes_a_few_cards_per_address_then_asks_to_wait(monkeypatch) -> None:  # noqa: ANN001
    from brobygger_runtime.auth import FailureThrottle
    from console.pages import refer

    monkeypatch.setattr(refer, "PUBLIC_CARDS_PER_ADDRESS", FailureThrottle(limit=5, window_seconds=600))
    with console() as client:
        token = csrf(client.get("/refer/public").text)
        answers = [client.post("/refer/public", data={"csrf_token": token, "referrer.source": "self"}).status_code
                   for _ in range(6)]
    assert answers[:5] == [503] * 5  # no public client configured here: "call the municipality"
    assert answers[5] == 429


def test_an_expired_token_sends_the_person_to_the_login_again() -> None:
    with console() as client:
        log_in(client, "varde-kommune", "anne")
        assert client.get("/refer").status_code == 200
        store = client.app.state.console.sessions
        (session,) = [s for s in store._sessions.values() if s.person is not None]
        session.person.token_expires_at = 0.0
        answer = client.get("/refer", follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/login?next=/refer"
        assert client.get("/").text.count("Anne Holm") == 0
