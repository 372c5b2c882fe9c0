"""Groups as people live them (issue 15 cases 1-3): a group that grows is applied under its new version, members
confirm one by one, and a place is freed when a member leaves, stops attending or ends their journey
(`ParticipationEnded`). On the real broker and PostgreSQL."""

from __future__ import annotations

import uuid

from brobygger_contracts.events.matching import GroupProposed
from journey_testkit import referral


async def _walkers(svc, n: int) -> list[str]:  # noqa: ANN001
    walkers = [referral() for _ in range(n)]
    for event in walkers:
        await svc.send(event)
        reply = await svc.client.post(f"/journeys/{event.citizen_id}/clarification",
                                      json={"interests": ["gåtur"], "wishes": ["group"]})
        assert reply.status_code == 201, reply.text
    return [str(e.citizen_id) for e in walkers]


def _proposal(svc, members: list[str], version: int = 1, proposal_id: uuid.UUID | None = None) -> GroupProposed:  # noqa: ANN001
    return GroupProposed(group_proposal_id=proposal_id or uuid.uuid4(), interest="walking", postal_code="6800",
                         citizen_ids=[uuid.UUID(m) for m in members], proposing_org="varde-kommune",
                         proposed_at=svc.clock(), proposal_version=version)


async def _state(svc, citizen: str) -> str:  # noqa: ANN001
    return (await svc.client.get(f"/journeys/{citizen}")).json()["state"]


async def test_a_group_that_grows_is_applied_and_the_newcomer_joins_when_they_confirm(journey_service):
    svc = journey_service
    a, b, c = await _walkers(svc, 3)
    first = _proposal(svc, [a, b])
    await svc.send(first)
    formed = await svc.client.post("/groups", json={"group_proposal_id": str(first.group_proposal_id),
                                                    "facilitator_id": "tovholder-karen"})
    assert formed.status_code == 201, formed.text
    gid = formed.json()["group_id"]
    # Matching proposes the grown group under the same id and the next version: the newcomer is added (before
    # issue 15 journey kept the first version and dropped the growth: the newcomer was never in the group).
    await svc.send(_proposal(svc, [a, b, c], version=2, proposal_id=first.group_proposal_id))
    await svc.send(first)  # a late copy of the first version takes nobody out
    view = (await svc.client.get(f"/groups/{gid}")).json()
    assert view["proposal_version"] == 2
    assert view["member_citizen_ids"] == sorted([a, b, c])
    assert {m["citizen_id"]: m["confirmed"] for m in view["members"]} == {a: True, b: True, c: False}
    assert await _state(svc, c) == "clarified"  # proposed, not yet in
    confirmed = await svc.client.post(f"/group-proposals/{first.group_proposal_id}/members/{c}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    assert await _state(svc, c) == "match_accepted"  # joining the group that meets is their accepted match
    stranger = await svc.client.post(f"/group-proposals/{first.group_proposal_id}/members/{uuid.uuid4()}/confirm")
    assert stranger.status_code == 404


async def test_a_proposed_group_forms_with_the_members_who_confirmed(journey_service):
    svc = journey_service
    a, b, c = await _walkers(svc, 3)
    proposal = _proposal(svc, [a, b, c])
    await svc.send(proposal)
    for member in (a, c):
        reply = await svc.client.post(f"/group-proposals/{proposal.group_proposal_id}/members/{member}/confirm")
        assert reply.status_code == 200 and reply.json()["group_state"] == "proposed", reply.text
    # Another organisation's guide may not confirm for a citizen they cannot reach.
    outsider = svc.auth("coordinator", org="abf")
    refused = await svc.client.post(f"/group-proposals/{proposal.group_proposal_id}/members/{b}/confirm", auth=outsider)
    assert refused.status_code == 404
    formed = await svc.client.post("/groups", json={"group_proposal_id": str(proposal.group_proposal_id),
                                                    "facilitator_id": "tovholder-karen"})
    assert formed.status_code == 201, formed.text
    assert formed.json()["member_citizen_ids"] == sorted([a, c])
    assert [await _state(svc, m) for m in (a, b, c)] == ["match_accepted", "clarified", "match_accepted"]
    [event] = await svc.published("GroupFormed")
    assert sorted(event.payload["member_citizen_ids"]) == sorted([a, c])


async def test_places_free_when_a_member_leaves_stops_attending_or_ends_the_journey(journey_service):
    svc = journey_service
    a, b, c = await _walkers(svc, 3)
    proposal = _proposal(svc, [a, b, c])
    await svc.send(proposal)
    gid = (await svc.client.post("/groups", json={"group_proposal_id": str(proposal.group_proposal_id),
                                                  "facilitator_id": "tovholder-karen"})).json()["group_id"]
    left = await svc.client.post(f"/groups/{gid}/members/{b}/leave")
    assert left.status_code == 200 and left.json()["reason"] == "left", left.text
    assert (await svc.client.post(f"/groups/{gid}/members/{b}/leave")).status_code == 404  # once
    # c comes to none of three recorded meetings (the default STOPPED_ATTENDING_AFTER_MEETINGS): their place is freed.
    for n in range(3):
        reply = await svc.client.post(f"/groups/{gid}/meetings", json={"facilitator_present": True,
                                                                       "attending_member_ids": [a]})
        assert reply.status_code == 201, reply.text
        members = (await svc.client.get(f"/groups/{gid}")).json()["member_citizen_ids"]
        assert members == (sorted([a, c]) if n < 2 else [a])
    # a's journey ends: their place goes too.
    done = await svc.client.post(f"/journeys/{a}/exit", json={"outcome": "completed"})
    assert done.status_code == 201, done.text
    assert (await svc.client.get(f"/groups/{gid}")).json()["member_citizen_ids"] == []
    ended = await svc.published("ParticipationEnded")
    # keyed by citizen, so spread over partitions: compared without their order
    assert {e.payload["citizen_id"]: e.payload["reason"] for e in ended} == {
        b: "left", c: "stopped_attending", a: "journey_ended"}
    assert len(ended) == 3
    assert {e.payload["group_id"] for e in ended} == {gid}
    assert {e.payload["group_proposal_id"] for e in ended} == {str(proposal.group_proposal_id)}


async def test_the_organisations_groups_are_listed_for_its_coordinators_and_each_facilitator(journey_service):
    # The coordinator's console shows groups with their facilitator, meetings and the way to running themselves;
    # before, a group could be read only by its id, which nobody had without the GroupFormed event.
    svc = journey_service
    a, b, c, d = await _walkers(svc, 4)
    made = {}
    for members, facilitator in (([a, b], "tovholder-karen"), ([c, d], "tovholder-ole")):
        proposal = _proposal(svc, members)
        await svc.send(proposal)
        formed = await svc.client.post("/groups", json={"group_proposal_id": str(proposal.group_proposal_id),
                                                        "facilitator_id": facilitator})
        assert formed.status_code == 201, formed.text
        made[facilitator] = formed.json()["group_id"]
    met = await svc.client.post(f"/groups/{made['tovholder-karen']}/meetings",
                                json={"attendance": 2, "facilitator_present": False, "attending_member_ids": [a, b]})
    assert met.status_code == 201, met.text

    listed = {g["group_id"]: g for g in (await svc.client.get("/groups")).json()}
    assert set(listed) == set(made.values())
    karens = listed[made["tovholder-karen"]]
    assert (karens["facilitator_id"], karens["meetings_held"], karens["consecutive_without_facilitator"]) == (
        "tovholder-karen", 1, 1)
    assert len((await svc.client.get("/groups", params={"limit": 1})).json()) == 1
    as_karen = svc.auth("guide", subject="tovholder-karen")
    assert [g["group_id"] for g in (await svc.client.get("/groups", auth=as_karen)).json()] == [made["tovholder-karen"]]
    for outsider in (svc.auth("coordinator", org="red-cross"), svc.auth("guide", org="red-cross", subject="tovholder-karen"),
                     svc.auth("steering")):
        assert (await svc.client.get("/groups", auth=outsider)).status_code == 403
