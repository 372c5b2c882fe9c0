"""Who may call what (DESIGN.md section 9, issue 12): every route declares its roles; a guide reaches
their own caseload, a coordinator the citizens whose consent names their organisation; anyone else
gets 404 and the refusal is in the access log; consent changes hide, only erasure erases."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from brobygger_contracts.events.referral import ConsentChanged
from brobygger_runtime.auth import Role
from brobygger_runtime.auth.route_guard import route_policies
from journey.adapters.tables import punch_entries
from journey_testkit import ORG, OUTSIDER, PARTNER, referral

async def test_every_route_declares_its_roles(journey_service):
    policies = {(method, path): roles for method, path, roles in route_policies(journey_service.app)}
    assert ("GET", "/journeys/{citizen_id}") in policies and ("GET", "/reports/gaps") in policies
    assert [route for route, roles in policies.items() if roles is None] == []
    assert policies[("GET", "/journeys/{citizen_id}")] == {Role.guide, Role.coordinator}
    assert policies[("GET", "/reports/gaps")] == {Role.steering, Role.coordinator}
    assert policies[("POST", "/guides")] == {Role.coordinator}


async def _two_caseloads(svc) -> tuple[uuid.UUID, uuid.UUID]:  # noqa: ANN001
    """anne and karin (login subjects at varde-kommune) get one citizen each; returns (anne's, karin's)."""
    for guide in ("anne", "karin"):
        assert (await svc.client.post("/guides", json={"guide_id": guide, "capacity": 1})).status_code == 201
    first, second = referral(), referral()
    await svc.send(first)
    await svc.send(second)
    by_guide = {}
    for c in (first.citizen_id, second.citizen_id):
        by_guide[(await svc.client.get(f"/journeys/{c}")).json()["guide_id"]] = c
    return by_guide["anne"], by_guide["karin"]


async def test_a_guide_sees_and_acts_on_their_own_caseload_only(journey_service):
    svc = journey_service
    annes, karins = await _two_caseloads(svc)
    anne = svc.auth("guide", subject="anne")
    assert (await svc.client.get(f"/journeys/{annes}", auth=anne)).status_code == 200
    assert (await svc.client.get(f"/journeys/{karins}", auth=anne)).status_code == 404
    assert (await svc.client.post(f"/journeys/{karins}/contacts", json={"kind": "call"}, auth=anne)).status_code == 404
    assert (await svc.client.post(f"/journeys/{annes}/contacts", json={"kind": "call"}, auth=anne)).status_code == 201
    listed = (await svc.client.get("/journeys", auth=anne)).json()
    assert [j["citizen_id"] for j in listed] == [str(annes)]
    assert (await svc.client.get("/journeys", params={"guide_id": "karin"}, auth=anne)).json() == []
    # the same subject at another organisation's issuer is someone else
    partner_anne = svc.auth("guide", org=PARTNER, subject="anne")
    assert (await svc.client.get(f"/journeys/{annes}", auth=partner_anne)).status_code == 404
    assert (await svc.client.get("/journeys", auth=partner_anne)).json() == []
    # the coordinator sees both, a page at a time
    assert len((await svc.client.get("/journeys")).json()) == 2
    assert len((await svc.client.get("/journeys", params={"limit": 1})).json()) == 1
    assert (await svc.client.get("/journeys", params={"limit": 501})).status_code == 422


async def test_a_partner_inside_consent_sees_the_journey_one_outside_gets_404_and_is_logged(journey_service):
    svc = journey_service
    event = referral()  # consent: varde-kommune and red-cross
    c = event.citizen_id
    await svc.send(event)
    await svc.client.post(f"/journeys/{c}/clarification", json={"interests": ["walking"], "barriers": ["transport"]})
    inside, outside = svc.auth("coordinator", org=PARTNER, subject="rk-coord"), svc.auth("coordinator", org=OUTSIDER, subject="abf-coord")

    seen = await svc.client.get(f"/journeys/{c}", auth=inside)
    assert seen.status_code == 200 and seen.json()["clarification"]["barriers"] == ["transport"]
    assert [j["citizen_id"] for j in (await svc.client.get("/journeys", auth=inside)).json()] == [str(c)]
    refused = await svc.client.get(f"/journeys/{c}", auth=outside)
    assert refused.status_code == 404 and refused.json() == (await svc.client.get(f"/journeys/{uuid.uuid4()}", auth=outside)).json() | {
        "detail": f"no journey for citizen {c}"}
    assert (await svc.client.post(f"/journeys/{c}/contacts", json={}, auth=outside)).status_code == 404
    assert (await svc.client.get("/journeys", auth=outside)).json() == []

    log = (await svc.client.get(f"/citizens/{c}/access-log")).json()["entries"]
    who = [(e["organisation"], e["allowed"], e["purpose"]) for e in log]
    assert (PARTNER, True, "journey view") in who
    assert (OUTSIDER, False, "journey view") in who and (OUTSIDER, False, "contacts") in who
    [read] = [e for e in log if e["organisation"] == PARTNER]
    assert {"barriers", "loneliness"} <= set(read["fields"]) and read["caller"] == "rk-coord"
    # the partner's coordinator reads, but the access log and the registries are the owning organisation's
    assert (await svc.client.get(f"/citizens/{c}/access-log", auth=inside)).status_code == 403
    assert (await svc.client.get("/guides", auth=inside)).status_code == 403


@pytest.mark.parametrize("role", ["volunteer", "operator", "referrer", "service"])
async def test_roles_without_a_person_in_journey_are_refused_403(journey_service, role):
    svc = journey_service
    event = referral()
    await svc.send(event)
    auth = svc.auth(role)
    calls = [
        ("GET", f"/journeys/{event.citizen_id}", None), ("GET", "/journeys", None),
        ("POST", f"/journeys/{event.citizen_id}/contacts", {}), ("GET", "/guides", None),
        ("POST", "/guides", {"guide_id": "anne"}), ("GET", "/reports/funnel", None), ("GET", "/reports/gaps", None),
    ]
    for method, url, body in calls:
        answer = await svc.client.request(method, url, json=body, auth=auth)
        assert answer.status_code == 403, (role, method, url, answer.text)
        assert answer.json()["detail"]["error"] == "insufficient_role"


async def test_steering_gets_aggregates_and_never_a_person(journey_service):
    svc = journey_service
    event = referral()
    await svc.send(event)
    steering = svc.auth("steering")
    assert (await svc.client.get(f"/journeys/{event.citizen_id}", auth=steering)).status_code == 403
    assert (await svc.client.get("/reports/waiting-now", auth=steering)).status_code == 403
    funnel = (await svc.client.get("/reports/funnel", auth=steering)).json()
    assert funnel["total"]["referred"] is None  # one citizen: suppressed
    assert (await svc.client.get("/reports", auth=steering)).json()["waiting_beyond_limits"] == []
    assert (await svc.client.get("/reports/funnel")).json()["total"]["referred"] == 1  # the owner's coordinator


async def test_no_token_is_401(journey_service):
    svc = journey_service
    async with svc.anonymous() as anonymous:
        for url in (f"/journeys/{uuid.uuid4()}", "/journeys", "/guides", "/reports/gaps", "/groups/" + str(uuid.uuid4())):
            answer = await anonymous.get(url)
            assert answer.status_code == 401 and answer.headers["www-authenticate"].startswith("Bearer"), url
        assert (await anonymous.get("/health/live")).status_code == 200


async def test_consent_dropping_a_partner_does_not_erase(journey_service):
    svc = journey_service
    event = referral()
    c = event.citizen_id
    await svc.send(event)
    partner = svc.auth("coordinator", org=PARTNER)
    assert (await svc.client.get(f"/journeys/{c}", auth=partner)).status_code == 200
    await svc.send(ConsentChanged(citizen_id=c, consented_orgs=[ORG], removed=[PARTNER], changed_at=svc.clock()))
    assert (await svc.client.get(f"/journeys/{c}", auth=partner)).status_code == 404
    kept = await svc.client.get(f"/journeys/{c}")
    assert kept.status_code == 200 and kept.json()["citizen_id"] == str(c)  # the owning organisation keeps it


async def test_a_group_is_the_owning_coordinators_and_its_facilitating_guides(journey_service):
    svc = journey_service
    reply = await svc.client.post("/groups", json={
        "facilitator_id": "karin", "interest": "senior_swimming", "postal_code": "7500", "member_citizen_ids": [str(uuid.uuid4())],
    })
    assert reply.status_code == 201
    gid = reply.json()["group_id"]
    karin, anne = svc.auth("guide", subject="karin"), svc.auth("guide", subject="anne")
    assert (await svc.client.get(f"/groups/{gid}", auth=karin)).status_code == 200
    assert (await svc.client.get(f"/groups/{gid}", auth=anne)).status_code == 404
    assert (await svc.client.get(f"/groups/{gid}", auth=svc.auth("coordinator", org=PARTNER))).status_code == 404
    assert (await svc.client.post("/groups", json={"facilitator_id": "x", "interest": "walking", "postal_code": "7500"},
                                  auth=karin)).status_code == 403
    assert (await svc.client.post("/groups", json={"facilitator_id": "x", "interest": "walking", "postal_code": "7500"},
                                  auth=svc.auth("coordinator", org=PARTNER))).status_code == 403
    assert (await svc.client.post(f"/groups/{gid}/self-running", auth=karin)).json()["state"] == "self_running"


async def test_who_acted_is_the_verified_caller(journey_service):
    svc = journey_service
    event = referral()
    await svc.send(event)
    c = event.citizen_id
    await svc.client.post(f"/journeys/{c}/punch-card/grants", json={"hours": 2})
    await svc.client.post(f"/journeys/{c}/punch-card/extensions", json={"hours": 1, "coordinator_id": "someone-else"})
    assert (await svc.client.post(f"/journeys/{c}/punch-card/extensions", json={"hours": 1},
                                  auth=svc.auth("guide", subject="anne"))).status_code == 403
    async with svc.runtime.db.sessions() as s:
        who = (await s.execute(sa.select(punch_entries.c.kind, punch_entries.c.by).order_by(punch_entries.c.id))).all()
    assert [w.by for w in who] == ["eva", "eva"]  # the test kit's default caller: varde-kommune's coordinator "eva"
