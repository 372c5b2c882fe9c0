"""Duplicates, triage, consent changes and the referrer's status, against the real broker and database."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer

from brobygger_contracts import Envelope, topic_for
from brobygger_contracts.events.journey import GuideAssigned, JourneyCompleted, JourneyStateChanged
from brobygger_contracts.sealed import SealedEvent
from brobygger_runtime.sealing import seal_event
from referral_cards import REFERRERS, make_card


async def test_a_second_referral_of_the_same_person_is_merged(referral_service):
    """Cards entered by the owning organisation, which the citizen's consent names: linked."""
    client = referral_service.client
    first = (await client.post("/referrals", json=make_card())).json()
    # The same person written differently, by a relative, with a wider consent (which a card never changes).
    again = make_card(
        referrer=REFERRERS["relative"], citizen__name="HANSEN, frida", citizen__address="storegade 12 1 TH",
        consent__organisations=["varde-kommune", "red-cross", "abf"],
    )
    second = (await client.post("/referrals", json=again)).json()
    namesake = (await client.post("/referrals", json=make_card(citizen__address="Vestergade 3"))).json()
    by_id = (await client.post("/referrals", json=make_card(citizen_id=first["citizen_id"], citizen__name="Frida H."))).json()

    assert second["citizen_id"] == first["citizen_id"] and second["repeat_referral"] is True
    assert namesake["citizen_id"] != first["citizen_id"] and namesake["repeat_referral"] is False
    assert by_id["citizen_id"] == first["citizen_id"] and by_id["repeat_referral"] is True

    events = await referral_service.published()
    received = [e.payload for e in events if e.type == "ReferralReceived"]
    # Events of different citizens may sit on different partitions: compare without order.
    assert {r["referral_id"]: r["repeat_referral"] for r in received} == {
        first["referral_id"]: False, second["referral_id"]: True, namesake["referral_id"]: False, by_id["referral_id"]: True,
    }
    assert [e for e in events if e.type == "ConsentChanged"] == []  # consent changes only through PUT .../consent
    assert {r["consented_orgs"] == ["varde-kommune", "red-cross"] for r in received} == {True}
    stored = (await client.get(f"/referrals/{first['referral_id']}")).json()["citizen"]
    assert stored["name"] == "Frida Hansen" and stored["consented_orgs"] == ["varde-kommune", "red-cross"]  # not renamed

    listed = (await client.get("/referrals")).json()
    assert sum(1 for r in listed if r["citizen_id"] == first["citizen_id"]) == 3


async def test_triage_to_each_outcome(referral_service):
    client = referral_service.client
    ids = [(await client.post("/referrals", json=make_card(citizen__name=f"Person {n}"))).json()["referral_id"] for n in "ABC"]
    bridge, professional, declined = ids

    missing = await client.post(f"/referrals/{professional}/triage", json={"decision": "professional", "triaged_by": "guide-1"})
    assert missing.status_code == 422
    assert {tuple(d["loc"]) for d in missing.json()["detail"]} == {("body", "escalation_reason"), ("body", "receiving_unit")}

    answers = [
        await client.post(f"/referrals/{bridge}/triage", json={"decision": "bridge", "triaged_by": "guide-1", "note": "Vil gerne bage"}),
        await client.post(f"/referrals/{professional}/triage", json={
            "decision": "professional", "triaged_by": "guide-1", "escalation_reason": "mental_health",
            "receiving_unit": "varde-psykiatri", "note": "Tegn på depression"}),
        await client.post(f"/referrals/{declined}/triage", json={"decision": "declined", "triaged_by": "guide-2"}),
    ]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json()["state"] for a in answers] == ["bridging", "escalated", "declined"]
    again = await client.post(f"/referrals/{bridge}/triage", json={"decision": "declined", "triaged_by": "guide-1"})
    assert again.status_code == 409
    unknown = await client.post(f"/referrals/{uuid.uuid4()}/triage", json={"decision": "bridge", "triaged_by": "guide-1"})
    assert unknown.status_code == 404

    events = await referral_service.published()
    triaged = {e.payload["referral_id"]: e.payload["decision"] for e in events if e.type == "ReferralTriaged"}
    assert triaged == {bridge: "bridge", professional: "professional", declined: "declined"}
    [escalated] = [e.payload for e in events if e.type == "ReferralEscalated"]
    assert escalated["referral_id"] == professional
    assert escalated["reason"] == "mental_health" and escalated["receiving_unit"] == "varde-psykiatri"
    assert all("depression" not in e.raw_value.decode() and "bage" not in e.raw_value.decode() for e in events)

    queue = (await client.get("/referrals", params={"state": "received"})).json()
    assert queue == []
    escalated_list = (await client.get("/referrals", params={"state": "escalated"})).json()
    assert [r["referral_id"] for r in escalated_list] == [professional]
    statuses = [(await client.get(f"/referrals/{r}/status")).json()["status"] for r in ids]
    assert statuses == ["received", "escalated", "declined"]


async def test_consent_changes_publish_what_was_added_and_removed(referral_service):
    client = referral_service.client
    citizen_id = (await client.post("/referrals", json=make_card())).json()["citizen_id"]
    url = f"/citizens/{citizen_id}/consent"

    changed = await client.put(url, json={"organisations": ["varde-kommune", "abf"], "given_by": "citizen"})
    assert changed.status_code == 200, changed.text
    assert changed.json() | {"citizen_id": None} == {"citizen_id": None, "consented_orgs": ["varde-kommune", "abf"], "added": ["abf"], "removed": ["red-cross"]}
    unchanged = await client.put(url, json={"organisations": ["abf", "varde-kommune"], "given_by": "citizen"})
    assert unchanged.json()["added"] == [] and unchanged.json()["removed"] == []
    outsider = await client.put(url, json={"organisations": ["acme-corp"], "given_by": "citizen"})
    assert outsider.status_code == 422 and outsider.json()["detail"][0]["loc"] == ["body", "organisations", 0]
    withdrawn = await client.put(url, json={"organisations": [], "given_by": "relative"})
    assert sorted(withdrawn.json()["removed"]) == ["abf", "varde-kommune"]
    assert (await client.put(f"/citizens/{uuid.uuid4()}/consent", json={"organisations": [], "given_by": "citizen"})).status_code == 404

    changes = [e.payload for e in await referral_service.published() if e.type == "ConsentChanged"]
    assert [(c["consented_orgs"], c["added"], sorted(c["removed"])) for c in changes] == [
        (["varde-kommune", "abf"], ["abf"], ["red-cross"]),
        ([], [], ["abf", "varde-kommune"]),
    ]
    assert all(c["citizen_id"] == citizen_id for c in changes)


async def _publish_as(kafka: str, partnership: str, service: str, event) -> None:  # noqa: ANN001
    envelope = Envelope.for_event(event, partnership=partnership, org="varde-kommune", service=service)
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic_for(type(event), partnership, "varde-kommune"), event.model_dump_json().encode(),
                                     key=envelope.subject.encode(), headers=envelope.to_headers())
    finally:
        await producer.stop()


async def _status_reaches(client, referral_id: str, wanted: str, timeout: float = 20.0) -> dict:  # noqa: ANN001
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status = (await client.get(f"/referrals/{referral_id}/status")).json()
        if status["status"] == wanted or asyncio.get_running_loop().time() > deadline:
            return status
        await asyncio.sleep(0.1)


async def test_the_referrer_follows_the_citizen_through_journey_events(referral_service):
    client, kafka, partnership = referral_service.client, referral_service.kafka, referral_service.settings.partnership_id
    accepted = (await client.post("/referrals", json=make_card())).json()
    citizen = uuid.UUID(accepted["citizen_id"])
    journey, now = uuid.uuid4(), datetime.now(UTC)
    assert (await client.get(f"/referrals/{accepted['referral_id']}/status")).json()["status"] == "received"

    def moved(step: str, before: str, after: str, who: uuid.UUID = citizen) -> JourneyStateChanged:
        return JourneyStateChanged(journey_id=journey, citizen_id=who, step=step, from_state=before, to_state=after, changed_at=now)

    # (event, status after it): a guide assigned is not contact yet; an unaccompanied first visit counts.
    steps = [
        (GuideAssigned(journey_id=journey, citizen_id=citizen, guide_id="guide-1", guide_org="varde-kommune", assigned_at=now), "received"),
        (moved("contact", "referred", "contacted"), "contacted"),
        (moved("clarify", "contacted", "clarified"), "contacted"),
        (moved("propose", "clarified", "matching"), "contacted"),
        (moved("accept", "matching", "match_accepted"), "matched"),
        (moved("first_visit", "match_accepted", "first_visit"), "first_visit_done"),
        (moved("attend", "first_visit", "active"), "active"),
        (moved("attend", "active", "active"), "active"),
        (JourneyCompleted(journey_id=journey, citizen_id=citizen, outcome="completed", days_in_journey=240, completed_at=now), "completed"),
    ]
    async with referral_service.runtime.db.sessions() as s:  # journey seals with the key referral hands it
        key = await referral_service.runtime.citizen_keys.key_for(str(citizen), s)
    for event, milestone in steps:
        await _publish_as(kafka, partnership, "journey", seal_event(event, key) if isinstance(event, SealedEvent) else event)
        status = await _status_reaches(client, accepted["referral_id"], milestone)
        assert status["status"] == milestone, (event, status)
    assert [m["milestone"] for m in status["milestones"]] == ["received", "contacted", "matched", "first_visit_done", "active", "completed"]
    # An event about a citizen this service never referred changes nothing and fails nothing.
    await _publish_as(kafka, partnership, "journey", moved("contact", "referred", "contacted", who=uuid.uuid4()))


async def test_simultaneous_first_referrals_of_one_person_create_one_citizen(referral_service):
    answers = await asyncio.gather(*(referral_service.client.post("/referrals", json=make_card()) for _ in range(6)))
    assert [a.status_code for a in answers] == [201] * 6
    assert len({a.json()["citizen_id"] for a in answers}) == 1
    assert sorted(a.json()["repeat_referral"] for a in answers) == [False] + [True] * 5
