"""Accept and decline through the API against the real broker and PostgreSQL."""

from __future__ import annotations

import uuid

from brobygger_contracts.events.matching import MatchAccepted, MatchDeclined, MatchProposed
from matching.testing import (
    ORG, clarification, eventually, matching_instance, of_type, proposals_of, publish, read_events, referral, volunteer,
)


async def test_decline_proposes_the_next_candidate_never_the_same_and_accept_reserves_capacity(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        partnership = runtime.settings.partnership_id
        ids = []
        for interests in (["bagning", "gåtur"], ["bagning"], ["fiskeri"]):  # best first
            ids.append((await api.post("/volunteers", json=volunteer(interests=interests, capacity=1))).json()["volunteer_id"])
        citizen = uuid.uuid4()
        await publish(kafka_bootstrap, partnership, referral(citizen, [ORG]), clarification(citizen, wishes=["friend"]))

        async def proposals() -> list[dict]:
            return await proposals_of(api, citizen)

        async def one_proposal() -> bool:
            return len(await proposals()) == 1

        await eventually(one_proposal)
        first = (await proposals())[0]
        assert first["candidate_id"] == ids[0] and first["status"] == "proposed"

        declined = await api.post(f"/proposals/{first['proposal_id']}/decline", json={"reason": "did_not_click"})
        assert declined.status_code == 200, declined.text
        second = declined.json()["next_proposal"]
        assert second["candidate_id"] == ids[1] and second["rank"] == 2
        assert (await api.post(f"/proposals/{first['proposal_id']}/accept")).status_code == 409

        third = (await api.post(f"/proposals/{second['proposal_id']}/decline", json={"reason": "wrong_time"})).json()["next_proposal"]
        assert third["candidate_id"] == ids[2] and third["rank"] == 3
        last = await api.post(f"/proposals/{third['proposal_id']}/decline")
        assert last.json()["next_proposal"] is None  # every volunteer was proposed once: none again

        # Re-clarifying proposes nobody already declined.
        await publish(kafka_bootstrap, partnership, clarification(citizen, wishes=["friend"]))

        # Another citizen accepts the best volunteer, whose single slot is then reserved.
        other = uuid.uuid4()
        await publish(kafka_bootstrap, partnership, referral(other, [ORG]), clarification(other, wishes=["friend"]))
        events = await read_events(kafka_bootstrap, partnership, want=3 + 3 + 3 + 1)
        offer = [p for p in of_type(events, MatchProposed) if p.citizen_id == other][0]
        assert str(offer.candidate_id) == ids[0]  # the decline freed it
        asked = await api.post(f"/proposals/{offer.proposal_id}/accept")  # the volunteer is asked first (issue 14)
        assert asked.status_code == 200 and asked.json()["volunteer_id"] == ids[0]
        accepted = await api.post(f"/proposals/{offer.proposal_id}/volunteer-answer", json={"answer": "accept"})
        assert accepted.status_code == 200 and accepted.json()["accepted"]["candidate_id"] == ids[0]
        assert (await api.post(f"/proposals/{uuid.uuid4()}/accept")).status_code == 404

        judged = (await api.get(f"/citizens/{citizen}/candidates")).json()["candidates"]
        assert {c["candidate_id"]: list(c["excluded_because"]) for c in judged}[ids[0]] == ["no_capacity", "already_proposed"]

        events = await read_events(kafka_bootstrap, partnership, want=3 + 3 + 3 + 1 + 1 + 1)
        assert [p.candidate_id for p in of_type(events, MatchProposed) if p.citizen_id == citizen] == [uuid.UUID(i) for i in ids]
        reasons = [(d.candidate_id, d.opened.reason.value) for d in of_type(events, MatchDeclined)]
        assert reasons == [(uuid.UUID(ids[0]), "did_not_click"), (uuid.UUID(ids[1]), "wrong_time"), (uuid.UUID(ids[2]), "other")]
        assert [(a.citizen_id, str(a.candidate_id)) for a in of_type(events, MatchAccepted)] == [(other, ids[0])]
