"""The seeds' cases walked through the journey on the real broker and database."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from brobygger_contracts.events.matching import GroupProposed
from brobygger_contracts.events.referral import CitizenErased, ReferralEscalated
from journey.adapters.tables import contacts, journeys
from journey_testkit import accept_match, decline_match, propose, referral


async def state_of(svc, citizen) -> str:  # noqa: ANN001
    return (await svc.client.get(f"/journeys/{citizen}")).json()["state"]


async def test_frida_referred_by_her_mother_self_help_group_then_social_cafe(journey_service):
    svc = journey_service
    await svc.client.post("/guides", json={"guide_id": "guide-anna"})
    frida = referral(source="relative", referrer_org=None)
    c = frida.citizen_id
    await svc.send(frida)
    await svc.client.post(f"/journeys/{c}/contacts", json={"kind": "home_visit", "by": "guide-anna", "note": "Mor var med."})
    assert await state_of(svc, c) == "contacted"
    reply = await svc.client.post(f"/journeys/{c}/clarification", json={
        "interests": ["self_help", "coffee_chat"], "wishes": ["activity", "group"], "wants_accompaniment": True,
        "barriers": ["anxiety"], "baseline": {"lack_companionship": 3, "left_out": 3, "isolated": 3},
    })
    assert reply.status_code == 201
    assert (await svc.client.post(f"/journeys/{c}/punch-card/grants", json={"hours": 4, "by": "coordinator-eva"})).json()["balance_hours"] == 4

    self_help = await accept_match(svc, c, name="Selvhjælpsgruppe Varde")
    assert await state_of(svc, c) == "match_accepted"
    visit = await svc.client.post(f"/journeys/{c}/first-visit", json={
        "proposal_id": str(self_help.proposal_id), "companion": "guide", "companion_id": "guide-anna", "hours": 2,
    })
    assert visit.status_code == 201 and visit.json()["punch_card"]["balance_hours"] == 2
    assert (await svc.client.post(f"/journeys/{c}/attendance", json={})).json()["state"] == "active"

    # The social café as a practice community: a second proposal while active.
    cafe = await accept_match(svc, c, name="Socialt café")
    assert await state_of(svc, c) == "match_accepted"
    await svc.client.post(f"/journeys/{c}/first-visit", json={"proposal_id": str(cafe.proposal_id), "companion": "relative", "hours": 1.5})
    await svc.client.post(f"/journeys/{c}/attendance", json={})
    reply = await svc.client.post(f"/journeys/{c}/exit", json={
        "outcome": "completed", "final": {"lack_companionship": 2, "left_out": 1, "isolated": 2}, "relatives_involved": True,
    })
    assert reply.status_code == 201
    body = (await svc.client.get(f"/journeys/{c}")).json()
    assert body["state"] == "exited" and body["outcome"] == "completed"
    assert body["punch_card"] == {"granted_hours": 4.0, "drawn_hours": 3.5, "balance_hours": 0.5}
    assert [t["to"] for t in body["transitions"]] == [
        "referred", "contacted", "clarified", "matching", "match_accepted", "first_visit", "active",
        "active", "match_accepted", "first_visit", "active", "exited",
    ]

    accompanied = await svc.published("FirstVisitAccompanied")
    assert [(e.payload["companion"], e.payload["hours"], e.payload["proposal_id"]) for e in accompanied] == [
        ("guide", 2.0, str(self_help.proposal_id)), ("relative", 1.5, str(cafe.proposal_id)),
    ]
    [done] = await svc.published("JourneyCompleted")
    assert done.payload["outcome"] == "completed"
    assert done.payload["baseline"]["total"] == 9 and done.payload["final"]["total"] == 5
    assert done.payload["relatives_involved"] is True


async def test_lillemor_home_care_volunteer_friend_and_punch_card_limits(journey_service):
    svc = journey_service
    await svc.client.post("/guides", json={"guide_id": "guide-bo"})
    lillemor = referral(source="home_care")
    c = lillemor.citizen_id
    await svc.send(lillemor)
    await svc.client.post(f"/journeys/{c}/clarification", json={
        "interests": ["cards", "baking"], "wishes": ["friend"], "barriers": ["mobility", "caring_for_spouse"],
        "baseline": {"lack_companionship": 3, "left_out": 2, "isolated": 3},
    })
    first = await propose(svc, c, kind="volunteer_friend")
    await decline_match(svc, first, reason="did_not_click")
    assert await state_of(svc, c) == "matching"
    friend = await accept_match(svc, c, kind="volunteer_friend")

    # Home care goes along, but no hours were granted: refused, and nothing is recorded.
    visit = {"proposal_id": str(friend.proposal_id), "companion": "home_care", "companion_id": "hjemmepleje-7", "hours": 1}
    refused = await svc.client.post(f"/journeys/{c}/first-visit", json=visit)
    assert refused.status_code == 409 and "extend" in refused.json()["detail"]
    assert await state_of(svc, c) == "match_accepted"
    await svc.client.post(f"/journeys/{c}/punch-card/grants", json={"hours": 1})
    assert (await svc.client.post(f"/journeys/{c}/first-visit", json=visit)).status_code == 201
    # The card is empty: the next accompaniment waits for a coordinator's extension.
    later = {"companion": "volunteer", "companion_id": "vol-12", "hours": 0.5}
    assert (await svc.client.post(f"/journeys/{c}/attendance", json=later)).status_code == 409
    extended = await svc.client.post(f"/journeys/{c}/punch-card/extensions", json={"hours": 2, "coordinator_id": "coordinator-eva"})
    assert extended.json()["balance_hours"] == 2
    reply = await svc.client.post(f"/journeys/{c}/attendance", json=later)
    assert reply.status_code == 201 and reply.json()["punch_card"]["balance_hours"] == 1.5
    assert (await svc.client.get(f"/journeys/{c}/punch-card")).json() == {"granted_hours": 3.0, "drawn_hours": 1.5, "balance_hours": 1.5}
    [accompanied] = await svc.published("FirstVisitAccompanied")
    assert accompanied.payload["companion"] == "home_care" and accompanied.payload["hours"] == 1.0


async def test_varde_walking_group_from_proposal_to_self_running(journey_service):
    svc = journey_service
    walkers = [referral() for _ in range(3)]
    for event in walkers:
        await svc.send(event)
        await svc.client.post(f"/journeys/{event.citizen_id}/clarification", json={"interests": ["walking"], "wishes": ["group"]})
    proposal = GroupProposed(
        group_proposal_id=uuid.uuid4(), interest="walking", postal_code="6800",
        citizen_ids=[e.citizen_id for e in walkers], proposing_org="varde-kommune", proposed_at=svc.clock(),
    )
    await svc.send(proposal)
    await svc.send(proposal)  # a redelivery under a new event id forms no second group
    reply = await svc.client.post("/groups", json={"group_proposal_id": str(proposal.group_proposal_id), "facilitator_id": "tovholder-karen"})
    assert reply.status_code == 201, reply.text
    group = reply.json()
    assert group["state"] == "facilitated"
    assert group["member_citizen_ids"] == sorted(str(e.citizen_id) for e in walkers)
    again = await svc.client.post("/groups", json={"group_proposal_id": str(proposal.group_proposal_id), "facilitator_id": "x"})
    assert again.status_code == 409

    ids = [str(e.citizen_id) for e in walkers]
    assert [await state_of(svc, c) for c in ids] == ["match_accepted"] * 3  # joining the group is their match

    gid = group["group_id"]
    states = []
    attending = {0: ids[:2], 1: ids}  # the third walker comes from the second meeting on
    for n, present in enumerate((True, False, False, True, False, False, False, False)):
        body = {"facilitator_present": present, "attendees": 3, "attending_member_ids": attending.get(n, [])}
        reply = await svc.client.post(f"/groups/{gid}/meetings", json=body)
        states.append(reply.json()["state"])
        if n == 0:
            assert [await state_of(svc, c) for c in ids] == ["first_visit", "first_visit", "match_accepted"]
    assert [await state_of(svc, c) for c in ids] == ["active", "active", "first_visit"]
    stranger = await svc.client.post(f"/groups/{gid}/meetings", json={"facilitator_present": True, "attending_member_ids": [str(uuid.uuid4())]})
    assert stranger.status_code == 409
    assert states == ["facilitated"] * 6 + ["self_running"] * 2  # after 3 meetings in a row without her

    [formed] = await svc.published("GroupFormed")
    assert formed.payload["facilitator_id"] == "tovholder-karen"
    assert formed.payload["group_proposal_id"] == str(proposal.group_proposal_id)
    assert formed.headers["ce_subject"] == gid
    [self_running] = await svc.published("GroupBecameSelfRunning")
    assert self_running.payload["reason"] == "meetings_without_facilitator"
    assert self_running.payload["meetings_held"] == 7
    assert (await svc.client.get(f"/groups/{gid}")).json()["meetings_held"] == 8  # the refused one was not logged
    assert self_running.payload["facilitator_id"] == "tovholder-karen"


async def test_group_by_hand_released_by_facilitator_decision(journey_service):
    svc = journey_service
    members = [str(uuid.uuid4()), str(uuid.uuid4())]
    reply = await svc.client.post("/groups", json={
        "facilitator_id": "tovholder-ole", "interest": "senior_swimming", "postal_code": "7500", "member_citizen_ids": members,
    })
    gid = reply.json()["group_id"]
    assert (await svc.client.post(f"/groups/{gid}/self-running")).json()["state"] == "self_running"
    assert (await svc.client.post(f"/groups/{gid}/self-running")).status_code == 409
    [event] = await svc.published("GroupBecameSelfRunning")
    assert event.payload["reason"] == "facilitator_decision"
    assert (await svc.client.post("/groups", json={"facilitator_id": "x", "interest": "walking"})).status_code == 409


async def test_escalation_to_professionals_ends_the_journey(journey_service):
    svc = journey_service
    event = referral(source="gp")
    c = event.citizen_id
    await svc.send(event)
    await svc.client.post(f"/journeys/{c}/contacts", json={"kind": "home_visit"})
    await svc.send(ReferralEscalated(
        referral_id=event.referral_id, citizen_id=c, reason="mental_health", receiving_unit="varde-psykiatri",
        escalated_at=svc.clock(),
    ))
    body = (await svc.client.get(f"/journeys/{c}")).json()
    assert (body["state"], body["outcome"]) == ("exited", "escalated")
    refused = await svc.client.post(f"/journeys/{c}/clarification", json={"interests": ["walking"]})
    assert refused.status_code == 409 and refused.json()["current_state"] == "exited"
    [done] = await svc.published("JourneyCompleted")
    assert done.payload["outcome"] == "escalated"


async def test_citizen_erased_forgets_the_citizen_but_keeps_counts(journey_service):
    svc = journey_service
    event = referral()
    c = event.citizen_id
    await svc.send(event)
    await svc.client.post(f"/journeys/{c}/contacts", json={"kind": "home_visit", "note": "Bor alene, savner sin mand."})
    await svc.client.post(f"/journeys/{c}/clarification", json={"interests": ["walking"], "baseline": {"lack_companionship": 2, "left_out": 2, "isolated": 2}})
    await svc.send(CitizenErased(citizen_id=c, erased_at=svc.clock()))
    assert (await svc.client.get(f"/journeys/{c}")).status_code == 404
    async with svc.runtime.db.sessions() as s:
        notes = (await s.scalars(sa.select(contacts.c.note))).all()
        row = (await s.execute(sa.select(journeys))).one()
    assert notes == [None]
    assert str(c) not in row.citizen_id and row.clarification is None and row.erased
    assert row.baseline == {"total": 6}  # only the total stays for the loneliness report
    funnel = (await svc.client.get("/reports/funnel")).json()
    assert funnel["total"]["referred"] == 1 and funnel["total"]["clarified"] == 1
