"""The route matrix of DESIGN.md section 9, generated from the services' own
routes: every route of every service is called without a token, and as each
role of the owning organisation (varde-kommune), of a partner inside the
citizen's consent (red-cross) and of an organisation outside it (abf), against
the services running as processes on the real broker and PostgreSQL.

- no route but /health/*, /metrics and the API docs lacks a token check;
- without a token: 401; a role the route does not admit: 403;
- an admitted role of the owning organisation gets past the gate (not 401, not
  the role gate's 403);
- an organisation outside the citizen's consent never succeeds (no 2xx) on a
  route about that citizen, their referral or their proposal, whatever its role;
- a partner inside the consent reads the citizen's journey and candidates.
"""

from __future__ import annotations

import asyncio
import base64
import importlib
import re
import time
import uuid
from dataclasses import dataclass

import httpx
import pytest

from brobygger_runtime.auth.roles import Role
from brobygger_runtime.auth.route_guard import route_policies
from brobygger_stack.demo import DemoEndpoints, load_partnership, seed

OWNER, PARTNER, OUTSIDE = "varde-kommune", "red-cross", "abf"
GUIDE = "anne"
REFERRER = "hanne"
CITIZEN_BOUND = re.compile(r"\{(citizen_id|referral_id|proposal_id)\}")
ALL_ROLES = tuple(Role)


@dataclass
class Cell:
    service: str
    method: str
    path: str
    org: str | None
    role: Role | None
    status: int

    def __str__(self) -> str:
        who = "no token" if self.role is None else f"{self.role}@{self.org}"
        return f"{self.service} {self.method} {self.path} as {who}: {self.status}"


def built_routes() -> dict[str, list[tuple[str, str, frozenset[Role] | None]]]:
    """Each service's routes and the roles each admits, read from the app the service builds."""
    found = {}
    for package in ("referral", "matching", "journey", "notify"):
        bootstrap = importlib.import_module(f"{package}.bootstrap")
        required = {"key_encryption_key": base64.b64encode(bytes(32)).decode()} if package == "referral" else {}
        _runtime, app = bootstrap.build(bootstrap.Settings(database_url="sqlite+aiosqlite:///:memory:", **required))
        found[package] = route_policies(app)
    return found


def test_every_route_checks_a_token():
    unguarded = [f"{service} {method} {path}" for service, routes in built_routes().items()
                 for method, path, roles in routes if roles is None]
    assert not unguarded, f"routes without requires(...): {unguarded}"


def _subject(org: str, role: Role) -> str | None:
    if org == OWNER and role is Role.guide:
        return GUIDE  # the citizen's guide: their caseload
    if org == OWNER and role is Role.referrer:
        return REFERRER  # who submitted the card
    return None


async def _referred_citizen(stack, identity) -> dict[str, str]:  # noqa: ANN001
    """A citizen referred by home care with consent for the municipality and Red Cross (not ABF),
    with a guide, a clarification and a proposal; returns the ids to put in the paths."""
    eps = DemoEndpoints.of_stack(stack)
    data = load_partnership()
    data["guides"] = [g for g in data["guides"] if g["guide_id"] == GUIDE]
    await asyncio.to_thread(seed, eps, data, lambda _line: None)
    citizen = data["citizens"][0]  # Frida: the municipality's activities suit her
    card = citizen["card"]
    card["consent"]["organisations"] = [OWNER, PARTNER]
    card["consent"]["given_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    async with httpx.AsyncClient(timeout=30) as http:
        accepted = await http.post(f"{eps.referral}/referrals", json=card, auth=identity.auth("referrer", subject=REFERRER))
        assert accepted.status_code == 201, accepted.text
        ids = {"citizen_id": accepted.json()["citizen_id"], "referral_id": accepted.json()["referral_id"]}
        coordinator = identity.auth("coordinator")
        deadline = time.monotonic() + 60
        while True:
            journey = await http.get(f"{eps.journey}/journeys/{ids['citizen_id']}", auth=coordinator)
            if journey.status_code == 200 and journey.json().get("guide_id"):
                break
            assert time.monotonic() < deadline, f"no guide assigned: {journey.status_code} {journey.text[:200]}"
            await asyncio.sleep(0.2)
        clarified = await http.post(f"{eps.journey}/journeys/{ids['citizen_id']}/clarification",
                                    json=citizen["clarification"], auth=identity.auth("guide", subject=GUIDE))
        assert clarified.status_code == 201, clarified.text
        while True:
            page = await http.get(f"{eps.matching[OWNER]}/proposals", params={"citizen_id": ids["citizen_id"]},
                                  auth=coordinator)
            assert page.status_code == 200, page.text
            items = page.json() if isinstance(page.json(), list) else page.json().get("items", [])
            if items:
                ids["proposal_id"] = str(items[0]["proposal_id"])
                break
            assert time.monotonic() < deadline, "no proposal"
            await asyncio.sleep(0.2)
    ids["recipient_id"] = GUIDE
    return ids


def _url(base: str, path: str, ids: dict[str, str]) -> str:
    return base + re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), str(uuid.uuid4())), path)


async def _call(http: httpx.AsyncClient, method: str, url: str, auth: httpx.Auth | None) -> tuple[int, str]:
    """The status and, for a refusal, its error code (`insufficient_role` is the role gate's)."""
    body = {} if method in ("POST", "PUT", "PATCH") else None
    kwargs = {"auth": auth} if auth is not None else {}
    response = await http.request(method, url, json=body, **kwargs)
    error = ""
    if response.status_code in (401, 403):
        detail = response.json().get("detail") if "json" in response.headers.get("content-type", "") else None
        error = detail.get("error", "") if isinstance(detail, dict) else ""
    return response.status_code, error


@pytest.mark.timeout(600)
async def test_route_matrix(stack, identity):  # noqa: ANN001
    routes = built_routes()
    ids = await _referred_citizen(stack, identity)
    urls = {"referral": stack.url("referral"), "journey": stack.url("journey"), "notify": stack.url("notify"),
            "matching": stack.url("matching")}
    cells: list[Cell] = []
    wrong: list[str] = []
    async with httpx.AsyncClient(timeout=30) as http:
        # A partner inside the consent reads what it needs of the citizen.
        for service, path in (("journey", "/journeys/{citizen_id}"), ("matching", "/citizens/{citizen_id}/candidates")):
            url = _url(urls[service], path, ids)
            response = await http.get(url, auth=identity.auth("coordinator", org=PARTNER))
            if response.status_code != 200:
                wrong.append(f"{service} GET {path} as coordinator@{PARTNER} (inside consent): {response.status_code}")
        # Refusals first, the owner's own calls last (they may change or erase the citizen), DELETE at the very end.
        plan = []
        for service, service_routes in routes.items():
            for method, path, admitted in service_routes:
                plan.append((0, service, method, path, admitted, None, None))
                for org in (OWNER, PARTNER, OUTSIDE):
                    for role in ALL_ROLES:
                        allowed = not admitted or role in admitted
                        stage = 0 if not allowed or org == OUTSIDE else (1 if org == PARTNER else 2)
                        if method == "DELETE" and stage:
                            stage = 3
                        plan.append((stage, service, method, path, admitted, org, role))
        plan.sort(key=lambda p: p[0])
        for _stage, service, method, path, admitted, org, role in plan:
            auth = None if role is None else identity.auth(role.value, org=org, subject=_subject(org, role))
            status, error = await _call(http, method, _url(urls[service], path, ids), auth)
            cell = Cell(service, method, path, org, role, status)
            cells.append(cell)
            if status >= 500:
                wrong.append(f"{cell} (server error)")
            elif role is None:
                if status not in (401, 429):  # 429 once this address has failed too often
                    wrong.append(f"{cell}, expected 401")
            elif admitted and role not in admitted:
                if status != 403 or error != "insufficient_role":
                    wrong.append(f"{cell}, expected 403: the route admits {sorted(admitted)}")
            elif org == OUTSIDE and CITIZEN_BOUND.search(path):
                if status < 400:
                    wrong.append(f"{cell}, expected a refusal: the citizen's consent does not name {org}")
            elif org == OWNER:
                # Past the gate: a 403 may still come from the case itself (a referrer not following), never the role.
                if status == 401 or error == "insufficient_role":
                    wrong.append(f"{cell}, expected the owner's {role} past the gate")
    print(f"\n{len(cells)} calls over {sum(len(r) for r in routes.values())} routes of {len(routes)} services")
    assert not wrong, f"{len(wrong)} cells wrong:\n" + "\n".join(wrong[:40])


VOLUNTEER_LIFECYCLE = {
    ("GET", "/volunteers/me"): {Role.volunteer},
    ("GET", "/volunteers/report"): {Role.coordinator, Role.steering},
    ("GET", "/volunteers/{volunteer_id}"): {Role.coordinator, Role.volunteer},
    ("POST", "/volunteers/applications"): {Role.coordinator, Role.volunteer},
    ("POST", "/volunteers/supervision-sessions"): {Role.coordinator},
    ("POST", "/volunteers/{volunteer_id}/interview"): {Role.coordinator},
    ("POST", "/volunteers/{volunteer_id}/vetting"): {Role.coordinator},
    ("POST", "/volunteers/{volunteer_id}/confidentiality"): {Role.coordinator},
    ("POST", "/volunteers/{volunteer_id}/training"): {Role.coordinator},
    ("POST", "/volunteers/{volunteer_id}/pause"): {Role.coordinator, Role.volunteer},
    ("POST", "/volunteers/{volunteer_id}/resume"): {Role.coordinator, Role.volunteer},
}
"""The volunteer lifecycle's routes (issue 14) and who may call them; the matrix above calls each as every role."""


def test_volunteer_lifecycle_routes_admit_whom_the_readme_says():
    admitted = {(method, path): set(roles) for method, path, roles in built_routes()["matching"]}
    assert {route: admitted.get(route) for route in VOLUNTEER_LIFECYCLE} == VOLUNTEER_LIFECYCLE
