"""The slice: referral -> journey with a guide -> clarification -> NeedsClarified, on the real bus."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from journey_testkit import CLARIFICATION, ORG, referral


async def test_referral_opens_journey_and_assigns_least_loaded_guide(journey_service):
    svc = journey_service
    for guide, capacity in (("guide-anna", 10), ("guide-bo", 10)):
        assert (await svc.client.post("/guides", json={"guide_id": guide, "display_name": guide, "capacity": capacity})).status_code == 201
    first, second = referral(), referral()
    await svc.send(first)
    await svc.send(second)

    body = (await svc.client.get(f"/journeys/{first.citizen_id}")).json()
    assert body["state"] == "referred"
    assigned = {e.payload["citizen_id"]: e for e in await svc.published("GuideAssigned")}
    assert set(assigned) == {str(first.citizen_id), str(second.citizen_id)}
    # least loaded: the second journey goes to the other guide
    assert {e.payload["guide_id"] for e in assigned.values()} == {"guide-anna", "guide-bo"}
    assert assigned[str(first.citizen_id)].payload["guide_id"] == body["guide_id"]
    assert assigned[str(first.citizen_id)].payload["guide_org"] == ORG
    assert assigned[str(first.citizen_id)].headers["ce_subject"] == str(first.citizen_id)
    guides = (await svc.client.get("/guides")).json()
    assert [g["open_journeys"] for g in guides] == [1, 1]


async def test_journey_waits_for_a_guide_and_gets_one_when_a_guide_registers(journey_service):
    svc = journey_service
    event = referral()
    await svc.send(event)
    assert (await svc.client.get(f"/journeys/{event.citizen_id}")).json()["guide_id"] is None
    assert await svc.outbox("GuideAssigned") == []

    reply = await svc.client.post("/guides", json={"guide_id": "guide-cecilie", "capacity": 5})
    assert reply.json()["assigned_journeys"] == 1
    assert (await svc.client.get(f"/journeys/{event.citizen_id}")).json()["guide_id"] == "guide-cecilie"
    [assigned] = await svc.published("GuideAssigned")
    assert assigned.payload["citizen_id"] == str(event.citizen_id)


async def test_full_guides_leave_the_journey_waiting(journey_service):
    svc = journey_service
    await svc.client.post("/guides", json={"guide_id": "guide-full", "capacity": 1})
    one, two = referral(), referral()
    await svc.send(one)
    await svc.send(two)
    assert (await svc.client.get(f"/journeys/{two.citizen_id}")).json()["guide_id"] is None
    await svc.client.post("/guides", json={"guide_id": "guide-full", "capacity": 2})  # capacity raised
    assert (await svc.client.get(f"/journeys/{two.citizen_id}")).json()["guide_id"] == "guide-full"


async def test_referral_without_our_consent_opens_nothing(journey_service):
    svc = journey_service
    event = referral(consented_orgs=["red-cross"])
    await svc.send(event)
    assert (await svc.client.get(f"/journeys/{event.citizen_id}")).status_code == 404


async def test_repeat_referral_is_merged_into_the_open_journey(journey_service):
    svc = journey_service
    await svc.client.post("/guides", json={"guide_id": "guide-anna"})
    citizen = uuid.uuid4()
    await svc.send(referral(citizen))
    await svc.send(referral(citizen, repeat_referral=True, source="relative"))
    body = (await svc.client.get(f"/journeys/{citizen}")).json()
    assert body["referral_count"] == 2
    assert len(await svc.published("GuideAssigned")) == 1
    guides = (await svc.client.get("/guides")).json()
    assert guides[0]["open_journeys"] == 1


async def test_clarification_publishes_needs_clarified(journey_service):
    svc = journey_service
    await svc.client.post("/guides", json={"guide_id": "guide-anna"})
    event = referral(language="sv")
    await svc.send(event)
    reply = await svc.client.post(f"/journeys/{event.citizen_id}/clarification", json=CLARIFICATION)
    assert reply.status_code == 201, reply.text
    assert (await svc.client.get(f"/journeys/{event.citizen_id}")).json()["state"] == "clarified"

    swedish = referral(language="sv", postal_code="84331")
    await svc.send(swedish)
    await svc.client.post(f"/journeys/{swedish.citizen_id}/clarification", json={"interests": ["fika"]})

    by_citizen = {e.payload["citizen_id"]: e for e in await svc.published("NeedsClarified")}
    clarified, defaulted = by_citizen[str(event.citizen_id)], by_citizen[str(swedish.citizen_id)]
    assert (defaulted.payload["languages"], defaulted.payload["postal_code"]) == (["sv"], "84331")  # the referral's
    p = clarified.payload
    assert p["citizen_id"] == str(event.citizen_id)
    assert p["guide_id"] == "guide-anna"
    assert p["interests"] == ["baking_and_cooking", "walking"]  # "baking" is a word for the code
    assert p["postal_code"] == "6800"  # the referral's, since the clarification gave none
    assert p["languages"] == ["da"]  # as the guide recorded it
    assert p["wishes"] == ["friend", "activity"]
    assert p["barriers"] == ["transport"]
    assert p["availability"] == [{"day": "tue", "part": "morning"}]
    assert p["baseline"]["lack_companionship"] == 3 and p["baseline"]["total"] == 8


async def test_invalid_clarification_is_refused_naming_the_field_and_publishes_nothing(journey_service):
    svc = journey_service
    event = referral()
    await svc.send(event)
    cases = {
        "interests": {**CLARIFICATION, "interests": []},
        "interests.0": {**CLARIFICATION, "interests": ["curling"]},
        "baseline.left_out": {**CLARIFICATION, "baseline": {"lack_companionship": 1, "left_out": 4, "isolated": 1}},
        "baseline.isolated": {**CLARIFICATION, "baseline": {"lack_companionship": 1, "left_out": 1, "isolated": 0}},
    }
    for field, body in cases.items():
        reply = await svc.client.post(f"/journeys/{event.citizen_id}/clarification", json=body)
        assert reply.status_code == 422, field
        locations = [".".join(str(p) for p in e["loc"][1:]) for e in reply.json()["detail"]]
        assert field in locations, (field, locations)
    assert await svc.outbox("NeedsClarified") == []
    assert (await svc.client.get(f"/journeys/{event.citizen_id}")).json()["state"] == "referred"


async def test_illegal_step_answers_409_with_current_state(journey_service):
    svc = journey_service
    event = referral()
    await svc.send(event)
    reply = await svc.client.post(f"/journeys/{event.citizen_id}/first-visit", json={})
    assert reply.status_code == 409
    assert reply.json()["current_state"] == "referred"
    assert reply.json()["step"] == "first_visit"
    assert (await svc.client.post(f"/journeys/{uuid.uuid4()}/clarification", json=CLARIFICATION)).status_code == 404


async def test_referral_after_exit_opens_a_new_journey(journey_service):
    svc = journey_service
    citizen = uuid.uuid4()
    await svc.send(referral(citizen))
    first = (await svc.client.get(f"/journeys/{citizen}")).json()["journey_id"]
    await svc.client.post(f"/journeys/{citizen}/exit", json={"outcome": "declined"})
    await svc.send(referral(citizen, repeat_referral=True, received_at=datetime(2026, 9, 1, tzinfo=UTC)))
    again = (await svc.client.get(f"/journeys/{citizen}")).json()
    assert again["journey_id"] != first and again["state"] == "referred" and again["referral_count"] == 1
    assert (await svc.client.get("/reports/funnel")).json()["total"]["referred"] == 2


async def test_caseload_and_pending_timers_of_an_urgent_referral(journey_service):
    svc = journey_service
    await svc.client.post("/guides", json={"guide_id": "guide-anna", "capacity": 1})
    urgent, routine = referral(urgency="urgent"), referral()  # received Monday 2 March 09:00
    await svc.send(urgent)
    await svc.send(routine)
    body = (await svc.client.get(f"/journeys/{urgent.citizen_id}")).json()
    assert body["pending_timers"] == [
        {"kind": "first_contact", "due_at": "2026-03-03T09:00:00Z"},  # one working day
        {"kind": "ucla_after_start", "due_at": "2026-06-02T09:00:00Z"},  # the UCLA-3 asked again after 3 months
        {"kind": "exit_review", "due_at": "2026-11-02T09:00:00Z"},
    ]
    mine = (await svc.client.get("/journeys", params={"guide_id": "guide-anna"})).json()
    assert [j["citizen_id"] for j in mine] == [str(urgent.citizen_id)]
    assert len((await svc.client.get("/journeys", params={"state": "referred"})).json()) == 2


async def test_every_transition_is_an_event(journey_service):
    svc = journey_service
    await svc.client.post("/guides", json={"guide_id": "guide-anna", "capacity": 10})
    event = referral()
    await svc.send(event)
    response = await svc.client.post(f"/journeys/{event.citizen_id}/contacts", json={"kind": "home_visit"})
    assert response.status_code in (200, 201), response.text
    await svc.outbox_drained()
    changes = [e.payload for e in await svc.published("JourneyStateChanged") if e.payload["citizen_id"] == str(event.citizen_id)]
    assert [(c["step"], c["from_state"], c["to_state"]) for c in changes] == [
        ("open", "", "referred"), ("contact", "referred", "contacted"),
    ]
    logged = (await svc.client.get(f"/journeys/{event.citizen_id}")).json()
    assert len(logged["transitions"]) == len(changes)


async def test_clarification_understands_interest_words_in_three_languages(journey_service):
    """Issue 15 case 5: "gåtur" was refused with 422; words in Danish, Swedish or English, any case and
    with or without accents, become codes, and an unknown word's 422 lists the close matches."""
    svc = journey_service
    event = referral()
    await svc.send(event)
    body = {**CLARIFICATION, "interests": ["Gåtur", "kaffe", "promenad", "COFFEE"]}
    reply = await svc.client.post(f"/journeys/{event.citizen_id}/clarification", json=body)
    assert reply.status_code == 201, reply.text
    (clarified,) = await svc.published("NeedsClarified")
    assert clarified.payload["interests"] == ["walking", "coffee_and_conversation"]

    other = referral()
    await svc.send(other)
    reply = await svc.client.post(f"/journeys/{other.citizen_id}/clarification",
                                  json={**CLARIFICATION, "interests": ["gatur", "kafe"]})
    assert reply.status_code == 422
    (error,) = reply.json()["detail"]
    assert error["loc"][1:] == ["interests", 1]
    assert "'kafe'" in error["msg"] and "'kaffe'" in error["msg"] and "'cafe'" in error["msg"]
