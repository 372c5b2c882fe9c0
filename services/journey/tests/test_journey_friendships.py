"""A volunteer friendship ends (matching's FriendshipEnded, issue 14): the journey treats it as a fall-through and
gives the guide a follow-up; a redelivery changes nothing. Real broker and PostgreSQL."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from brobygger_contracts.events.friendships import FriendshipEnded
from journey.adapters.tables import timers
from journey_testkit import accept_match, referral, wait_until


def ended(proposal, svc) -> FriendshipEnded:  # noqa: ANN001
    return FriendshipEnded(friendship_id=uuid.uuid4(), proposal_id=proposal.proposal_id,
                           citizen_id=proposal.citizen_id, volunteer_id=proposal.candidate_id, side="citizen",
                           reason="not_a_match", started_at=svc.clock(), ended_at=svc.clock())


async def test_an_ended_friendship_falls_through_and_the_guide_gets_a_follow_up_once(journey_service):
    svc = journey_service
    event = referral()
    c = event.citizen_id
    await svc.send(event)
    await svc.client.post(f"/journeys/{c}/clarification", json={"interests": ["baking"], "wishes": ["friend"]})
    friend = await accept_match(svc, c, kind="volunteer_friend")
    assert (await svc.client.get(f"/journeys/{c}")).json()["state"] == "match_accepted"

    end = ended(friend, svc)
    await svc.send(end)
    body = (await svc.client.get(f"/journeys/{c}")).json()
    assert body["state"] == "matching"  # the guide can ask for someone else
    assert [t["step"] for t in body["transitions"]][-1] == "fall_through"

    async def followed_up() -> bool:
        return any(d["kind"] == "follow_up" for d in await svc.outbox("FollowUpDue"))
    await wait_until(followed_up, what="the guide's follow-up")
    [due] = [d for d in await svc.outbox("FollowUpDue") if d["kind"] == "follow_up"]
    assert due["citizen_id"] == str(c) and due["guide_id"] == body["guide_id"]

    # The same ending again, even as another event (a replay): nothing more.
    steps = len(body["transitions"])
    await svc.send(end)
    assert len((await svc.client.get(f"/journeys/{c}")).json()["transitions"]) == steps
    assert len([d for d in await svc.outbox("FollowUpDue") if d["kind"] == "follow_up"]) == 1


async def test_a_friendship_ending_after_the_first_visit_keeps_the_state_and_one_follow_up_series(journey_service):
    svc = journey_service
    event = referral()
    c = event.citizen_id
    await svc.send(event)
    await svc.client.post(f"/journeys/{c}/clarification", json={"interests": ["baking"], "wishes": ["friend"]})
    friend = await accept_match(svc, c, kind="volunteer_friend")
    visited = await svc.client.post(f"/journeys/{c}/first-visit", json={
        "proposal_id": str(friend.proposal_id), "companion": "guide", "companion_id": "g1", "hours": 0})
    assert visited.status_code == 201, visited.text
    await svc.send(ended(friend, svc))
    body = (await svc.client.get(f"/journeys/{c}")).json()
    assert body["state"] == "first_visit" and body["transitions"][-1]["step"] == "fall_through"
    # The follow-up series of the first visit gave way to one due now: one series, never two.
    async with svc.runtime.db.sessions() as session:
        rows = (await session.execute(sa.select(timers).where(timers.c.kind == "follow_up"))).all()
    assert len([r for r in rows if r.cancelled_at is not None]) == 1  # the one due 14 days after the first visit
    assert len([r for r in rows if r.cancelled_at is None and r.fired_at is None]) == 1
    assert min(r.due_at for r in rows if r.cancelled_at is None) == svc.clock()
