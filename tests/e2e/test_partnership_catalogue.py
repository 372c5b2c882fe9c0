"""Issue 15 cases 1-3 through the four services as separate processes on the real broker and PostgreSQL, with two
organisations running matching (the municipality and Red Cross):

- case 1: one partnership catalogue. The Varde walking case yields one group proposal for the four walkers (before:
  each instance proposed its own); Red Cross's instance, which knows no activity of its own, knows the
  municipality's, and a citizen is proposed it once (by their home instance); a group that grows after it formed is applied by journey (before: journey dropped the growth).
- case 2: seats free when a journey ends, a member leaves or stops attending (before: an accepted match held its seat
  for good and group places were never given back).
- case 3: a citizen sees three activities at once and picks the second (before: one at a time).
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
import uuid
from typing import Any

import httpx
import pytest

from brobygger_contracts.events.journey import ParticipationEnded
from brobygger_contracts.events.matching import GroupProposed, MatchDeclined, MatchProposed
from brobygger_stack.demo import load_partnership
from brobygger_stack.testing import partnership_topics_on, read_topic, wait_until

MUNICIPALITY, RED_CROSS = "varde-kommune", "red-cross"
GUIDE = "anne"
TIMEOUT = 60


class Partnership:
    """The running stack seen by its people: a referrer, the guide anne, each organisation's coordinator."""

    def __init__(self, stack, identity, kafka: str, http: httpx.AsyncClient) -> None:  # noqa: ANN001
        self.stack, self.identity, self.kafka, self.http = stack, identity, kafka, http
        self.matching = {p.org_id: p.url for p in stack.services.values() if p.package == "matching"}
        self.journey = stack.url("journey")
        self.guide = identity.auth("guide", subject=GUIDE)
        self.referred = 0

    def coordinator(self, org: str = MUNICIPALITY) -> httpx.Auth:
        return self.identity.auth("coordinator", org=org)

    async def ok(self, method: str, url: str, **kwargs: Any) -> Any:
        response = await self.http.request(method, url, **kwargs)
        assert response.status_code < 300, f"{method} {url}: {response.status_code} {response.text[:400]}"
        return response.json()

    async def guide_registered(self) -> None:
        await self.ok("POST", f"{self.journey}/guides", json={"guide_id": GUIDE, "display_name": "Anne", "capacity": 50},
                      auth=self.coordinator())

    async def activity(self, **body: Any) -> str:
        values = {"postal_code": "6800", "schedule": [{"day": "tue", "part": "morning"}], "step_free": True} | body
        made = await self.ok("POST", f"{self.matching[MUNICIPALITY]}/activities", json=values, auth=self.coordinator())
        return made["activity_id"]

    async def citizen(self, interests: list[str], wishes: list[str], consent: tuple[str, ...] = (MUNICIPALITY, RED_CROSS),
                      postal_code: str = "6800") -> str:
        """Referred with consent for `consent`, assigned to anne, clarified by her; returns the citizen id."""
        card = copy.deepcopy(load_partnership()["citizens"][0]["card"])
        card["citizen"]["postal_code"] = postal_code
        self.referred += 1  # a different person each time (the same name and phone would be merged as a repeat)
        card["citizen"].update(name=f"Borger {self.referred} {uuid.uuid4().hex[:6]}", phone=f"+45 20 00 {self.referred:02d} 00",
                               birth_year=1940 + self.referred)
        card["consent"]["organisations"] = list(consent)
        card["consent"]["given_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        referred = await self.ok("POST", f"{self.stack.url('referral')}/referrals", json=card,
                                 auth=self.identity.auth("referrer", subject="hanne"))
        citizen = referred["citizen_id"]

        async def guided() -> bool:
            answer = await self.http.get(f"{self.journey}/journeys/{citizen}", auth=self.coordinator())
            return answer.status_code == 200 and answer.json().get("guide_id") == GUIDE
        await wait_until(guided, timeout=TIMEOUT, interval=0.2)
        await self.ok("POST", f"{self.journey}/journeys/{citizen}/clarification", auth=self.guide, json={
            "interests": interests, "wishes": wishes, "languages": ["da"], "max_travel_km": 10,
            "availability": [{"day": "tue", "part": "morning"}]})
        return citizen

    async def proposals(self, citizen: str, org: str = MUNICIPALITY, language: str = "da") -> list[dict]:
        return await self.ok("GET", f"{self.matching[org]}/proposals", params={"citizen_id": citizen},
                             headers={"Accept-Language": language}, auth=self.coordinator(org))

    async def until_proposals(self, citizen: str, count: int, org: str = MUNICIPALITY) -> list[dict]:
        async def enough() -> bool:
            return len(await self.proposals(citizen, org)) >= count
        await wait_until(enough, timeout=TIMEOUT, interval=0.2)
        return await self.proposals(citizen, org)

    async def state(self, citizen: str) -> str:
        return (await self.ok("GET", f"{self.journey}/journeys/{citizen}", auth=self.guide))["state"]

    async def events(self, event_cls, service: str) -> list[tuple[str, dict]]:  # noqa: ANN001
        """(publishing organisation, payload) of every `event_cls` on the partnership's topics of `service`."""
        topics = await partnership_topics_on(self.kafka, self.stack.partnership_id, services={service},
                                             dead_letters=False)
        # everything there within a few seconds (the embedded broker's end offsets lagged a fresh write once)
        records = await read_topic(self.kafka, topics, partnership=self.stack.partnership_id, want=10**6, timeout=3)
        found = []
        for record in records:
            headers = {k: v.decode() for k, v in record.headers}
            if headers["ce_type"] == event_cls.event_type():
                found.append((headers["ce_org"], json.loads(record.value)))
        return found

    async def groups_proposed(self) -> list[tuple[str, dict]]:
        return await self.events(GroupProposed, "matching")


async def _walking_groups_of(partnership: Partnership, walkers: list[str], size: int) -> list[tuple[str, dict]]:
    async def grown() -> bool:
        found = await partnership.groups_proposed()
        return any(set(p["citizen_ids"]) == set(walkers[:size]) for _, p in found)
    await wait_until(grown, timeout=TIMEOUT, interval=0.3)
    await asyncio.sleep(3)  # and nothing more arrives (Red Cross's instance has read the same clarifications)
    return await partnership.groups_proposed()


@pytest.mark.timeout(600)
async def test_varde_walkers_get_one_group_proposal_red_cross_proposes_the_municipalitys_activity_and_growth_applies(
        stack, identity, kafka_bootstrap):  # noqa: ANN001
    async with httpx.AsyncClient(timeout=30) as http:
        p = Partnership(stack, identity, kafka_bootstrap, http)
        await p.guide_registered()
        walkers = [await p.citizen(["gåtur"], ["group"]) for _ in range(3)]
        proposed = await _walking_groups_of(p, walkers, 3)
        # One group proposal for the partnership (both instances know all walkers), by the walkers' group home.
        assert {payload["group_proposal_id"] for _, payload in proposed} == {proposed[0][1]["group_proposal_id"]}
        assert {org for org, _ in proposed} == {MUNICIPALITY}
        group_proposal_id = proposed[0][1]["group_proposal_id"]
        assert [payload["proposal_version"] for _, payload in proposed] == [1, 2]

        # The group forms; the fourth walker joins the group that meets, under a new version journey applies.
        group = await p.ok("POST", f"{p.journey}/groups", auth=p.coordinator(),
                           json={"group_proposal_id": group_proposal_id, "facilitator_id": "tovholder-karen"})
        await asyncio.sleep(2)  # GroupFormed reaches the municipality's matching: the group is a catalogue entry
        walkers.append(await p.citizen(["promenad"], ["group"]))
        proposed = await _walking_groups_of(p, walkers, 4)
        assert {payload["group_proposal_id"] for _, payload in proposed} == {group_proposal_id}
        latest = proposed[-1][1]
        assert latest["proposal_version"] == 3 and latest["group_id"] == group["group_id"]

        async def applied() -> bool:
            view = await p.ok("GET", f"{p.journey}/groups/{group['group_id']}", auth=p.coordinator())
            return walkers[3] in view["member_citizen_ids"]
        await wait_until(applied, timeout=TIMEOUT, interval=0.2)
        await p.ok("POST", f"{p.journey}/group-proposals/{group_proposal_id}/members/{walkers[3]}/confirm", auth=p.guide)
        assert await p.state(walkers[3]) == "match_accepted"

        # Red Cross's instance has no activity of its own, yet knows the municipality's (the shared catalogue) and
        # judges it for a citizen whose consent names both; the citizen is proposed it once, by their home (the
        # municipality, first of MATCHING_ORGS), not once by each instance.
        cafe = await p.activity(name="Kaffeklub Varde", interests=["kaffe"], seats=10)
        guest = await p.citizen(["kaffe"], ["activity"])
        [offer] = await p.until_proposals(guest, 1, org=MUNICIPALITY)
        assert offer["candidate_id"] == cafe and offer["kind"] == "activity"
        assert offer["reasons"] and offer["estimated_wait_days"] == 0
        known = {a["activity_id"]: a for a in await p.ok("GET", f"{p.matching[RED_CROSS]}/activities",
                                                        auth=p.coordinator(RED_CROSS))}
        assert known[cafe]["catalogued_from"] == MUNICIPALITY
        judged = await p.ok("GET", f"{p.matching[RED_CROSS]}/citizens/{guest}/candidates",
                            params={"kind": "activity"}, auth=p.coordinator(RED_CROSS))
        assert any(c["candidate_id"] == cafe and c["eligible"] for c in judged["candidates"])
        offers = [payload for _, payload in await p.events(MatchProposed, "matching") if payload["citizen_id"] == guest]
        assert [o["candidate_id"] for o in offers] == [cafe]  # one proposal in the partnership, not one per instance


@pytest.mark.timeout(600)
async def test_seats_free_when_a_journey_ends_a_member_leaves_or_stops_attending(stack, identity, kafka_bootstrap):  # noqa: ANN001
    async with httpx.AsyncClient(timeout=30) as http:
        p = Partnership(stack, identity, kafka_bootstrap, http)
        await p.guide_registered()
        pool = await p.activity(name="Seniorsvømning", interests=["svømning"], seats=1)
        first = await p.citizen(["svømning"], ["activity"], consent=(MUNICIPALITY,))
        [held] = await p.until_proposals(first, 1)
        await p.ok("POST", f"{p.matching[MUNICIPALITY]}/proposals/{held['proposal_id']}/accept", auth=p.guide)
        second = await p.citizen(["svømning"], ["activity"], consent=(MUNICIPALITY,))
        await asyncio.sleep(3)
        assert await p.proposals(second) == []  # the one seat is held
        await p.ok("POST", f"{p.journey}/journeys/{first}/exit", auth=p.guide, json={"outcome": "dropped_out"})
        [offer] = await p.until_proposals(second, 1)
        assert offer["candidate_id"] == pool and offer["estimated_wait_days"] == 0
        assert [x["status"] for x in await p.proposals(first)] == ["ended"]

        # A full walking group (five): a member leaves and another stops coming; two newcomers take their places.
        walkers = [await p.citizen(["gåtur"], ["group"], consent=(MUNICIPALITY,)) for _ in range(5)]
        proposed = await _walking_groups_of(p, walkers, 5)
        group_proposal_id = proposed[-1][1]["group_proposal_id"]
        group = await p.ok("POST", f"{p.journey}/groups", auth=p.coordinator(),
                           json={"group_proposal_id": group_proposal_id, "facilitator_id": "tovholder-karen"})
        gid = group["group_id"]
        await p.ok("POST", f"{p.journey}/groups/{gid}/members/{walkers[0]}/leave", auth=p.guide)
        for _ in range(3):  # STOPPED_ATTENDING_AFTER_MEETINGS: walker 1 misses three meetings in a row
            await p.ok("POST", f"{p.journey}/groups/{gid}/meetings", auth=p.coordinator(),
                       json={"facilitator_present": True, "attending_member_ids": walkers[2:]})

        async def two_ended() -> bool:
            view = await p.ok("GET", f"{p.journey}/groups/{gid}", auth=p.coordinator())
            return sum(m["left_reason"] is not None for m in view["members"]) == 2
        await wait_until(two_ended, timeout=TIMEOUT, interval=0.3)
        view = await p.ok("GET", f"{p.journey}/groups/{gid}", auth=p.coordinator())
        ended = {m["citizen_id"]: m["left_reason"] for m in view["members"] if m["left_reason"]}
        assert ended == {walkers[0]: "left", walkers[1]: "stopped_attending"}
        await asyncio.sleep(3)  # the municipality's matching reads the two ParticipationEnded
        newcomers = [await p.citizen(["gåtur"], ["group"], consent=(MUNICIPALITY,)) for _ in range(2)]

        async def room_made() -> bool:
            found = await p.groups_proposed()
            return any(set(x["citizen_ids"]) == set(walkers[2:] + newcomers) for _, x in found)
        await wait_until(room_made, timeout=TIMEOUT, interval=0.3)  # matching read both ParticipationEnded
        latest = (await p.groups_proposed())[-1][1]
        assert latest["group_proposal_id"] == group_proposal_id and latest["group_id"] == gid
        async def on_the_bus() -> bool:
            return {x["citizen_id"]: x["reason"] for _, x in await p.events(ParticipationEnded, "journey")} == ended
        await wait_until(on_the_bus, timeout=TIMEOUT, interval=0.3)


@pytest.mark.timeout(600)
async def test_a_citizen_sees_three_activities_and_picks_the_second(stack, identity, kafka_bootstrap):  # noqa: ANN001
    async with httpx.AsyncClient(timeout=30) as http:
        p = Partnership(stack, identity, kafka_bootstrap, http)
        await p.guide_registered()
        cafes = [await p.activity(name=name, interests=interests, seats=10, schedule=schedule)
                 for name, interests, schedule in (
                     ("Gå og snak", ["kaffe", "gåtur"], [{"day": "tue", "part": "morning"}]),
                     ("Kaffeklub tirsdag", ["kaffe"], [{"day": "tue", "part": "morning"}]),
                     ("Kaffeklub fredag", ["kaffe"], [{"day": "fri", "part": "evening"}]))]
        citizen = await p.citizen(["kaffe", "gåtur"], ["activity"], consent=(MUNICIPALITY,))
        shown = await p.until_proposals(citizen, 3)
        assert [(x["rank"], x["candidate_id"]) for x in shown] == list(zip((1, 2, 3), cafes))
        assert all(x["reasons"] for x in shown) and len({x["choice_id"] for x in shown}) == 1
        swedish = await p.proposals(citizen, language="sv")
        assert swedish[0]["reasons"] != shown[0]["reasons"]  # rendered in the reader's language
        picked = await p.ok("POST", f"{p.matching[MUNICIPALITY]}/proposals/{shown[1]['proposal_id']}/accept",
                            auth=p.guide)
        assert picked["candidate_id"] == cafes[1]

        async def accepted() -> bool:
            return await p.state(citizen) == "match_accepted"
        await wait_until(accepted, timeout=TIMEOUT, interval=0.2)
        assert [x["status"] for x in await p.proposals(citizen)] == ["withdrawn", "accepted", "withdrawn"]
        declined = [x for org, x in await p.events(MatchDeclined, "matching") if x["citizen_id"] == citizen]
        assert sorted(x["candidate_id"] for x in declined) == sorted([cafes[0], cafes[2]])
