"""Real choice (issue 15 case 3), on the real broker and PostgreSQL: up to three activities at once with reasons,
the citizen picks any (the others are withdrawn), declines one while the others stay, or asks for a new group."""

from __future__ import annotations

import uuid

from brobygger_contracts.events.matching import GroupProposed, MatchAccepted, MatchDeclined, MatchProposed
from matching.testing import (
    ORG, activity, clarification, eventually, matching_instance, of_type, proposals_of, publish, read_events,
    referral, tokens, volunteer,
)


async def _four_walks(api) -> list[str]:  # noqa: ANN001
    """Four walking activities, best first for a citizen who likes walking and coffee on Tuesday mornings."""
    made = []
    for name, interests, schedule in (("Gå og kaffe", ["gåtur", "kaffe"], [{"day": "tue", "part": "morning"}]),
                                      ("Gåtur tirsdag", ["gåtur"], [{"day": "tue", "part": "morning"}]),
                                      ("Gåtur fredag", ["gåtur"], [{"day": "fri", "part": "evening"}]),
                                      ("Gåtur lørdag", ["gåtur"], [{"day": "sat", "part": "evening"}])):
        reply = await api.post("/activities", json=activity(name=name, interests=interests, schedule=schedule))
        assert reply.status_code == 201, reply.text
        made.append(reply.json()["activity_id"])
    return made


async def _shown_three(kafka: str, partnership: str, api) -> tuple[list[str], uuid.UUID]:  # noqa: ANN001
    """Four walks published and a walker clarified, once their three options are shown."""
    walks = await _four_walks(api)
    citizen = uuid.uuid4()
    await publish(kafka, partnership, referral(citizen, [ORG]), clarification(
        citizen, wishes=["activity"], interests=["walking", "coffee_and_conversation"]))

    async def three() -> bool:
        return len(await proposals_of(api, citizen)) == 3
    await eventually(three)
    return walks, citizen


async def test_three_options_at_once_and_picking_the_second_withdraws_the_others(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        partnership = runtime.settings.partnership_id
        walks, citizen = await _shown_three(kafka_bootstrap, partnership, api)
        shown = await proposals_of(api, citizen, headers={"Accept-Language": "sv"})
        # Before issue 15 one was shown and the next only after a decline.
        assert [p["rank"] for p in shown] == [1, 2, 3]
        assert [p["candidate_id"] for p in shown] == walks[:3]
        assert len({p["choice_id"] for p in shown}) == 1 and shown[0]["choice_id"]
        assert all(p["reasons"] and p["reason_codes"] for p in shown)
        assert "en aktivitet med fika och samtal och promenader" in shown[0]["reasons"]  # in the reader's language

        second = shown[1]
        accepted = await api.post(f"/proposals/{second['proposal_id']}/accept")
        assert accepted.status_code == 200, accepted.text
        after = {p["proposal_id"]: (p["status"], p["decline_reason"]) for p in await proposals_of(api, citizen)}
        assert after == {shown[0]["proposal_id"]: ("withdrawn", "chose_another"),
                         second["proposal_id"]: ("accepted", None),
                         shown[2]["proposal_id"]: ("withdrawn", "chose_another")}
        assert (await api.post(f"/proposals/{shown[0]['proposal_id']}/accept")).status_code == 409

        events = await read_events(kafka_bootstrap, partnership, want=4 + 3 + 1 + 2)
        proposed = [e for e in of_type(events, MatchProposed) if e.citizen_id == citizen]
        assert [(e.rank, str(e.candidate_id)) for e in proposed] == [(1, walks[0]), (2, walks[1]), (3, walks[2])]
        assert {e.choice_id for e in proposed} == {uuid.UUID(shown[0]["choice_id"])}
        assert [str(e.candidate_id) for e in of_type(events, MatchAccepted)] == [walks[1]]
        assert sorted((str(e.candidate_id), e.opened.reason.value) for e in of_type(events, MatchDeclined)) == sorted(
            [(walks[0], "chose_another"), (walks[2], "chose_another")])


async def test_declining_one_option_keeps_the_others_and_the_next_come_when_none_is_left(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        partnership = runtime.settings.partnership_id
        walks, citizen = await _shown_three(kafka_bootstrap, partnership, api)
        shown = await proposals_of(api, citizen)
        first = await api.post(f"/proposals/{shown[0]['proposal_id']}/decline", json={"reason": "too_far"})
        assert first.status_code == 200 and first.json()["next_proposal"] is None  # two options still open
        await api.post(f"/proposals/{shown[1]['proposal_id']}/decline", json={"reason": "wrong_time"})
        last = await api.post(f"/proposals/{shown[2]['proposal_id']}/decline", json={"reason": "not_interested"})
        following = last.json()["next_proposal"]
        assert following["candidate_id"] == walks[3] and following["rank"] == 4


async def test_asking_for_a_new_group_groups_citizens_an_activity_would_otherwise_serve(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        partnership = runtime.settings.partnership_id
        await api.post("/activities", json=activity(name="Gåfællesskab Varde", interests=["gåtur"]))
        walkers = [uuid.uuid4() for _ in range(2)]
        for citizen in walkers:
            await publish(kafka_bootstrap, partnership, referral(citizen, [ORG]), clarification(
                citizen, wishes=["activity"], interests=["walking"]))

        async def known(citizen) -> bool:  # noqa: ANN001
            return len(await proposals_of(api, citizen)) == 1
        for citizen in walkers:
            await eventually(lambda: known(citizen))
        outsider = tokens().auth("coordinator", org="abf")
        refused = await api.post(f"/citizens/{walkers[0]}/group-request", json={"interests": ["gåtur"]}, auth=outsider)
        assert refused.status_code == 404
        assert (await api.post(f"/citizens/{walkers[0]}/group-request", json={"interests": ["flyvning"]})).status_code == 422
        first = await api.post(f"/citizens/{walkers[0]}/group-request", json={"interests": ["gåtur"]})
        assert first.status_code == 202 and first.json()["group_proposals"] == [], first.text  # nobody else asked yet
        second = await api.post(f"/citizens/{walkers[1]}/group-request", json={"interests": ["promenad"]})
        assert second.status_code == 202, second.text
        [group] = second.json()["group_proposals"]
        assert group["interest"] == "walking" and set(group["citizen_ids"]) == {str(c) for c in walkers}
        assert len(of_type(await read_events(kafka_bootstrap, partnership, want=4, settle=1.0), GroupProposed)) == 1


async def test_volunteer_friends_can_be_shown_three_at_once_from_the_slots_the_assignment_leaves(kafka_bootstrap,
                                                                                                  database_url):
    async with matching_instance(kafka_bootstrap, database_url, volunteer_options_shown=3) as (runtime, api):
        partnership = runtime.settings.partnership_id
        ids = []
        for interests in (["bagning", "gåtur"], ["bagning"], ["fiskeri"], ["strikning"]):  # best first
            ids.append((await api.post("/volunteers", json=volunteer(interests=interests, capacity=1))).json()["volunteer_id"])
        citizen = uuid.uuid4()
        await publish(kafka_bootstrap, partnership, referral(citizen, [ORG]), clarification(citizen, wishes=["friend"]))

        async def three() -> bool:
            return len(await proposals_of(api, citizen)) == 3
        await eventually(three)
        shown = await proposals_of(api, citizen)
        assert [(p["rank"], p["candidate_id"]) for p in shown] == [(1, ids[0]), (2, ids[1]), (3, ids[2])]
        assert len({p["choice_id"] for p in shown}) == 1
        # The citizen's pick asks that volunteer (two-sided consent) and lets the other two go at once.
        asked = await api.post(f"/proposals/{shown[2]['proposal_id']}/accept")
        assert asked.status_code == 200, asked.text
        assert [p["status"] for p in await proposals_of(api, citizen)] == ["withdrawn", "withdrawn", "awaiting_volunteer"]
        said_yes = await api.post(f"/proposals/{shown[2]['proposal_id']}/volunteer-answer", json={"answer": "accept"})
        assert said_yes.status_code == 200, said_yes.text
        assert [p["status"] for p in await proposals_of(api, citizen)] == ["withdrawn", "withdrawn", "accepted"]
