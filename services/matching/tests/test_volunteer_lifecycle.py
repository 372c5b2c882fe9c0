"""The volunteer lifecycle on a running instance (real broker and PostgreSQL): only approved, vetted, signed,
trained and unpaused volunteers are proposed; renewing a vetting or resuming brings a volunteer back; who may
record and read what; the coordinator's report; a phone friend far away."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx

from brobygger_contracts.events.matching import VolunteerRegistered
from matching.testing import (
    ORG, clarification, eventually, matching_instance, of_type, proposals_of, publish, read_events, referral, tokens,
    volunteer,
)

TODAY = datetime.now(UTC).date()
DAY = TODAY.isoformat()
BOTH = ["bagning", "gåtur"]


def profile(**overrides) -> dict:  # noqa: ANN003
    """An application's body: the profile a volunteer offers, no steps."""
    body = {k: v for k, v in volunteer(capacity=1).items() if k not in ("trained", "vetting", "confidentiality_signed_on")}
    return body | overrides


async def ok(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


async def through_every_step(api: httpx.AsyncClient, volunteer_id: str, *, vetting: dict | None = None,
                             skip: str = "") -> dict:
    """Interview, vetting, confidentiality and training, as a coordinator; `skip` leaves one out."""
    answer = await ok(await api.post(f"/volunteers/{volunteer_id}/interview", json={"held_on": DAY, "outcome": "approved"}))
    if skip != "vetting":
        answer = await ok(await api.post(f"/volunteers/{volunteer_id}/vetting",
                                         json=vetting or {"kind": "criminal_record_extract", "seen_on": DAY}))
    answer = await ok(await api.post(f"/volunteers/{volunteer_id}/confidentiality", json={"signed_on": DAY}))
    return await ok(await api.post(f"/volunteers/{volunteer_id}/training",
                                   json={"course": "friend_basics", "completed_on": DAY}))


async def test_only_ready_volunteers_are_proposed_and_renewal_or_resuming_brings_them_back(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        partnership = runtime.settings.partnership_id
        vera = tokens().auth("volunteer", org=ORG, subject="vera")

        # Vera applies herself; until every step is done she is proposed to nobody.
        applied = await ok(await api.post("/volunteers/applications", json=profile(interests=["bagning"]), auth=vera), 201)
        vera_id = applied["volunteer_id"]
        assert applied["status"] == "applied" and applied["account"] == "vera" and applied["trained"] is False
        mine = await ok(await api.get("/volunteers/me", auth=vera))
        assert mine["volunteer_id"] == vera_id and mine["status"] == "applied"
        assert mine["blockers"]["volunteer_friend"] == [
            "interview_missing", "vetting_missing", "confidentiality_missing", "training_missing"]
        assert mine["steps"][0]["step"] == "applied" and mine["steps"][0]["recorded_by"] == "vera"
        done = await through_every_step(api, vera_id)
        assert done["status"] == "ready" and done["ready_roles"] == ["volunteer_friend"], done

        # Three who share more with the citizen than Vera does, each missing one thing.
        blocked = {}
        for name in ("unvetted", "expired", "paused"):
            blocked[name] = (await ok(await api.post("/volunteers/applications", json=profile(interests=BOTH)), 201))[
                "volunteer_id"]
        await through_every_step(api, blocked["unvetted"], skip="vetting")
        expired = await through_every_step(api, blocked["expired"], vetting={
            "kind": "belastningsregister", "seen_on": "2023-01-02", "expires_on": "2025-01-02"})
        assert expired["blockers"]["volunteer_friend"] == ["vetting_expired"], expired
        await through_every_step(api, blocked["paused"])
        paused = await ok(await api.post(f"/volunteers/{blocked['paused']}/pause",
                                         json={"from": DAY, "reason": "holiday"}))
        assert paused["status"] == "paused"

        first = uuid.uuid4()
        await publish(kafka_bootstrap, partnership, referral(first, [ORG]), clarification(first, wishes=["friend"]))
        await eventually(lambda: _proposed(api, first))
        assert [p["candidate_id"] for p in await proposals_of(api, first)] == [vera_id]
        judged = (await ok(await api.get(f"/citizens/{first}/candidates")))["candidates"]
        why = {c["candidate_id"]: c["excluded_because"].get("not_ready", "") for c in judged}
        assert "vetting_missing" in why[blocked["unvetted"]]
        assert "vetting_expired" in why[blocked["expired"]]
        assert "paused" in why[blocked["paused"]]
        assert all(not c["eligible"] for c in judged if c["candidate_id"] in blocked.values())

        # Vetted, renewed, resumed: all three are proposed to the next citizens.
        await ok(await api.post(f"/volunteers/{blocked['unvetted']}/vetting",
                                json={"kind": "criminal_record_extract", "seen_on": DAY}))
        renewed = await ok(await api.post(f"/volunteers/{blocked['expired']}/vetting",
                                          json={"kind": "belastningsregister", "seen_on": DAY}))
        assert renewed["status"] == "ready"
        resumed = await ok(await api.post(f"/volunteers/{blocked['paused']}/resume"))
        assert resumed["status"] == "ready" and resumed["resumed"] is True
        later = [uuid.uuid4() for _ in range(3)]
        await publish(kafka_bootstrap, partnership, *[e for c in later for e in (
            referral(c, [ORG]), clarification(c, wishes=["friend"]))])

        async def all_proposed() -> bool:
            return all([await _proposed(api, c) for c in later])

        await eventually(all_proposed)
        assert {(await proposals_of(api, c))[0]["candidate_id"] for c in later} == set(blocked.values())

        record = await ok(await api.get(f"/volunteers/{blocked['expired']}"))
        assert record["vetting"]["seen_on"] == DAY and record["vetting"]["valid"] is True
        assert record["vetting"]["expires_on"] == TODAY.replace(year=TODAY.year + 2).isoformat()  # 24 months
        assert [s["step"] for s in record["steps"]] == [
            "applied", "interview", "vetting", "confidentiality", "training", "vetting"]
        events = await read_events(kafka_bootstrap, partnership, want=4 + 4 + 4, settle=1)
        announced = [e for e in of_type(events, VolunteerRegistered) if str(e.volunteer_id) == vera_id]
        assert [e.trained for e in announced] == [False, True]  # applied; trained for her role


async def _proposed(api: httpx.AsyncClient, citizen: uuid.UUID) -> bool:
    return bool(await proposals_of(api, citizen))


async def test_who_may_record_and_read_a_volunteer(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (_runtime, api):
        vera, olga = (tokens().auth("volunteer", org=ORG, subject=s) for s in ("vera", "olga"))
        vera_id = (await ok(await api.post("/volunteers/applications", json=profile(), auth=vera), 201))["volunteer_id"]
        await ok(await api.post("/volunteers/applications", json=profile(), auth=olga), 201)
        again = await api.post("/volunteers/applications", json=profile(), auth=vera)
        assert again.status_code == 409 and "already belongs" in again.text
        other_account = await api.post("/volunteers/applications", json=profile(account="olga"), auth=vera)
        assert other_account.status_code == 403
        for_someone = await ok(await api.post("/volunteers/applications", json=profile(account="pia")), 201)
        assert for_someone["account"] == "pia"  # a coordinator applies on a volunteer's behalf

        # Another volunteer of the organisation: as if Vera did not exist; other organisations: 403.
        assert (await api.get(f"/volunteers/{vera_id}", auth=olga)).status_code == 404
        assert (await api.post(f"/volunteers/{vera_id}/pause", json={"from": DAY}, auth=olga)).status_code == 404
        abf_coordinator = tokens().auth("coordinator", org="abf")
        abf_volunteer = tokens().auth("volunteer", org="abf", subject="vera")
        for auth in (abf_coordinator, abf_volunteer):
            assert (await api.get(f"/volunteers/{vera_id}", auth=auth)).status_code == 403
            assert (await api.post(f"/volunteers/{vera_id}/pause", json={"from": DAY}, auth=auth)).status_code == 403
        assert (await api.post(f"/volunteers/{vera_id}/vetting", json={"kind": "belastningsregister", "seen_on": DAY},
                               auth=abf_coordinator)).status_code == 403
        # A volunteer records no step of their own vetting, interview or training.
        for step, body in (("interview", {"held_on": DAY, "outcome": "approved"}),
                           ("vetting", {"kind": "belastningsregister", "seen_on": DAY}),
                           ("training", {"course": "friend_basics", "completed_on": DAY})):
            assert (await api.post(f"/volunteers/{vera_id}/{step}", json=body, auth=vera)).status_code == 403
        assert (await api.get("/volunteers/report", auth=vera)).status_code == 403
        for role in ("guide", "referrer", "operator"):
            assert (await api.get(f"/volunteers/{vera_id}", auth=tokens().auth(role, org=ORG))).status_code == 403

        # Vera pauses and resumes herself; her record shows who recorded each step.
        paused = await ok(await api.post(f"/volunteers/{vera_id}/pause", json={"from": DAY, "reason": "illness"}, auth=vera))
        assert paused["status"] == "paused"
        await ok(await api.post(f"/volunteers/{vera_id}/resume", auth=vera))
        steps = (await ok(await api.get(f"/volunteers/{vera_id}", auth=vera)))["steps"]
        assert [(s["step"], s["recorded_by"]) for s in steps] == [("applied", "vera"), ("pause", "vera"), ("resume", "vera")]

        # Bad input: 422 with the reason; unknown volunteers 404.
        tomorrow = (TODAY + timedelta(days=1)).isoformat()
        future = await api.post(f"/volunteers/{vera_id}/vetting", json={"kind": "belastningsregister", "seen_on": tomorrow})
        assert future.status_code == 422 and "in the future" in future.text
        backwards = await api.post(f"/volunteers/{vera_id}/vetting", json={
            "kind": "belastningsregister", "seen_on": DAY, "expires_on": "2020-01-01"})
        assert backwards.status_code == 422 and "expires_on must come after seen_on" in backwards.text
        assert (await api.post(f"/volunteers/{vera_id}/vetting", json={"kind": "passport", "seen_on": DAY})).status_code == 422
        assert (await api.post(f"/volunteers/{vera_id}/pause", json={"from": DAY, "until": "2020-01-01"})).status_code == 422
        assert (await api.post(f"/volunteers/{vera_id}/training", json={"course": "Friend Basics!", "completed_on": DAY})
                ).status_code == 422
        assert (await api.post(f"/volunteers/{uuid.uuid4()}/interview",
                               json={"held_on": DAY, "outcome": "approved"})).status_code == 404
        unknown = await api.post("/volunteers/supervision-sessions", json={
            "held_on": DAY, "kind": "group", "attendees": [vera_id, str(uuid.uuid4())]})
        assert unknown.status_code == 404
        assert (await api.get("/volunteers/me", auth=tokens().auth("volunteer", org=ORG, subject="nobody"))).status_code == 404

        # Retiring is the last step of the log, with who did it; her record then says retired.
        await ok(await api.post(f"/volunteers/{vera_id}/retire", json={"reason": "no_time"}))
        record = await ok(await api.get(f"/volunteers/{vera_id}", auth=vera))
        assert record["status"] == "retired" and (record["steps"][-1]["step"], record["steps"][-1]["code"]) == (
            "retired", "no_time")
        assert record["steps"][-1]["recorded_by"] not in ("vera", None)  # the coordinator's sub


async def test_the_coordinators_report(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url, supervision_max_days=30) as (runtime, api):
        soon = (TODAY - timedelta(days=24 * 30 - 10))  # seen nearly two years ago: expires within 30 days
        long_ago = (TODAY - timedelta(days=60)).isoformat()
        ready, expiring_soon, _applied = [
            (await ok(await api.post("/volunteers/applications", json=profile()), 201))["volunteer_id"] for _ in range(3)]
        for volunteer_id in (ready, expiring_soon):
            await ok(await api.post(f"/volunteers/{volunteer_id}/interview", json={"held_on": long_ago, "outcome": "approved"}))
            await ok(await api.post(f"/volunteers/{volunteer_id}/confidentiality", json={"signed_on": long_ago}))
            await ok(await api.post(f"/volunteers/{volunteer_id}/training", json={
                "course": "friend_basics", "completed_on": long_ago}))
        await ok(await api.post(f"/volunteers/{ready}/vetting", json={"kind": "criminal_record_extract", "seen_on": DAY}))
        await ok(await api.post(f"/volunteers/{expiring_soon}/vetting", json={
            "kind": "criminal_record_extract", "seen_on": soon.isoformat()}))
        session = await ok(await api.post("/volunteers/supervision-sessions", json={
            "held_on": DAY, "kind": "group", "attendees": [ready]}), 201)
        assert session["attendees"] == [ready]

        report = await ok(await api.get("/volunteers/report"))
        assert report["by_status"]["ready"] == 2 and report["by_status"]["applied"] == 1
        assert [(e["volunteer_id"], e["what"]) for e in report["expiring"]] == [(expiring_soon, "vetting")]
        assert [o["volunteer_id"] for o in report["supervision_overdue_volunteers"]] == [expiring_soon]
        assert report["days_from_application_to_first_match"] is None  # nobody matched yet
        assert report["friendships"] == {"hours_given": 0, "friendships": 0, "ongoing": 0,
                                         "lasted_months": {"3": 0, "6": 0, "12": 0}}
        record = await ok(await api.get(f"/volunteers/{expiring_soon}"))
        assert record["flags"]["supervision_overdue"] is True and record["last_supervised_on"] is None
        assert (await ok(await api.get(f"/volunteers/{ready}")))["last_supervised_on"] == DAY

        steering = await ok(await api.get("/volunteers/report", auth=tokens().auth("steering", org="varde-kommune")))
        assert steering["by_status"] == report["by_status"] and steering["expiring_within_30_days"] == 1
        assert "expiring" not in steering and "supervision_overdue_volunteers" not in steering  # counts only
        assert (await api.get("/volunteers/report", auth=tokens().auth("coordinator", org="abf"))).status_code == 403

        # A first match: the citizen's yes alone is none; the volunteer's yes (here through the coordinator)
        # begins the friendship, and the days from application (today) to it (today) count.
        citizen = uuid.uuid4()
        await publish(kafka_bootstrap, runtime.settings.partnership_id, referral(citizen, [ORG]),
                      clarification(citizen, wishes=["friend"]))
        await eventually(lambda: _proposed(api, citizen))
        [proposal] = await proposals_of(api, citizen)
        await ok(await api.post(f"/proposals/{proposal['proposal_id']}/accept"))
        asked = await ok(await api.get("/volunteers/report"))
        assert (asked["volunteers_matched"], asked["friendships"]["ongoing"]) == (0, 0)
        await ok(await api.post(f"/proposals/{proposal['proposal_id']}/volunteer-answer", json={"answer": "accept"}))
        matched = await ok(await api.get("/volunteers/report"))
        assert (matched["days_from_application_to_first_match"], matched["volunteers_matched"]) == (0.0, 1)
        assert (matched["friendships"]["friendships"], matched["friendships"]["ongoing"]) == (1, 1)


async def test_a_phone_friend_far_away_is_proposed_to_a_citizen_who_wishes_one(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        partnership = runtime.settings.partnership_id
        # Göteborg, about 310 km from Varde: a phone friend there, an in-person friend there.
        phone = await ok(await api.post("/volunteers", json=volunteer(postal_code="41301", roles=["phone_friend"],
                                                                       capacity=2)), 201)
        in_person = await ok(await api.post("/volunteers", json=volunteer(postal_code="41301", interests=BOTH)), 201)
        assert phone["roles"] == ["phone_friend"]
        wants_phone, wants_visits = uuid.uuid4(), uuid.uuid4()
        await publish(kafka_bootstrap, partnership, referral(wants_phone, [ORG]),
                      clarification(wants_phone, wishes=["phone_friend"]), referral(wants_visits, [ORG]),
                      clarification(wants_visits, wishes=["friend"]))
        await eventually(lambda: _proposed(api, wants_phone))
        [proposal] = await proposals_of(api, wants_phone, headers={"Accept-Language": "da"})
        assert proposal["candidate_id"] == phone["volunteer_id"] and proposal["distance_km"] > 290
        assert "over telefon eller video: afstanden betyder ikke noget" in proposal["reasons"]
        assert {"code": "by_phone", "params": {}} in proposal["reason_codes"]
        # The second citizen's events may sit on another partition: wait until matching knows their needs.
        async def clarified() -> bool:
            return (await api.get(f"/citizens/{wants_visits}/candidates")).status_code == 200
        await eventually(clarified)
        judged = {c["candidate_id"]: c for c in (await ok(await api.get(f"/citizens/{wants_visits}/candidates")))["candidates"]}
        assert set(judged[phone["volunteer_id"]]["excluded_because"]) == {"no_common_channel", "out_of_reach"}
        assert set(judged[in_person["volunteer_id"]]["excluded_because"]) == {"out_of_reach"}
        assert await proposals_of(api, wants_visits) == []


async def test_a_role_requires_the_courses_the_setting_names(kafka_bootstrap, database_url):
    courses = {"volunteer_friend": ["friend_basics", "safeguarding"], "phone_friend": ["friend_basics"]}
    async with matching_instance(kafka_bootstrap, database_url, role_required_courses=courses) as (runtime, api):
        partnership = runtime.settings.partnership_id
        half = (await ok(await api.post("/volunteers/applications", json=profile(interests=BOTH)), 201))["volunteer_id"]
        answer = await through_every_step(api, half)  # friend_basics only
        assert answer["blockers"] == {"volunteer_friend": ["training_missing"]}
        assert (await ok(await api.get(f"/volunteers/{half}")))["missing_courses"] == {"volunteer_friend": ["safeguarding"]}
        # `trained: true` at a direct registration records every course the role requires, as configured.
        whole = (await ok(await api.post("/volunteers", json=volunteer(capacity=1)), 201))["volunteer_id"]
        assert (await ok(await api.get(f"/volunteers/{whole}")))["status"] == "ready"
        citizen = uuid.uuid4()
        await publish(kafka_bootstrap, partnership, referral(citizen, [ORG]), clarification(citizen, wishes=["friend"]))
        await eventually(lambda: _proposed(api, citizen))
        assert [p["candidate_id"] for p in await proposals_of(api, citizen)] == [whole]
        done = await ok(await api.post(f"/volunteers/{half}/training", json={"course": "safeguarding", "completed_on": DAY}))
        assert done["status"] == "ready"


async def test_a_pause_lets_go_of_the_citizens_still_waiting_and_keeps_the_friendships(kafka_bootstrap, database_url):
    # Before, a volunteer who went on holiday kept a citizen waiting on a proposal (or a question) for weeks.
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        partnership = runtime.settings.partnership_id
        away = await ok(await api.post("/volunteers", json=volunteer(interests=["bagning", "gåtur"], capacity=3)), 201)
        friend_of, waiting = uuid.uuid4(), uuid.uuid4()
        await publish(kafka_bootstrap, partnership, referral(friend_of, [ORG]), clarification(friend_of, wishes=["friend"]))
        await eventually(lambda: _proposed(api, friend_of))
        [kept] = await proposals_of(api, friend_of)
        await ok(await api.post(f"/proposals/{kept['proposal_id']}/accept"))
        await ok(await api.post(f"/proposals/{kept['proposal_id']}/volunteer-answer", json={"answer": "accept"}))
        await publish(kafka_bootstrap, partnership, referral(waiting, [ORG]), clarification(waiting, wishes=["friend"]))
        await eventually(lambda: _proposed(api, waiting))
        [pending] = await proposals_of(api, waiting)
        assert pending["candidate_id"] == away["volunteer_id"]
        standby = await ok(await api.post("/volunteers", json=volunteer(interests=["bagning"], capacity=1)), 201)

        await ok(await api.post(f"/volunteers/{away['volunteer_id']}/pause", json={"from": DAY, "reason": "holiday"}))
        shown = {p["proposal_id"]: p for p in await proposals_of(api, waiting)}
        assert shown[pending["proposal_id"]]["status"] == "withdrawn"
        assert [p["candidate_id"] for p in shown.values() if p["status"] == "proposed"] == [standby["volunteer_id"]]
        assert [p["status"] for p in await proposals_of(api, friend_of)] == ["accepted"]  # the friendship goes on
