"""A volunteer from application to a friendship's end (issue 14), through the four services as separate processes on
a real broker and PostgreSQL: Sara applies with her own login and Red Cross's coordinator interviews, vets, has her
sign and trains her (before the last step she is proposed to nobody); Bent is registered ready by the coordinator.
Citizen A says yes to Sara, who declines (herself), and A gets Bent; Sara says yes to citizen B; the pair agree,
Sara logs their meetings, and B's side ends it; the volunteer is not retired and their place goes to a new citizen, journey gives
B's guide a follow-up, and each volunteer got exactly one question (e-mail, in their language) per proposal."""

from __future__ import annotations

import asyncio
import copy
import time
from datetime import UTC, date, datetime

import httpx

from brobygger_contracts.events.friendships import FriendshipEnded
from brobygger_contracts.events.journey import FollowUpDue
from brobygger_stack.demo import load_partnership
from brobygger_stack.testing import partnership_topics_on, read_topic_to_end, wait_until

HOME, FRIENDS = "varde-kommune", "red-cross"
GUIDE = "anne"


def _card(name: str) -> dict:
    lillemor = next(c for c in load_partnership()["citizens"] if c["label"].startswith("Lillemor"))
    card = copy.deepcopy(lillemor["card"])
    card["citizen"].update(name=name, phone="+45 75 00 00 00", address="Torvet 1")
    card["consent"] = {"given_by": "citizen", "organisations": [HOME, FRIENDS],
                       "given_at": datetime.now(UTC).isoformat()}
    return card


CLARIFICATION = {"interests": ["baking_and_cooking", "coffee_and_conversation"], "languages": ["da"],
                 "wishes": ["friend"], "max_travel_km": 10, "availability": [{"day": "tue", "part": "morning"}],
                 "baseline": {"lack_companionship": 3, "left_out": 2, "isolated": 3}}


class Partnership:
    """The running stack's services, called as the people of the test identity provider."""

    def __init__(self, stack, identity, http: httpx.AsyncClient) -> None:  # noqa: ANN001
        self.stack, self.identity, self.http = stack, identity, http
        self.friends = stack.url("matching", FRIENDS)
        self.guide = identity.auth("guide", org=HOME, subject=GUIDE)
        self.home = identity.auth("coordinator", org=HOME)
        self.red_cross = identity.auth("coordinator", org=FRIENDS)
        self.sara = identity.auth("volunteer", org=FRIENDS, subject="sara")
        self.answering = {}  # volunteer id -> the login that answers for them (their own where they have one)

    async def ok(self, method: str, url: str, auth: httpx.Auth, **kw) -> dict:  # noqa: ANN003
        response = await self.http.request(method, url, auth=auth, **kw)
        assert response.status_code < 300, f"{method} {url}: {response.status_code} {response.text}"
        return response.json()

    async def proposals(self, citizen: str) -> list[dict]:
        return await self.ok("GET", f"{self.friends}/proposals", self.red_cross, params={"citizen_id": citizen})

    async def referred_and_clarified(self, name: str) -> str:
        """A citizen referred by home care, assigned to Anne, clarified as wishing a friend: their id."""
        referral = await self.ok("POST", f"{self.stack.url('referral')}/referrals", self.identity.auth(
            "referrer", org=HOME, subject="hanne"), json=_card(name))
        citizen = referral["citizen_id"]

        async def guided() -> bool:
            answer = await self.http.get(f"{self.stack.url('journey')}/journeys/{citizen}", auth=self.home)
            return answer.status_code == 200 and answer.json().get("guide_id") == GUIDE
        await wait_until(guided, timeout=60, interval=0.2)
        await self.ok("POST", f"{self.stack.url('journey')}/journeys/{citizen}/clarification", self.guide,
                      json=CLARIFICATION)
        return citizen

    async def proposal_to(self, citizen: str, status: str = "proposed") -> dict:
        async def one() -> bool:
            return any(p["status"] == status for p in await self.proposals(citizen))
        await wait_until(one, timeout=60, interval=0.2)
        return next(p for p in await self.proposals(citizen) if p["status"] == status)

    async def citizen_says_yes(self, proposal: dict) -> dict:
        return await self.ok("POST", f"{self.friends}/proposals/{proposal['proposal_id']}/accept", self.guide)

    async def volunteer_answers(self, proposal: dict, answer: str) -> dict:
        return await self.ok("POST", f"{self.friends}/proposals/{proposal['proposal_id']}/volunteer-answer",
                             self.answering.get(proposal["candidate_id"], self.red_cross), json={"answer": answer})

    async def sara_applies_and_is_made_ready(self, citizen_waiting: str) -> str:
        """Sara's own application, then each step by the coordinator; proposed to nobody until the last one."""
        today = date.today().isoformat()
        profile = {"interests": ["bagning", "kaffe og snak"], "languages": ["da", "sv"], "postal_code": "6800",
                   "max_travel_km": 10, "capacity": 1, "availability": [{"day": "tue", "part": "morning"}]}
        applied = await self.ok("POST", f"{self.friends}/volunteers/applications", self.sara, json=profile)
        sara = applied["volunteer_id"]
        assert (applied["status"], applied["account"]) == ("applied", "sara")
        steps = [("interview", {"held_on": today, "outcome": "approved"}),
                 ("vetting", {"kind": "criminal_record_extract", "seen_on": today}),
                 ("confidentiality", {"signed_on": today}),
                 ("training", {"course": "friend_basics", "completed_on": today})]
        for step, body in steps:
            judged = await self.ok("GET", f"{self.friends}/citizens/{citizen_waiting}/candidates", self.red_cross,
                                   params={"kind": "volunteer_friend"})
            [shown] = [c for c in judged["candidates"] if c["candidate_id"] == sara]
            assert shown["eligible"] is False and "not_ready" in shown["excluded_because"], shown
            await self.ok("POST", f"{self.friends}/volunteers/{sara}/{step}", self.red_cross, json=body)
        mine = await self.ok("GET", f"{self.friends}/volunteers/me", self.sara)
        assert (mine["volunteer_id"], mine["status"]) == (sara, "ready")
        self.answering[sara] = self.sara
        return sara


async def test_a_friendship_from_two_sided_consent_to_its_end(stack, identity, kafka_bootstrap):  # noqa: ANN001
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=30) as http:
        p = Partnership(stack, identity, http)
        notify = stack.url("notify")
        await p.ok("POST", f"{stack.url('journey')}/guides", p.home,
                   json={"guide_id": GUIDE, "display_name": "Anne", "capacity": 25})
        await p.ok("POST", f"{notify}/contacts", p.home, json={
            "recipient_id": GUIDE, "role": "guide", "display_name": "Anne", "email": "anne@varde.example",
            "language": "da"})
        # A is referred while Red Cross has no volunteer ready; Sara applies herself and is made ready step by
        # step (proposed to nobody before the last), then Bent is registered ready by the coordinator.
        a = await p.referred_and_clarified("Astrid Holm")

        async def known() -> bool:
            return (await http.get(f"{p.friends}/citizens/{a}/candidates", auth=p.red_cross)).status_code == 200
        await wait_until(known, timeout=60, interval=0.2)
        volunteers = {"Sara": await p.sara_applies_and_is_made_ready(a)}
        today = date.today().isoformat()
        bent_body = {"interests": ["bagning"], "languages": ["da"], "postal_code": "6800", "max_travel_km": 10,
                     "capacity": 1, "trained": True, "availability": [{"day": "tue", "part": "morning"}],
                     "vetting": {"kind": "criminal_record_extract", "seen_on": today}, "confidentiality_signed_on": today}
        volunteers["Bent"] = (await p.ok("POST", f"{p.friends}/volunteers", p.red_cross, json=bent_body))["volunteer_id"]
        for name, language in (("Sara", "sv"), ("Bent", "da")):
            await p.ok("POST", f"{notify}/contacts", p.red_cross, json={
                "recipient_id": volunteers[name], "role": "volunteer", "display_name": name,
                "email": f"{name.lower()}@frivillig.example", "language": language, "preferred_channel": "email"})
        sara, bent = volunteers["Sara"], volunteers["Bent"]
        await p.ok("POST", f"{p.friends}/assignments/run", p.red_cross)

        # A says yes to Sara (the best match); Sara is asked and declines herself; A is proposed Bent.
        first = await p.proposal_to(a)
        assert first["candidate_id"] == sara
        asked = await p.citizen_says_yes(first)
        assert asked["volunteer_id"] == sara and "name" not in asked and "address" not in asked
        assert (await p.proposal_to(a, "awaiting_volunteer"))["proposal_id"] == first["proposal_id"]
        declined = await p.volunteer_answers(first, "decline")
        assert declined["declined"]["reason"] == "volunteer_declined"
        second = declined["next_proposal"]
        assert second["candidate_id"] == bent and second["citizen_id"] == a
        await p.citizen_says_yes(second)
        assert (await p.volunteer_answers(second, "accept"))["accepted"]["candidate_id"] == bent

        # B is proposed Sara, says yes, and Sara says yes: the friendship begins.
        b = await p.referred_and_clarified("Birthe Lund")
        offer = await p.proposal_to(b)
        assert offer["candidate_id"] == sara
        await p.citizen_says_yes(offer)
        friendship = (await p.volunteer_answers(offer, "accept"))["friendship_id"]
        assert friendship

        # The guide records the agreement; Sara logs their meetings (no notes under the default policy).
        base = f"{p.friends}/friendships/{friendship}"
        agreed = await p.ok("POST", f"{base}/agreement", p.guide,
                            json={"rhythm": "weekly", "channel": "in_person", "place": "Varde Bibliotek"})
        assert (agreed["rhythm"], agreed["channel"]) == ("weekly", "in_person")
        for minutes in (60, 90):
            await p.ok("POST", f"{base}/meetings", p.sara,
                       json={"met_on": date.today().isoformat(), "minutes": minutes, "channel": "in_person"})
        refused = await http.post(f"{base}/meetings", auth=p.sara, json={
            "met_on": date.today().isoformat(), "minutes": 30, "channel": "phone", "note": "she was sad"})
        assert refused.status_code == 422

        # B's side ends it (through B's guide); Sara stays active and her place is free for a new citizen.
        ended = await p.ok("POST", f"{base}/end", p.guide, json={"side": "citizen", "reason": "not_a_match"})
        assert (ended["side"], ended["reason"]) == ("citizen", "not_a_match")
        listed = {f["friendship_id"]: f for f in await p.ok("GET", f"{p.friends}/friendships", p.guide)}
        assert listed[friendship]["active"] is False and listed[friendship]["minutes"] == 150
        assert [q["status"] for q in await p.proposals(b)] == ["ended"]
        shown = {v["volunteer_id"]: v for v in await p.ok("GET", f"{p.friends}/volunteers", p.red_cross)}
        assert shown[sara]["active"] is True and shown[sara]["retired_at"] is None
        c = await p.referred_and_clarified("Carl Madsen")
        assert (await p.proposal_to(c))["candidate_id"] == sara  # Bent's one place is A's

        # Journey: B's accepted friend fell through, and Anne has a follow-up for B.
        journey = stack.url("journey")

        async def back_to_matching() -> bool:
            view = (await http.get(f"{journey}/journeys/{b}", auth=p.home)).json()
            return view["state"] == "matching" and view["transitions"][-1]["step"] == "fall_through"
        await wait_until(back_to_matching, timeout=60, interval=0.2)
        topics = await partnership_topics_on(kafka_bootstrap, stack.partnership_id, dead_letters=False,
                                             services={"journey", "matching"})

        async def follow_up_for_b() -> bool:
            view = (await http.get(f"{journey}/journeys/{b}", auth=p.home)).json()
            if any(t["kind"] == "follow_up" for t in view["pending_timers"]):
                return True
            records = await read_topic_to_end(kafka_bootstrap, topics, partnership=stack.partnership_id)
            return any(dict(r.headers)["ce_type"].decode() == FollowUpDue.event_type() and r.key.decode() == b
                       for r in records)
        await wait_until(follow_up_for_b, timeout=60, interval=0.5)
        records = await read_topic_to_end(kafka_bootstrap, topics, partnership=stack.partnership_id)
        endings = [r for r in records if dict(r.headers)["ce_type"].decode() == FriendshipEnded.event_type()]
        assert [r.key.decode() for r in endings] == [b]

        # Exactly one question per proposal the citizen said yes to: Sara two (A, B), Bent one (A).
        async def questions(volunteer_id: str) -> list[dict]:
            log = await p.ok("GET", f"{notify}/deliveries", p.home, params={"recipient_id": volunteer_id, "limit": 500})
            return [d for d in log if d["template"] == "volunteer_question"]

        async def all_asked() -> bool:
            return len(await questions(sara)) >= 2 and len(await questions(bent)) >= 1 and len(
                [m for m in stack.smtp.messages if m.recipients == ["sara@frivillig.example"]
                 and "vänvolontär" in m.subject]) >= 2
        await wait_until(all_asked, timeout=60, interval=0.5)
        await asyncio.sleep(2)  # and no more arrive
        assert [(d["language"], d["status"]) for d in await questions(sara)] == [("sv", "sent")] * 2
        assert [(d["language"], d["status"]) for d in await questions(bent)] == [("da", "sent")]
        to_sara = [m for m in stack.smtp.messages if m.recipients == ["sara@frivillig.example"]
                   and "vänvolontär" in m.subject]
        to_bent = [m for m in stack.smtp.messages if m.recipients == ["bent@frivillig.example"]
                   and "besøgsven" in m.subject and "6800" in m.subject]
        assert len(to_sara) == 2 and len(to_bent) == 1
        for mail in to_sara + to_bent:  # what they need to decide, never the citizen's name or address
            assert "6800" in mail.body and not any(n in mail.body for n in ("Astrid", "Birthe", "Torvet"))
    print(f"\nfriendship journey through the stack: {time.monotonic() - started:.1f}s")
