"""Plays the demo partnership through the running services' APIs, printing progress.

Everything goes through the public HTTP APIs and the bus, as a guide's or a
coordinator's tools would, each person logged in at their organisation's
issuer (authorization code + PKCE): the coordinators register guides,
contacts, volunteers and activities; home care's referrer submits the cards;
the assigned guide records the clarification; the coordinators look for the
proposals and the e-mails they cause.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Callable

import httpx

from brobygger_stack.identity.login import login
from brobygger_stack.smtp_catcher import count_in_maildir

COORDINATOR = {"varde-kommune": "mette", "red-cross": "birgit", "abf": "lars"}
REFERRER = ("varde-kommune", "hanne")
TOKEN_REUSE_SECONDS = 120.0
"""The embedded issuer's tokens live 300 s; log in again well before."""


class People:
    """The demo's people, each logged in at their organisation's issuer when first needed."""

    def __init__(self, identity: Any) -> None:
        self.identity = identity
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}

    def auth(self, org: str, username: str) -> dict[str, str]:
        token, at = self._tokens.get((org, username), ("", 0.0))
        if not token or time.monotonic() - at > TOKEN_REUSE_SECONDS:
            token = login(self.identity.issuer(org), username, self.identity.password(org, username))
            self._tokens[(org, username)] = (token, time.monotonic())
        return {"Authorization": f"Bearer {token}"}

    def coordinator(self, org: str) -> dict[str, str]:
        return self.auth(org, COORDINATOR[org])


@dataclass
class DemoEndpoints:
    referral: str
    journey: str
    notify: str
    matching: dict[str, str]
    """Matching instance URL per organisation."""
    maildir: Path
    people: People
    """Logins of the demo's people (the embedded provider's generated passwords)."""

    @classmethod
    def of_stack(cls, stack: Any) -> "DemoEndpoints":
        """The running EmbeddedStack's services and its identity provider."""
        matching = {proc.org_id: proc.url for proc in stack.services.values() if proc.package == "matching"}
        return cls(referral=stack.url("referral"), journey=stack.url("journey"), notify=stack.url("notify"),
                   matching=matching, maildir=stack.maildir, people=People(stack.identity))


@dataclass
class CitizenResult:
    label: str
    citizen_id: str
    guide_id: str | None
    proposals: list[dict[str, Any]]
    seconds_to_proposal: float


def load_partnership() -> dict[str, Any]:
    return json.loads(resources.files("brobygger_stack").joinpath("demo_partnership.json").read_text("utf-8"))


def _ok(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise RuntimeError(f"{response.request.method} {response.request.url} -> {response.status_code}: {response.text}")
    return response.json()


def _wait(what: str, probe: Callable[[], Any], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = probe()
        if result:
            return result
        time.sleep(0.2)
    raise TimeoutError(f"gave up waiting for {what} after {timeout:.0f}s")


def _settled(look: Callable[[], list], found: list, quiet_seconds: float = 1.5) -> list:
    """Look again until nothing new turns up for `quiet_seconds`: each organisation's
    matching proposes on its own, so the first proposal need not be the last."""
    deadline = time.monotonic() + quiet_seconds
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = look()
        if len(now) > len(found):
            found, deadline = now, time.monotonic() + quiet_seconds
    return found


def seed(endpoints: DemoEndpoints, data: dict[str, Any], say: Callable[[str], None]) -> None:
    people = endpoints.people
    with httpx.Client(timeout=10) as http:
        for guide in data["guides"]:
            staff = people.coordinator(guide["org"])
            _ok(http.post(f"{endpoints.journey}/guides", headers=staff,
                          json={k: guide[k] for k in ("guide_id", "display_name", "capacity")}))
            _ok(http.post(f"{endpoints.notify}/contacts", headers=staff, json={
                "recipient_id": guide["guide_id"], "role": "guide", "display_name": guide["display_name"],
                "email": guide["email"], "language": guide["language"], "preferred_channel": "email"}))
        say(f"registered {len(data['guides'])} guides with journey and their e-mail with notify")
        today = datetime.now(UTC).date().isoformat()
        for volunteer in data["volunteers"]:
            body = {k: v for k, v in volunteer.items() if k != "org"}
            if body.get("trained"):  # the demo's trained volunteers were also vetted and signed (only they are proposed)
                body |= {"vetting": {"kind": "criminal_record_extract", "seen_on": today}, "confidentiality_signed_on": today}
            _ok(http.post(f"{endpoints.matching[volunteer['org']]}/volunteers", json=body,
                          headers=people.coordinator(volunteer["org"])))
        say(f"registered {len(data['volunteers'])} volunteer friends with Red Cross's matching")
        for activity in data["activities"]:
            body = {k: v for k, v in activity.items() if k != "org"}
            _ok(http.post(f"{endpoints.matching[activity['org']]}/activities", json=body,
                          headers=people.coordinator(activity["org"])))
        say(f"published {len(data['activities'])} activities in the municipality's catalogue")


def play_citizen(endpoints: DemoEndpoints, citizen: dict[str, Any], say: Callable[[str], None], timeout: float) -> CitizenResult:
    people = endpoints.people
    home = REFERRER[0]
    with httpx.Client(timeout=10) as http:
        card = json.loads(json.dumps(citizen["card"]))
        card["consent"]["given_at"] = datetime.now(UTC).isoformat()
        started = time.monotonic()
        accepted = _ok(http.post(f"{endpoints.referral}/referrals", json=card, headers=people.auth(*REFERRER)))
        citizen_id = accepted["citizen_id"]
        say(f"{citizen['label']}: referral accepted, citizen {citizen_id[:8]}…")

        def guide() -> str | None:
            response = http.get(f"{endpoints.journey}/journeys/{citizen_id}", headers=people.coordinator(home))
            return response.json().get("guide_id") if response.status_code == 200 else None

        guide_id = _wait("a guide to be assigned", guide, timeout)
        say(f"{citizen['label']}: journey opened, guide {guide_id} assigned")
        _ok(http.post(f"{endpoints.journey}/journeys/{citizen_id}/clarification", json=citizen["clarification"],
                      headers=people.auth(home, guide_id)))
        say(f"{citizen['label']}: clarification recorded by {guide_id} "
            f"(wishes: {', '.join(citizen['clarification']['wishes'])})")

        def proposals() -> list[dict[str, Any]]:
            found = []
            for org, url in endpoints.matching.items():
                found += _items(_ok(http.get(f"{url}/proposals", params={"citizen_id": citizen_id},
                                             headers=people.coordinator(org))))
            return found

        found = _wait("a match proposal", proposals, timeout)
        elapsed = time.monotonic() - started
        found = _settled(proposals, found)
        for proposal in found:
            reasons = proposal.get("reasons")
            reasons = json.loads(reasons) if isinstance(reasons, str) else reasons
            say(f"{citizen['label']}: MatchProposed {proposal.get('kind')} (score {float(proposal.get('score', 0)):.2f}): "
                + "; ".join(reasons or []))
        return CitizenResult(citizen["label"], citizen_id, guide_id, found, elapsed)


def _items(page: Any) -> list[dict[str, Any]]:
    """A list endpoint's items, whether it answers a bare list or a page object."""
    return page if isinstance(page, list) else page.get("items", [])


def play(endpoints: DemoEndpoints, say: Callable[[str], None] = print, timeout: float = 60.0) -> list[CitizenResult]:
    """Seed the partnership and play every demo citizen through the slice."""
    data = load_partnership()
    mails_before = count_in_maildir(endpoints.maildir) if endpoints.maildir.exists() else 0
    seed(endpoints, data, say)
    results = [play_citizen(endpoints, citizen, say, timeout) for citizen in data["citizens"]]
    expected = sum(len(r.proposals) for r in results)
    _wait(f"{expected} e-mails", lambda: count_in_maildir(endpoints.maildir) - mails_before >= expected, timeout)
    say(f"{count_in_maildir(endpoints.maildir) - mails_before} e-mails about proposals reached the guides (mail catcher: {endpoints.maildir})")
    return results
