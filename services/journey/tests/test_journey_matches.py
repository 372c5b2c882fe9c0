"""Proposals, acceptances and declines from matching; consent withdrawn; refusals dead-lettered."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from brobygger_contracts import dead_letter_topic, topic_for
from brobygger_contracts.events.matching import MatchDeclined, MatchProposed
from brobygger_contracts.events.referral import ConsentChanged
from journey.adapters.tables import journeys
from journey_testkit import ORG, accept_match, propose, read_events, referral, wait_until


async def test_friend_and_activity_both_accepted_then_the_friend_falls_through(journey_service):
    svc = journey_service
    event = referral()
    c = event.citizen_id
    await svc.send(event)
    await svc.client.post(f"/journeys/{c}/clarification", json={"interests": ["baking"], "wishes": ["friend", "activity"]})
    friend = await accept_match(svc, c, kind="volunteer_friend")
    await accept_match(svc, c, kind="activity")
    assert (await svc.client.get(f"/journeys/{c}")).json()["state"] == "match_accepted"
    await svc.send(MatchDeclined(
        proposal_id=friend.proposal_id, citizen_id=c, kind="volunteer_friend", candidate_id=friend.candidate_id,
        reason="candidate_unavailable", declined_at=svc.clock(),
    ))
    body = (await svc.client.get(f"/journeys/{c}")).json()
    assert body["state"] == "matching"
    assert [t["step"] for t in body["transitions"]][-5:] == ["propose", "accept", "propose", "accept", "fall_through"]


async def test_proposal_for_someone_without_a_journey_is_ignored(journey_service):
    svc = journey_service
    await propose(svc, uuid.uuid4())  # handled (inbox) without opening anything
    assert (await svc.client.get("/reports/funnel")).json()["total"]["referred"] == 0


async def test_proposal_after_exit_is_refused_to_the_dead_letter_topic(journey_service):
    svc = journey_service
    event = referral()
    await svc.send(event)
    await svc.client.post(f"/journeys/{event.citizen_id}/exit", json={"outcome": "declined"})
    late = MatchProposed(
        proposal_id=uuid.uuid4(), citizen_id=event.citizen_id, kind="activity", candidate_id=uuid.uuid4(),
        proposing_org="red-cross", score=0.5, reasons=["near"], proposed_at=svc.clock(),
    )
    await svc.send(late, wait=False)
    group = svc.settings.group_id
    dlt = dead_letter_topic(topic_for(MatchProposed, svc.settings.partnership_id, ORG))  # where svc.send put it

    async def dead_lettered() -> bool:
        records = await read_events(svc.kafka, dlt, svc.settings.partnership_id)
        return any(r.headers.get("dlt_consumer") == group for r in records)

    await wait_until(dead_lettered, what="the late proposal dead-lettered")
    [dead] = [r for r in await read_events(svc.kafka, dlt, svc.settings.partnership_id)
              if r.headers.get("dlt_consumer") == group]
    assert dead.headers["dlt_cause"] == "business_rule"
    assert "exited" in dead.headers["dlt_reason"]
    assert (await svc.client.get(f"/journeys/{event.citizen_id}")).json()["state"] == "exited"


async def test_consent_withdrawn_from_our_org_hides_the_citizen_without_erasing(journey_service):
    """Issue 12 case 1: a replaced consent list is not an erasure; only CitizenErased erases."""
    svc = journey_service
    event = referral()
    await svc.send(event)
    await svc.send(ConsentChanged(
        citizen_id=event.citizen_id, consented_orgs=["red-cross"], removed=["varde-kommune"], changed_at=svc.clock(),
    ))
    assert (await svc.client.get(f"/journeys/{event.citizen_id}")).status_code == 404  # hidden from everyone
    assert str(event.citizen_id) not in {j["citizen_id"] for j in (await svc.client.get("/journeys")).json()}
    async with svc.runtime.db.sessions() as s:
        kept = (await s.execute(sa.select(journeys.c.erased, journeys.c.hidden).where(
            journeys.c.citizen_id == str(event.citizen_id)))).one()
    assert (kept.erased, kept.hidden) == (False, True)  # the data stays until erasure or retention
    await svc.send(ConsentChanged(
        citizen_id=event.citizen_id, consented_orgs=["red-cross", "varde-kommune"], added=["varde-kommune"],
        changed_at=svc.clock(),
    ))
    assert (await svc.client.get(f"/journeys/{event.citizen_id}")).status_code == 200  # named again: shown again
