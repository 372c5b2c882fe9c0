"""Issue 15 items 4 and 5 on the real broker and PostgreSQL: barriers that count (money, transport) and
words in three languages, with reasons rendered in the reader's language."""

from __future__ import annotations

import uuid

from brobygger_contracts.events.matching import MatchProposed
from brobygger_contracts.interests import interest_codes
from matching.testing import activity, clarification, eventually, matching_instance, proposals_of, publish, read_events, referral, ORG


async def test_danish_words_match_a_swedish_activity_with_reasons_in_the_readers_language(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        partnership = runtime.settings.partnership_id
        walk = await api.post("/activities", json=activity(name="Promenad och fika", interests=["promenad", "fika"],
                                                           languages=["sv", "da"]))
        assert walk.status_code == 201, walk.text
        assert walk.json()["interests"] == ["walking", "coffee_and_conversation"]
        citizen = uuid.uuid4()
        # What journey publishes for a Danish card with "gåtur" and "kaffe".
        await publish(kafka_bootstrap, partnership, referral(citizen, ["varde-kommune", ORG]),
                      clarification(citizen, interests=interest_codes(["gåtur", "kaffe"]), wishes=["activity"]))

        async def proposed() -> bool:
            return len(await proposals_of(api, citizen)) == 1
        await eventually(proposed)
        swedish = (await proposals_of(api, citizen, headers={"Accept-Language": "sv-SE,sv;q=0.9,en;q=0.5"}))[0]
        danish = (await proposals_of(api, citizen, headers={"Accept-Language": "da"}))[0]
        default = (await proposals_of(api, citizen))[0]
        assert swedish["candidate_id"] == walk.json()["activity_id"]
        assert "en aktivitet med fika och samtal och promenader" in swedish["reasons"]
        assert "båda talar danska" in swedish["reasons"]
        assert "en aktivitet med kaffe og snak og gåture" in danish["reasons"]
        assert "an activity for coffee and conversation and walking" in default["reasons"]  # REASONS_LANGUAGE en
        assert {"code": "activity_for", "params": {"interests": ["coffee_and_conversation", "walking"]}} in swedish["reason_codes"]

        (event,) = [e for e in await read_events(kafka_bootstrap, partnership, want=2) if isinstance(e, MatchProposed)]
        assert event.opened.reason_codes[0].code == "activity_for"
        assert "an activity for coffee and conversation and walking" in event.opened.reasons  # kept for older readers


async def test_money_barrier_gets_free_first_never_paid_only_and_transport_is_arranged(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url, activity_options_shown=1) as (runtime, api):
        partnership = runtime.settings.partnership_id
        ids = {}
        for name, price in {"paid": {"cost_dkk": 300}, "subsidised": {"cost_dkk": 300, "reduced_cost_dkk": 40},
                            "free": {"cost_dkk": 0}}.items():
            # The paid one fits best (two interests), the free one least (one interest, no common time).
            interests = ["gåtur", "kaffe"] if name == "paid" else ["gåtur"]
            schedule = [] if name == "free" else [{"day": "tue", "part": "morning"}]
            reply = await api.post("/activities", json=activity(name=name, interests=interests, schedule=schedule, **price))
            assert reply.status_code == 201, reply.text
            ids[reply.json()["activity_id"]] = name
        citizen = uuid.uuid4()
        await publish(kafka_bootstrap, partnership, referral(citizen, ["varde-kommune", ORG]),
                      clarification(citizen, interests=["walking", "coffee_and_conversation"], wishes=["activity"],
                                    barriers=["money", "transport"]))

        async def proposed() -> bool:
            return len(await proposals_of(api, citizen)) == 1
        await eventually(proposed)
        (proposal,) = await proposals_of(api, citizen, headers={"Accept-Language": "da"})
        assert ids[proposal["candidate_id"]] == "free"
        assert proposal["cost_dkk"] == 0 and "gratis" in proposal["reasons"]
        assert proposal["transport_need"] == "accompanied_bus_ride"  # same area, no mobility barrier
        assert any(r.startswith("transport: følgeskab på bussen") for r in proposal["reasons"])

        judged = (await api.get(f"/citizens/{citizen}/candidates", params={"kind": "activity"})).json()["candidates"]
        judged = [c for c in judged if ids[c["candidate_id"]] != "free"]  # proposed already
        assert [ids[c["candidate_id"]] for c in judged] == ["subsidised", "paid"]
        assert judged[0]["eligible"] and "subsidised price: 40 kr" in judged[0]["reasons"]
        assert not judged[1]["eligible"] and "paid_only" in judged[1]["excluded_because"]

        decline = await api.post(f"/proposals/{proposal['proposal_id']}/decline", json={"reason": "wrong_time"})
        assert decline.status_code == 200, decline.text
        following = decline.json()["next_proposal"]
        assert ids[following["candidate_id"]] == "subsidised" and following["cost_dkk"] == 40
        assert following["transport_need"] == "accompanied_bus_ride"
        next_decline = await api.post(f"/proposals/{following['proposal_id']}/decline", json={"reason": "wrong_time"})
        assert next_decline.json()["next_proposal"] is None  # never the paid-only one
