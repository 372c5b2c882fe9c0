"""Issue 15 cases 6 and 7 through the four services as separate processes (real broker, PostgreSQL):

- case 6, follow-through: a contact restarts the follow-up timer, a follow-up's outcome is recorded
  (FollowUpRecorded) and `needs_new_proposal` asks matching again (NeedsClarified): the match ends and a new
  proposal comes; the UCLA-3 asked again is
  kept with its time point, the guide's tasks and the partner report show it;
- case 7, messages that fit people: the guide hears of the new citizen, the referrer hears of "the person
  you referred on <day>" and never a score, a citizen without e-mail or mobile becomes the guide's task with
  a printable letter, and no operator is alerted.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from babel.dates import format_date

from brobygger_contracts.events.journey import FollowUpRecorded, NeedsClarified
from brobygger_stack.demo import DemoEndpoints, load_partnership
from brobygger_stack.stack import EmbeddedStack, InstanceSpec, default_instances
from brobygger_stack.testing import partnership_topics_on, read_topic_to_end, wait_until
from tests.e2e.conftest import free_base_port, running_stack

ORG = "varde-kommune"
BASELINE = {"lack_companionship": 3, "left_out": 3, "isolated": 3}


@dataclass
class CitizensReachable(EmbeddedStack):
    """The embedded stack with notify asking referral for citizens' contact details (CITIZEN_CONTACT_URL),
    as a partnership that writes to its citizens runs it."""

    def service_env(self, spec: InstanceSpec) -> dict[str, str]:
        env = super().service_env(spec)
        referral = next(i for i in self.instances if i.package == "referral")
        if spec.package == "notify":
            env["CITIZEN_CONTACT_URL"] = f"http://127.0.0.1:{referral.port}"
        return env


async def _stack(kafka_bootstrap, database_url_factory, tmp_path: Path):  # noqa: ANN001, ANN202
    instances = default_instances(base_port=free_base_port())
    databases = {f"{i.package}@{i.org_id}": await database_url_factory(i.package) for i in instances}
    return running_stack(kafka_bootstrap, databases, tmp_path / "stack", instances, name="ft", stack_type=CitizensReachable)


class Partnership:
    """The municipality's people at work: anne the only guide, a referrer contact, an operator contact."""

    def __init__(self, stack) -> None:  # noqa: ANN001
        self.stack = stack
        self.eps = DemoEndpoints.of_stack(stack)
        self.http = httpx.AsyncClient(timeout=30)
        self.coordinator = self.eps.people.coordinator(ORG)
        self.anne = self.eps.people.auth(ORG, "anne")

    async def seed(self) -> None:
        ok = (200, 201)
        assert (await self.http.post(f"{self.eps.journey}/guides", headers=self.coordinator,
                                     json={"guide_id": "anne", "capacity": 10})).status_code in ok
        for contact in (
            {"recipient_id": "anne", "role": "guide", "display_name": "Anne", "email": "anne@varde.example", "language": "da"},
            {"recipient_id": ORG, "role": "referrer", "display_name": "Hjemmeplejen", "email": "henvis@varde.example",
             "language": "da"},
            {"recipient_id": "it-vagt", "role": "operator", "display_name": "IT", "email": "it@varde.example", "language": "da"},
        ):
            assert (await self.http.post(f"{self.eps.notify}/contacts", headers=self.coordinator, json=contact)).status_code in ok
        activity = next(a for a in load_partnership()["activities"] if a["org"] == ORG)
        body = {k: v for k, v in activity.items() if k != "org"}
        assert (await self.http.post(f"{self.eps.matching[ORG]}/activities", headers=self.coordinator, json=body)).status_code in ok

    async def refer(self, phone: str | None = None) -> str:
        card = load_partnership()["citizens"][0]["card"]
        card["citizen"] = {**card["citizen"], "name": "Lillemor Jensen", "phone": phone, "email": None}
        card["referrer"] = {"source": "home_care", "name": "Hanne", "org": ORG}
        card["consent"] = {**card["consent"], "given_at": datetime.now(UTC).isoformat()}
        answer = await self.http.post(f"{self.eps.referral}/referrals", json=card, headers=self.eps.people.auth(ORG, "hanne"))
        assert answer.status_code == 201, answer.text
        citizen = answer.json()["citizen_id"]

        async def guided() -> bool:
            journey = await self.http.get(f"{self.eps.journey}/journeys/{citizen}", headers=self.coordinator)
            return journey.status_code == 200 and journey.json()["guide_id"] == "anne"

        await wait_until(guided, timeout=60, interval=0.3)
        return citizen

    async def journey(self, citizen: str) -> dict:
        return (await self.http.get(f"{self.eps.journey}/journeys/{citizen}", headers=self.anne)).json()

    async def proposals(self, citizen: str) -> list[dict]:
        return (await self.http.get(f"{self.eps.matching[ORG]}/proposals", params={"citizen_id": citizen},
                                    headers=self.coordinator)).json()

    async def clarified_and_accepted(self, citizen: str) -> dict:
        clarification = {"interests": ["gåtur"], "wishes": ["activity"], "baseline": BASELINE}
        assert (await self.http.post(f"{self.eps.journey}/journeys/{citizen}/clarification", headers=self.anne,
                                     json=clarification)).status_code == 201

        async def proposed() -> bool:
            return bool(await self.proposals(citizen))

        await wait_until(proposed, timeout=60, interval=0.3)
        [proposal] = await self.proposals(citizen)
        accepted = await self.http.post(f"{self.eps.matching[ORG]}/proposals/{proposal['proposal_id']}/accept", headers=self.anne)
        assert accepted.status_code == 200, accepted.text

        async def match_accepted() -> bool:
            return (await self.journey(citizen))["state"] == "match_accepted"

        await wait_until(match_accepted, timeout=60, interval=0.3)
        return proposal

    def mails(self, to: str) -> list:
        return [m for m in self.stack.smtp.messages if to in m.recipients]


async def _events(kafka: str, stack, service: str, event_type: str) -> list:  # noqa: ANN001
    topics = await partnership_topics_on(kafka, stack.partnership_id, services={service}, dead_letters=False)
    records = await read_topic_to_end(kafka, topics, partnership=stack.partnership_id)
    return [r for r in records if dict(r.headers)["ce_type"].decode() == event_type]


async def test_follow_through_after_the_first_visit(kafka_bootstrap, database_url_factory, tmp_path):  # noqa: ANN001
    async with await _stack(kafka_bootstrap, database_url_factory, tmp_path) as stack:
        p = Partnership(stack)
        await p.seed()
        citizen = await p.refer(phone="+45 20 11 22 33")
        await p.clarified_and_accepted(citizen)
        visited = datetime.now(UTC).replace(microsecond=0)
        assert (await p.http.post(f"{p.eps.journey}/journeys/{citizen}/first-visit", headers=p.anne,
                                  json={"visited_at": visited.isoformat()})).status_code == 201
        [before] = [t["due_at"] for t in (await p.journey(citizen))["pending_timers"] if t["kind"] == "follow_up"]
        assert datetime.fromisoformat(before) == visited + timedelta(days=14)

        # a call ten days later restarts the follow-up timer: due a month after the call, not on day 14
        called = visited + timedelta(days=10)
        assert (await p.http.post(f"{p.eps.journey}/journeys/{citizen}/contacts", headers=p.anne,
                                  json={"kind": "call", "at": called.isoformat()})).status_code == 201
        [after] = [t["due_at"] for t in (await p.journey(citizen))["pending_timers"] if t["kind"] == "follow_up"]
        assert datetime.fromisoformat(after) > called + timedelta(days=27), (before, after)

        # the UCLA-3 asked again, kept with its time point
        measured = await p.http.post(f"{p.eps.journey}/journeys/{citizen}/loneliness", headers=p.anne,
                                     json={"time_point": "after_start", "lack_companionship": 2, "left_out": 2, "isolated": 2})
        assert measured.status_code == 201
        assert (await p.journey(citizen))["measures"]["after_start"]["answers"] == {
            "lack_companionship": 2, "left_out": 2, "isolated": 2}

        # it did not work out: the outcome on the bus, matching ends the match and, asked again with the kept
        # clarification, proposes a walk published since (the first one is never proposed twice)
        activity = next(a for a in load_partnership()["activities"] if a["org"] == ORG)
        second_walk = {k: v for k, v in activity.items() if k != "org"} | {"name": "Aftengåtur ved åen"}
        second_walk.pop("activity_id", None)
        published = await p.http.post(f"{p.eps.matching[ORG]}/activities", headers=p.coordinator, json=second_walk)
        assert published.status_code in (200, 201), published.text
        first_proposal = (await p.proposals(citizen))[0]
        outcome = await p.http.post(f"{p.eps.journey}/journeys/{citizen}/follow-ups", headers=p.anne,
                                    json={"outcome": "needs_new_proposal", "reason": "did_not_click"})
        assert outcome.status_code == 201 and outcome.json()["state"] == "matching"

        async def asked_again() -> bool:
            return len(await _events(kafka_bootstrap, stack, "journey", NeedsClarified.event_type())) == 2

        await wait_until(asked_again, timeout=60, interval=0.5)

        async def proposed_anew() -> bool:
            return any(q["status"] == "proposed" and q["candidate_id"] == published.json()["activity_id"]
                       for q in await p.proposals(citizen))

        await wait_until(proposed_anew, timeout=60, interval=0.5)
        assert next(q for q in await p.proposals(citizen)
                    if q["proposal_id"] == first_proposal["proposal_id"])["status"] == "ended"
        [recorded] = await _events(kafka_bootstrap, stack, "journey", FollowUpRecorded.event_type())
        assert b"did_not_click" not in recorded.value  # the reason travels sealed
        assert (await p.journey(citizen))["follow_ups"][0]["reason"] == "did_not_click"

        partners = (await p.http.get(f"{p.eps.journey}/reports/partners", headers=p.coordinator)).json()
        assert partners[ORG]["referrals"] == 1 and partners[ORG]["proposals_accepted"] == 1


async def test_messages_fit_the_people_they_reach(kafka_bootstrap, database_url_factory, tmp_path):  # noqa: ANN001
    async with await _stack(kafka_bootstrap, database_url_factory, tmp_path) as stack:
        p = Partnership(stack)
        await p.seed()
        citizen = await p.refer(phone=None)  # no mobile, no e-mail: only a letter or a call reaches her

        # the guide hears of her new citizen
        async def guide_told() -> bool:
            return any(m.subject.startswith("En ny borger til dig") for m in p.mails("anne@varde.example"))

        await wait_until(guide_told, timeout=60, interval=0.3)

        # the referrer hears of "the person you referred on <day>", never an id
        assert (await p.http.post(f"{p.eps.journey}/journeys/{citizen}/contacts", headers=p.anne, json={"kind": "call"})).status_code == 201
        day = format_date(datetime.now(ZoneInfo("Europe/Copenhagen")).date(), "d. MMMM", locale="da_DK")

        async def referrer_told() -> bool:
            return any(m.subject == f"Nyt om personen, du henviste den {day}" for m in p.mails("henvis@varde.example"))

        await wait_until(referrer_told, timeout=60, interval=0.3)

        # she says yes to an activity: her thank-you SMS has no channel, so it is her guide's call or letter
        await p.clarified_and_accepted(citizen)

        async def task_for_anne() -> list[dict]:
            tasks = (await p.http.get(f"{p.eps.journey}/tasks", headers=p.anne)).json()
            return [t for t in tasks if t["kind"] == "call_or_write"]

        await wait_until(task_for_anne, timeout=60, interval=0.3)
        [task] = await task_for_anne()
        letter = await p.http.get(f"{p.eps.notify}{task['details']['letter']}", headers=p.anne)
        assert letter.status_code == 200 and "Kære Lillemor Jensen" in letter.text and letter.text.startswith("Tak for dit ja")
        karin = await p.http.get(f"{p.eps.notify}{task['details']['letter']}", headers=p.eps.people.auth(ORG, "karin"))
        assert karin.status_code == 404

        # the journey ends with the loneliness measured: the referrer hears how long, never how lonely
        final = {"lack_companionship": 1, "left_out": 1, "isolated": 2}
        assert (await p.http.post(f"{p.eps.journey}/journeys/{citizen}/first-visit", headers=p.anne, json={})).status_code == 201
        assert (await p.http.post(f"{p.eps.journey}/journeys/{citizen}/exit", headers=p.anne,
                                  json={"outcome": "completed", "final": final})).status_code == 201

        async def ended_told() -> list:
            return [m for m in p.mails("henvis@varde.example") if m.subject.startswith("Forløbet er afsluttet")]

        await wait_until(ended_told, timeout=60, interval=0.3)
        [ended] = await ended_told()
        await asyncio.sleep(2)  # anything an operator would hear has arrived by now
        referrer_text = " ".join(m.subject + m.body for m in p.mails("henvis@varde.example"))
        assert "Ensomhed" not in referrer_text and " 9 " not in ended.body and citizen[:8] not in referrer_text
        assert p.mails("it@varde.example") == []  # the missing channel was no IT error
