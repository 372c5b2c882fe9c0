"""Issue 15 cases 4 and 5 through the four services as separate processes (real broker, PostgreSQL):
a Danish card with "gåtur" and "kaffe" (journey's clarification) matches a Swedish "promenad" and "fika"
activity (matching), the reasons shown in Swedish to a Swedish guide and in Danish to a Danish one
(matching's API by Accept-Language, notify's e-mail to each guide); a citizen with a money barrier is
never proposed a paid-only activity; a transport need becomes the guide's task."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from brobygger_contracts.reason_texts import render_all
from brobygger_stack.demo import DemoEndpoints, load_partnership
from brobygger_stack.testing import wait_until

ORG = "varde-kommune"
CLARIFICATION = {"interests": ["gåtur", "kaffe"], "languages": ["da"], "barriers": ["money", "transport"],
                 "wishes": ["activity"], "max_travel_km": 10}
SWEDISH = {"name": "Promenad och fika", "interests": ["promenad", "fika"], "languages": ["sv", "da"],
           "postal_code": "6800", "cost_dkk": 0}
PAID_ONLY = {"name": "Gåtur med vinsmagning", "interests": ["gåtur", "kaffe"], "languages": ["da"],
             "postal_code": "6800", "cost_dkk": 250}


async def test_words_in_three_languages_and_barriers_that_count(stack):  # noqa: ANN001
    eps = DemoEndpoints.of_stack(stack)
    people = eps.people
    coordinator = people.coordinator(ORG)
    guides = {"karin": "sv", "anne": "da"}
    async with httpx.AsyncClient(timeout=30) as http:
        published = {}
        for body in (SWEDISH, PAID_ONLY):
            answer = await http.post(f"{eps.matching[ORG]}/activities", json=body, headers=coordinator)
            assert answer.status_code in (200, 201), answer.text
            published[body["name"]] = answer.json()["activity_id"]
        for guide, language in guides.items():
            assert (await http.post(f"{eps.notify}/contacts", headers=coordinator, json={
                "recipient_id": guide, "role": "guide", "display_name": guide.title(), "email": f"{guide}@varde.example",
                "language": language})).status_code in (200, 201)

        citizens: dict[str, str] = {}
        for guide in guides:  # one guide with room at a time: karin's citizen first, then anne's
            assert (await http.post(f"{eps.journey}/guides", headers=coordinator,
                                    json={"guide_id": guide, "capacity": 1})).status_code == 201
            card = load_partnership()["citizens"][0]["card"]
            card["consent"] = {**card["consent"], "given_at": datetime.now(UTC).isoformat()}
            card["citizen"] = {**card["citizen"], "name": f"Borger hos {guide}", "phone": None}  # two people, not one twice
            referred = await http.post(f"{eps.referral}/referrals", json=card, headers=people.auth(ORG, "hanne"))
            assert referred.status_code == 201, referred.text
            citizen = referred.json()["citizen_id"]

            async def guided(citizen: str = citizen, guide: str = guide) -> bool:
                journey = await http.get(f"{eps.journey}/journeys/{citizen}", headers=coordinator)
                return journey.status_code == 200 and journey.json()["guide_id"] == guide

            await wait_until(guided, timeout=60, interval=0.3)
            clarified = await http.post(f"{eps.journey}/journeys/{citizen}/clarification", json=CLARIFICATION,
                                        headers=people.auth(ORG, guide))
            assert clarified.status_code == 201, clarified.text  # words, not codes: "gåtur" was a 422 before
            citizens[guide] = citizen

        async def proposals(citizen: str, language: str) -> list[dict]:
            answer = await http.get(f"{eps.matching[ORG]}/proposals", params={"citizen_id": citizen},
                                    headers={**coordinator, "Accept-Language": language})
            return answer.json()

        for guide, citizen in citizens.items():
            async def proposed(citizen: str = citizen) -> bool:
                return bool(await proposals(citizen, "da"))

            await wait_until(proposed, timeout=60, interval=0.3)

        shown = {}
        for guide, citizen in citizens.items():
            in_swedish, in_danish = await proposals(citizen, "sv"), await proposals(citizen, "da")
            assert {p["candidate_id"] for p in in_danish} == {published[SWEDISH["name"]]}  # never the paid-only one
            assert len(in_swedish) == len(in_danish) == 1, in_danish
            [sv], [da] = in_swedish, in_danish
            assert sv["reasons"] == render_all(sv["reason_codes"], "sv") and da["reasons"] == render_all(da["reason_codes"], "da")
            assert any("promenader" in r for r in sv["reasons"]) and any("gåture" in r for r in da["reasons"])
            assert sv["transport_need"] and da["cost_dkk"] in (0, None)
            shown[guide] = (sv, da)

        # each guide's e-mail about the proposal, in the guide's language
        def proposal_mail(guide: str) -> list:
            return [m for m in stack.smtp.messages if m.recipients == [f"{guide}@varde.example"] and SWEDISH["name"] in m.body]

        async def mailed() -> bool:
            return all(proposal_mail(g) for g in guides)

        await wait_until(mailed, timeout=60, interval=0.3)
        [to_karin], [to_anne] = proposal_mail("karin"), proposal_mail("anne")
        assert "- en aktivitet med " in to_karin.body and "promenader" in to_karin.body and "gåture" not in to_karin.body
        assert "- en aktivitet med " in to_anne.body and "gåture" in to_anne.body and "promenader" not in to_anne.body
        assert "Därför tror vi" in to_karin.body and "Derfor tror vi" in to_anne.body

        # karin's citizen says yes: getting there is karin's task
        sv, _ = shown["karin"]
        karin = people.auth(ORG, "karin")
        accepted = await http.post(f"{eps.matching[ORG]}/proposals/{sv['proposal_id']}/accept", headers=karin)
        assert accepted.status_code == 200, accepted.text

        async def transport_task() -> list[dict]:
            tasks = (await http.get(f"{eps.journey}/tasks", headers=karin)).json()
            return [t for t in tasks if t["kind"] == "arrange_transport"]

        await wait_until(transport_task, timeout=60, interval=0.3)
        [task] = await transport_task()
        assert task["citizen_id"] == citizens["karin"] and task["details"]["transport_need"] == sv["transport_need"]
        assert not [t for t in (await http.get(f"{eps.journey}/tasks", headers=people.auth(ORG, "anne"))).json()
                if t["kind"] == "arrange_transport"]
