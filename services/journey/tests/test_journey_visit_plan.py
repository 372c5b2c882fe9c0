"""Booking the first visit: only after an accepted match, in the future, replaced by a new booking."""

from __future__ import annotations

from datetime import timedelta

from journey_testkit import accept_match, referral


async def _accepted(svc):  # noqa: ANN001, ANN202
    event = referral()
    await svc.send(event)
    c = event.citizen_id
    await svc.client.post(f"/journeys/{c}/clarification", json={"interests": ["walking"], "wishes": ["activity"]})
    proposal = await accept_match(svc, c, kind="activity")
    return c, proposal


async def test_planning_the_first_visit_publishes_it_and_keeps_the_state(journey_service):
    svc = journey_service
    c, proposal = await _accepted(svc)
    visit_at = (svc.clock() + timedelta(days=3)).replace(microsecond=0)
    response = await svc.client.post(f"/journeys/{c}/first-visit/plan", json={
        "visit_at": visit_at.isoformat(), "proposal_id": str(proposal.proposal_id),
        "companion": "volunteer", "companion_id": "vol-12",
    })
    assert response.status_code == 201, response.text
    body = (await svc.client.get(f"/journeys/{c}")).json()
    assert body["state"] == "match_accepted"
    assert body["first_visit_planned_for"].startswith(visit_at.strftime("%Y-%m-%dT%H:%M:%S"))
    assert body["transitions"][-1]["step"] == "plan_visit"

    await svc.outbox_drained()
    [planned] = [e for e in await svc.published("FirstVisitPlanned") if e.payload["citizen_id"] == str(c)]
    assert planned.payload["companion"] == "volunteer"
    assert planned.payload["companion_id"] == "vol-12"
    assert planned.payload["proposal_id"] == str(proposal.proposal_id)


async def test_a_new_booking_replaces_the_old_and_keeps_its_offset_in_utc(journey_service):
    svc = journey_service
    c, _ = await _accepted(svc)
    first = svc.clock() + timedelta(days=2)
    await svc.client.post(f"/journeys/{c}/first-visit/plan", json={"visit_at": first.isoformat()})
    later = (svc.clock() + timedelta(days=5)).replace(microsecond=0, hour=10, minute=0)
    response = await svc.client.post(f"/journeys/{c}/first-visit/plan", json={"visit_at": later.strftime("%Y-%m-%dT%H:%M:%S+01:00")})
    assert response.status_code == 201, response.text
    planned_for = (await svc.client.get(f"/journeys/{c}")).json()["first_visit_planned_for"]
    assert planned_for.startswith(later.strftime("%Y-%m-%dT09:00:00"))  # 10:00 at +01:00 is 09:00 UTC


async def test_planning_is_refused_before_a_match_is_accepted(journey_service):
    svc = journey_service
    event = referral()
    await svc.send(event)
    response = await svc.client.post(f"/journeys/{event.citizen_id}/first-visit/plan",
                                     json={"visit_at": (svc.clock() + timedelta(days=1)).isoformat()})
    assert response.status_code == 409
    assert response.json()["current_state"] == "referred"
    assert response.json()["step"] == "plan_visit"


async def test_a_visit_in_the_past_or_without_offset_is_refused_naming_the_field(journey_service):
    svc = journey_service
    c, _ = await _accepted(svc)
    past = await svc.client.post(f"/journeys/{c}/first-visit/plan", json={"visit_at": (svc.clock() - timedelta(hours=1)).isoformat()})
    assert past.status_code == 422
    assert past.json()["field"] == "visit_at"
    naive = await svc.client.post(f"/journeys/{c}/first-visit/plan", json={"visit_at": "2030-01-01T10:00:00"})
    assert naive.status_code == 422
    assert "offset" in naive.json()["detail"]
    assert (await svc.client.get(f"/journeys/{c}")).json()["first_visit_planned_for"] is None
