"""Who may call matching (DESIGN.md section 9): tokens on every route, the instance's own registries,
consent on every citizen, the access log, paging, the import's size limit and suppressed gap cells."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx

from brobygger_contracts.events.journey import GuideAssigned
from brobygger_runtime.auth.route_guard import route_policies
from brobygger_runtime.auth.throttle import FailureThrottle
from matching.testing import (
    ORG, activity, anonymous, clarification, eventually, matching_instance, proposals_of, publish, referral, tokens,
    volunteer,
)


async def test_every_route_declares_its_roles_and_answers_401_without_a_token(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        # More routes than the 20 failed authentications a minute one address may make before 429.
        runtime.authenticator.throttle = FailureThrottle(limit=100)
        policies = route_policies(api._transport.app)
        assert len(policies) == 35  # matching's 15, the volunteer lifecycle's 11, friendships' 7, the runtime's access log and personal data
        async with anonymous(api) as nobody:
            for number, (method, path, roles) in enumerate(policies):
                assert roles is not None, f"{method} {path} declares no requires(...)"
                assert roles, f"{method} {path} admits every role"
                for name in ("{citizen_id}", "{volunteer_id}", "{proposal_id}", "{friendship_id}"):
                    path = path.replace(name, str(uuid.uuid4()))
                # one address per route: more than 20 failures from one address are answered 429 (the throttle)
                transport = httpx.ASGITransport(app=api._transport.app, client=(f"192.0.2.{number + 1}", 50000))
                async with httpx.AsyncClient(transport=transport, base_url=api.base_url) as caller:
                    answer = await caller.request(method, path)
                assert answer.status_code == 401, f"{method} {path}: {answer.status_code} {answer.text}"
                assert answer.json()["detail"]["error"] == "missing_token"
            assert (await nobody.get("/health/live")).status_code == 200


async def test_only_the_own_coordinators_see_and_retire_volunteers(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url, org="varde-kommune") as (_runtime, api):
        mine = await api.post("/volunteers", json=volunteer(latitude=55.62, longitude=8.48))
        assert mine.status_code == 201, mine.text
        volunteer_id = mine.json()["volunteer_id"]
        red_cross = tokens().auth("coordinator", org="red-cross")
        for refused in (await api.get("/volunteers", auth=red_cross),
                        await api.post(f"/volunteers/{volunteer_id}/retire", json={"reason": "health"}, auth=red_cross),
                        await api.post("/volunteers", json=volunteer(), auth=red_cross),
                        await api.post("/assignments/run", auth=red_cross),
                        await api.post("/activities", json=activity(), auth=red_cross)):
            assert refused.status_code == 403, refused.text
            assert refused.json()["detail"]["error"] == "not_this_organisation"
        for role in ("guide", "volunteer", "steering", "operator", "referrer", "service"):
            assert (await api.get("/volunteers", auth=tokens().auth(role, org="varde-kommune"))).status_code == 403, role
        listed = (await api.get("/volunteers")).json()
        assert [v["volunteer_id"] for v in listed] == [volunteer_id] and listed[0]["active"]
        assert "latitude" not in listed[0] and "longitude" not in listed[0]  # never the exact home
        assert listed[0]["postal_code"] == "6800"
        # Activities are public offers: any partnership organisation's guides and coordinators may read them.
        assert (await api.get("/activities", auth=tokens().auth("guide", org="abf"))).status_code == 200
        assert (await api.get("/activities", auth=tokens().auth("volunteer", org="varde-kommune"))).status_code == 403
        assert (await api.get("/interests", auth=tokens().auth("volunteer", org="abf"))).status_code == 200
        assert (await api.get("/interests", auth=tokens().auth("operator"))).status_code == 403
        log = (await api.get(f"/citizens/{volunteer_id}/access-log")).json()["entries"]
        assert any(e["organisation"] == "varde-kommune" and e["allowed"] and "retired_reason" in e["fields"] for e in log)


async def test_a_citizen_outside_the_callers_consent_is_404_and_the_refusal_is_logged(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        await api.post("/volunteers", json=volunteer(capacity=2))
        citizen = uuid.uuid4()
        await publish(kafka_bootstrap, runtime.settings.partnership_id,
                      referral(citizen, ["varde-kommune", ORG]), clarification(citizen, wishes=["friend"]),
                      GuideAssigned(journey_id=uuid.uuid4(), citizen_id=citizen, guide_id="anne", guide_org="varde-kommune",
                                    assigned_at=datetime.now(UTC)))
        anne = tokens().auth("guide", org="varde-kommune", subject="anne")

        async def proposed_in_annes_caseload() -> bool:
            return len(await proposals_of(api, citizen, auth=anne)) == 1

        await eventually(proposed_in_annes_caseload)
        proposal_id = (await proposals_of(api, citizen))[0]["proposal_id"]

        # Inside consent: the municipality's coordinator, and the guide journey assigned, work with the citizen.
        assert (await api.get(f"/citizens/{citizen}/candidates", auth=anne)).status_code == 200
        assert [p["proposal_id"] for p in (await api.get("/proposals", auth=anne)).json()] == [proposal_id]
        varde = tokens().auth("coordinator", org="varde-kommune")
        assert (await api.get(f"/citizens/{citizen}/candidates", auth=varde)).status_code == 200
        # Another guide of the same organisation: not their caseload, so not theirs to see.
        for guide in (tokens().auth("guide", org="varde-kommune", subject="bob"), tokens().auth("guide", org=ORG)):
            assert (await api.get(f"/citizens/{citizen}/candidates", auth=guide)).json()["detail"]["error"] == "not_found"
            assert await proposals_of(api, citizen, auth=guide) == []
            assert (await api.get("/proposals", auth=guide)).json() == []

        # Outside consent: the study association learns nothing, not even that the citizen exists.
        for role in ("coordinator", "guide"):
            abf = tokens().auth(role, org="abf")
            stranger = uuid.uuid4()
            unknown = await api.get(f"/citizens/{stranger}/candidates", auth=abf)
            assert unknown.status_code == 404
            assert unknown.json()["detail"] == {"error": "not_found", "reason": f"no citizen {stranger} you may see"}
            for answer in (await api.get(f"/citizens/{citizen}/candidates", auth=abf),
                           await api.put(f"/citizens/{citizen}/preferences", json={"non_smoker": True}, auth=abf)):
                assert answer.status_code == 404, answer.text  # the same answer as for a citizen nobody knows
                assert answer.json()["detail"] == {"error": "not_found", "reason": f"no citizen {citizen} you may see"}
            for decision in ("accept", "decline"):
                refused = await api.post(f"/proposals/{proposal_id}/{decision}", auth=abf)
                assert refused.status_code == 404
                assert refused.json()["detail"] == {"error": "not_found", "reason": f"no proposal {proposal_id}"}
            # A list never shows them either: the same empty answer as for a citizen without proposals.
            assert (await api.get("/proposals", auth=abf)).json() == []
            assert await proposals_of(api, citizen, auth=abf) == await proposals_of(api, stranger, auth=abf) == []
        assert (await proposals_of(api, citizen))[0]["status"] == "proposed"  # nothing changed

        # Steering and volunteers never see a person.
        for role in ("steering", "volunteer", "operator"):
            assert (await api.get(f"/citizens/{citizen}/candidates", auth=tokens().auth(role, org=ORG))).status_code == 403

        log = (await api.get(f"/citizens/{citizen}/access-log", params={"limit": 500})).json()["entries"]
        assert any(not e["allowed"] and e["caller"] == "bob" and e["organisation"] == "varde-kommune" for e in log)
        refusals = [e for e in log if not e["allowed"] and e["organisation"] == "abf"]
        assert {tuple(e["roles"]) for e in refusals} == {("coordinator",), ("guide",)}
        assert any("candidates" in e["purpose"] for e in refusals)
        assert any("preferences" in e["purpose"] for e in refusals)
        assert any("accept" in e["purpose"] for e in refusals)
        assert any(e["purpose"] == "refused: proposals" for e in refusals)
        assert any(e["organisation"] == "varde-kommune" and e["caller"] == "anne" and e["allowed"]
                   and "needs" in e["fields"] for e in log)
        # The log is the data owner's: another organisation's coordinator may not read it.
        assert (await api.get(f"/citizens/{citizen}/access-log", auth=tokens().auth("coordinator", org="abf"))).status_code == 403


async def test_an_oversize_import_is_refused_before_it_is_read_whole(kafka_bootstrap, database_url):
    limit = 4096
    async with matching_instance(kafka_bootstrap, database_url, import_max_bytes=limit,
                                 http_max_body_bytes=65_536) as (_runtime, api):
        sent: list[int] = []

        async def body(chunks: int = 100):  # noqa: ANN202
            yield b"name;interests;postal_code\n"
            for _ in range(chunks):
                sent.append(1)
                yield b"Strik og snak;strikning;6800\n" * 40  # ~1.2 kB a chunk

        headers = {"content-type": "text/csv"}
        declared = await api.post("/activities/import", content=body(),
                                  headers=headers | {"content-length": str(2 * limit)})
        assert declared.status_code == 413, declared.text
        assert declared.json()["detail"]["error"] == "body_too_large" and str(limit) in declared.json()["detail"]["reason"]
        assert sent == []  # refused by its Content-Length: not a byte read

        streamed = await api.post("/activities/import", content=body(), headers=headers)
        assert streamed.status_code == 413, streamed.text
        assert 0 < len(sent) <= 5  # stopped as the limit was passed, long before the 100th chunk

        whole = await api.post("/activities/import", content=b"x" * (limit + 1), headers=headers)
        assert whole.status_code == 413
        assert (await api.get("/activities")).json() == []
        small = await api.post("/activities/import", content=b"name;interests;postal_code\nStrik;strikning;6800\n",
                               headers=headers)
        assert small.status_code == 200 and small.json()["imported"] == 1
        # Every other body is under the runtime's cap (HTTP_MAX_BODY_BYTES), checked before FastAPI reads the JSON.
        big = volunteer(interests=["bagning"] * 20_000)
        assert (await api.post("/volunteers", json=big)).status_code == 413

        async def chunks():  # noqa: ANN202
            yield b'{"interests": ['
            for _ in range(10_000):
                yield b'"bagning", ' * 10
        streamed_json = await api.post("/volunteers", content=chunks(), headers={"content-type": "application/json"})
        assert streamed_json.status_code == 413 and streamed_json.json()["detail"]["error"] == "body_too_large"
        assert (await api.get("/volunteers")).json() == []
        abf = await api.post("/activities/import", content=b"name;interests;postal_code\n", headers=headers,
                             auth=tokens().auth("coordinator", org="abf"))
        assert abf.status_code == 403


async def test_gap_cells_under_five_citizens_are_suppressed_whatever_is_asked(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        events = []
        for postal_code, count in (("6800", 5), ("6851", 2)):
            for _ in range(count):
                citizen = uuid.uuid4()
                events += [referral(citizen, [ORG], postal_code),
                           clarification(citizen, postal_code=postal_code, wishes=["group"], interests=["walking"])]
        await publish(kafka_bootstrap, runtime.settings.partnership_id, *events)

        async def all_waiting() -> bool:
            answer = (await api.get("/gaps")).json()
            return answer["gaps"] != [] and answer["suppressed_cells"] == 1

        await eventually(all_waiting)
        five = {"interest": "walking", "postal_code": "6800", "waiting_citizens": 5}
        for asked in (None, 1, 4, 5):
            params = {} if asked is None else {"min_citizens": asked}
            assert (await api.get("/gaps", params=params)).json() == {"min_citizens": 5, "suppressed_cells": 1, "gaps": [five]}
        assert (await api.get("/gaps", params={"min_citizens": 6})).json() == {
            "min_citizens": 6, "suppressed_cells": 2, "gaps": []}
        assert (await api.get("/gaps", params={"min_citizens": 0})).status_code == 422
        # Steering of any partnership organisation reads aggregates; guides and other organisations' coordinators do not.
        assert (await api.get("/gaps", auth=tokens().auth("steering", org="varde-kommune"))).json()["gaps"] == [five]
        assert (await api.get("/gaps", auth=tokens().auth("guide", org=ORG))).status_code == 403
        assert (await api.get("/gaps", auth=tokens().auth("coordinator", org="abf"))).status_code == 403


async def test_volunteers_and_proposals_come_a_page_at_a_time(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        registered = [(await api.post("/volunteers", json=volunteer(capacity=2))).json()["volunteer_id"] for _ in range(5)]
        first = await api.get("/volunteers", params={"limit": 2})
        assert [v["volunteer_id"] for v in first.json()] == registered[:2] and first.headers["x-next-offset"] == "2"
        second = await api.get("/volunteers", params={"limit": 2, "offset": first.headers["x-next-offset"]})
        assert [v["volunteer_id"] for v in second.json()] == registered[2:4] and second.headers["x-next-offset"] == "4"
        last = await api.get("/volunteers", params={"limit": 2, "offset": 4})
        assert [v["volunteer_id"] for v in last.json()] == registered[4:] and "x-next-offset" not in last.headers
        assert len((await api.get("/volunteers")).json()) == 5  # default 50
        for bad in ({"limit": 501}, {"limit": 0}, {"offset": -1}):
            assert (await api.get("/volunteers", params=bad)).status_code == 422

        waiting = [uuid.uuid4() for _ in range(3)]
        events = []
        for citizen in waiting:
            events += [referral(citizen, [ORG]), clarification(citizen, wishes=["friend"])]
        await publish(kafka_bootstrap, runtime.settings.partnership_id, *events)

        async def three() -> bool:
            return len((await api.get("/proposals")).json()) == 3

        await eventually(three)
        everything = (await api.get("/proposals")).json()
        page = await api.get("/proposals", params={"limit": 2})
        rest = await api.get("/proposals", params={"limit": 2, "offset": page.headers["x-next-offset"]})
        assert page.json() + rest.json() == everything and "x-next-offset" not in rest.headers
        assert (await api.get("/proposals", params={"limit": 1000})).status_code == 422
