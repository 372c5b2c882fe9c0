"""A volunteer stops: never proposed again, their citizens let go and matched anew; real broker and PostgreSQL."""

from __future__ import annotations

import uuid

from brobygger_contracts.events.matching import MatchAccepted, MatchDeclined, MatchProposed, VolunteerRegistered
from matching.testing import (
    ORG, clarification, eventually, matching_instance, of_type, proposals_of, publish, read_events, referral, volunteer,
)


async def test_retiring_withdraws_pending_proposals_ends_accepted_matches_and_proposes_the_next_best(
        kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        partnership = runtime.settings.partnership_id
        best, second, _ = [
            (await api.post("/volunteers", json=volunteer(interests=interests, capacity=2))).json()["volunteer_id"]
            for interests in (["bagning", "gåtur"], ["bagning"], ["fiskeri"])
        ]
        waiting, matched = uuid.uuid4(), uuid.uuid4()
        await publish(kafka_bootstrap, partnership, referral(waiting, [ORG]), clarification(waiting, wishes=["friend"]),
                      referral(matched, [ORG]), clarification(matched, wishes=["friend"]))

        async def proposals(citizen: uuid.UUID) -> list[dict]:
            return await proposals_of(api, citizen)

        async def both_proposed() -> bool:
            return all([len(await proposals(c)) == 1 for c in (waiting, matched)])

        await eventually(both_proposed)
        assert {(await proposals(c))[0]["candidate_id"] for c in (waiting, matched)} == {best}
        matched_proposal = (await proposals(matched))[0]['proposal_id']
        assert (await api.post(f"/proposals/{matched_proposal}/accept")).status_code == 200
        accepted = await api.post(f"/proposals/{matched_proposal}/volunteer-answer", json={"answer": "accept"})
        assert accepted.status_code == 200, accepted.text

        retired = await api.post(f"/volunteers/{best}/retire", json={"reason": "moved"})
        assert retired.status_code == 200, retired.text
        body = retired.json()
        assert body["active"] is False and body["reason"] == "moved" and body["already_retired"] is False
        assert {(d["citizen_id"], d["reason"]) for d in body["declined"]} == {
            (str(waiting), "candidate_unavailable"), (str(matched), "candidate_unavailable")}
        assert {(p["citizen_id"], p["candidate_id"], p["rank"]) for p in body["next_proposals"]} == {
            (str(waiting), second, 2), (str(matched), second, 2)}
        # The pending proposal was withdrawn, the accepted match ended; each citizen has the next best one.
        assert [(p["candidate_id"], p["status"], p["decline_reason"]) for p in await proposals(waiting)] == [
            (best, "withdrawn", "candidate_unavailable"), (second, "proposed", None)]
        assert [(p["candidate_id"], p["status"], p["decline_reason"]) for p in await proposals(matched)] == [
            (best, "ended", "candidate_unavailable"), (second, "proposed", None)]

        listed = {v["volunteer_id"]: v for v in (await api.get("/volunteers")).json()}
        assert listed[best]["active"] is False and listed[best]["retired_reason"] == "moved"
        assert listed[best]["retired_at"] is not None and listed[second]["active"] is True
        assert best not in {v["volunteer_id"] for v in (await api.get("/volunteers", params={"active": "true"})).json()}
        assert [v["volunteer_id"] for v in (await api.get("/volunteers", params={"active": "false"})).json()] == [best]

        expected = 3 + 2 + 1 + 1 + 1 + 2 + 2  # registered, proposed, volunteer asked, accepted; retired, declined, proposed again
        events = await read_events(kafka_bootstrap, partnership, want=expected)
        announced = [e for e in of_type(events, VolunteerRegistered) if str(e.volunteer_id) == best]
        assert [e.active for e in announced] == [True, False]
        declined = of_type(events, MatchDeclined)
        assert {(d.citizen_id, str(d.candidate_id), d.opened.reason.value) for d in declined} == {
            (waiting, best, "candidate_unavailable"), (matched, best, "candidate_unavailable")}
        assert sorted((str(p.candidate_id), str(p.citizen_id)) for p in of_type(events, MatchProposed)) == sorted(
            (candidate, str(citizen)) for candidate in (best, second) for citizen in (waiting, matched))
        assert len(of_type(events, MatchAccepted)) == 1

        # Retiring again is answered the same, changes nothing and publishes nothing.
        again = await api.post(f"/volunteers/{best}/retire", json={"reason": "health"})
        assert again.status_code == 200
        assert again.json() | {"already_retired": False} == body | {"declined": [], "next_proposals": []}
        assert len(await read_events(kafka_bootstrap, partnership, want=expected, settle=2.0)) == expected

        assert (await api.post(f"/volunteers/{uuid.uuid4()}/retire")).status_code == 404
        assert (await api.post(f"/volunteers/{second}/retire", json={"reason": "fed up with it"})).status_code == 422


async def test_a_retired_volunteer_is_left_out_of_ranking_and_batch_assignment_until_registered_again(
        kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        partnership = runtime.settings.partnership_id
        first, other = uuid.uuid4(), uuid.uuid4()  # clarified before any volunteer is registered: both wait
        await publish(kafka_bootstrap, partnership, referral(first, [ORG]), clarification(first, wishes=["friend"]),
                      referral(other, [ORG]), clarification(other, wishes=["friend"]))

        async def known(citizen: uuid.UUID) -> bool:
            return (await api.get(f"/citizens/{citizen}/candidates")).status_code == 200

        for citizen in (first, other):
            await eventually(lambda: known(citizen))
        baker = volunteer(volunteer_id=str(uuid.uuid4()), interests=["bagning", "gåtur"], capacity=2)
        await api.post("/volunteers", json=baker)
        walker = (await api.post("/volunteers", json=volunteer(interests=["gåtur"], capacity=1))).json()["volunteer_id"]
        retired = (await api.post(f"/volunteers/{baker['volunteer_id']}/retire")).json()
        assert retired["reason"] == "other" and retired["declined"] == [] and retired["next_proposals"] == []

        # The batch assignment has only the walker's one slot; the candidates endpoint shows only the walker.
        run = (await api.post("/assignments/run")).json()
        assert run["proposed"] == 1 and run["proposals"][0]["candidate_id"] == walker
        for citizen in (first, other):
            judged = (await api.get(f"/citizens/{citizen}/candidates")).json()["candidates"]
            assert [c["candidate_id"] for c in judged] == [walker]
        # Ranking after a decline does not reach for the retired baker either.
        offer = run["proposals"][0]
        declined = (await api.post(f"/proposals/{offer['proposal_id']}/decline", json={"reason": "did_not_click"})).json()
        assert declined["next_proposal"] is None

        # Registering the baker again brings them back: the next round proposes them to both.
        back = await api.post("/volunteers", json=baker)
        assert back.status_code == 201 and back.json()["active"] is True
        listed = {v["volunteer_id"]: v for v in (await api.get("/volunteers")).json()}
        assert listed[baker["volunteer_id"]]["active"] is True and listed[baker["volunteer_id"]]["retired_reason"] is None
        rerun = (await api.post("/assignments/run")).json()
        assert {(p["citizen_id"], p["candidate_id"]) for p in rerun["proposals"]} == {
            (str(first), baker["volunteer_id"]), (str(other), baker["volunteer_id"])}

        events = await read_events(kafka_bootstrap, partnership, want=3 + 1 + 1 + 1 + 2)
        announced = [e for e in of_type(events, VolunteerRegistered) if str(e.volunteer_id) == baker["volunteer_id"]]
        assert [e.active for e in announced] == [True, False, True]
