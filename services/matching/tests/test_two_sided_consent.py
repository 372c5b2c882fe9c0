"""Two-sided consent (issue 14): the citizen's yes asks the volunteer; only the volunteer's yes makes the match.
A no, or no answer in time, proposes the next candidate. Real broker and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from brobygger_contracts.events.friendships import VolunteerAsked
from brobygger_contracts.events.journey import GuideAssigned
from brobygger_contracts.events.matching import MatchAccepted, MatchDeclined, MatchProposed
from matching.adapters.tables import volunteer_questions
from matching.friendships.testing import give_account
from matching.testing import (
    ORG, clarification, eventually, matching_instance, of_type, proposals_of, publish, read_events, referral, tokens,
    volunteer,
)


async def volunteer_asked(kafka_bootstrap: str, runtime, api) -> tuple[str, str, uuid.UUID, dict]:  # noqa: ANN001
    """Anna (the best match) and Bo, one place each; a citizen proposed Anna says yes: (anna, bo, citizen, proposal)."""
    anna, bo = [(await api.post("/volunteers", json=volunteer(interests=interests, capacity=1))).json()["volunteer_id"]
                for interests in (["bagning", "gåtur"], ["bagning"])]
    citizen = uuid.uuid4()
    await publish(kafka_bootstrap, runtime.settings.partnership_id, referral(citizen, [ORG]),
                  clarification(citizen, wishes=["friend"]))

    async def proposed() -> bool:
        return len(await proposals_of(api, citizen)) == 1
    await eventually(proposed)
    first = (await proposals_of(api, citizen))[0]
    assert first["candidate_id"] == anna
    assert (await api.post(f"/proposals/{first['proposal_id']}/accept")).status_code == 200
    return anna, bo, citizen, first


async def test_the_volunteer_is_asked_first_and_a_no_proposes_the_next_candidate(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        partnership = runtime.settings.partnership_id
        anna, bo = [(await api.post("/volunteers", json=volunteer(interests=interests, capacity=1))).json()["volunteer_id"]
                    for interests in (["bagning", "gåtur"], ["bagning"])]
        await give_account(runtime, anna, "anna-login")
        await give_account(runtime, bo, "bo-login")
        citizen = uuid.uuid4()
        await publish(kafka_bootstrap, partnership, referral(citizen, [ORG, "varde-kommune"]),
                      clarification(citizen, wishes=["friend"]), GuideAssigned(journey_id=uuid.uuid4(), citizen_id=citizen, guide_id="gitte",
                                    guide_org="varde-kommune", assigned_at=datetime.now(UTC)))

        gitte = tokens().auth("guide", org="varde-kommune", subject="gitte")

        async def proposed() -> bool:  # and Gitte, the citizen's guide, sees it
            return len(await proposals_of(api, citizen, auth=gitte)) == 1
        await eventually(proposed)
        first = (await proposals_of(api, citizen))[0]
        assert first["candidate_id"] == anna

        # The citizen's guide says yes for the citizen: the volunteer is asked, the slot stays held.
        asked = await api.post(f"/proposals/{first['proposal_id']}/accept", auth=gitte)
        assert asked.status_code == 200, asked.text
        assert asked.json()["volunteer_id"] == anna and asked.json()["shared_interests"] == ["baking_and_cooking", "walking"]
        assert [p["status"] for p in await proposals_of(api, citizen)] == ["awaiting_volunteer"]
        judged = {c["candidate_id"]: c for c in (await api.get(f"/citizens/{citizen}/candidates")).json()["candidates"]}
        assert "no_capacity" in judged[anna]["excluded_because"]
        assert (await api.post(f"/proposals/{first['proposal_id']}/accept")).status_code == 409

        # Anna sees her question: what she needs to decide and the deadline, nothing that names the citizen.
        anna_auth = tokens().auth("volunteer", org=ORG, subject="anna-login")
        questions = (await api.get("/friendships/questions", auth=anna_auth)).json()
        assert [(q["proposal_id"], q["postal_code"], q["languages"]) for q in questions] == [
            (first["proposal_id"], "6800", ["da"])]
        assert questions[0]["answer_due"] and "citizen_id" not in questions[0]
        assert (await api.get("/friendships/questions", auth=tokens().auth("volunteer", org=ORG, subject="bo-login"))).json() == []
        assert len((await api.get("/friendships/questions")).json()) == 1  # the coordinator sees the organisation's

        # Nobody else answers for Anna: Bo 404, a guide 403, a coordinator of another organisation 403.
        path = f"/proposals/{first['proposal_id']}/volunteer-answer"
        bo_auth = tokens().auth("volunteer", org=ORG, subject="bo-login")
        assert (await api.post(path, json={"answer": "accept"}, auth=bo_auth)).status_code == 404
        assert (await api.post(path, json={"answer": "accept"}, auth=gitte)).status_code == 403
        assert (await api.post(path, json={"answer": "accept"}, auth=tokens().auth("coordinator", org="abf"))).status_code == 404
        assert (await api.post(path, json={"answer": "maybe"}, auth=anna_auth)).status_code == 422

        declined = await api.post(path, json={"answer": "decline", "reason": "I am away this spring"}, auth=anna_auth)
        assert declined.status_code == 200, declined.text
        assert declined.json()["declined"]["reason"] == "volunteer_declined"
        assert declined.json()["next_proposal"]["candidate_id"] == bo
        assert (await api.post(path, json={"answer": "accept"}, auth=anna_auth)).status_code == 409

        # Bo is asked in turn and says yes: now, and only now, the match is made and the friendship begins.
        second = declined.json()["next_proposal"]["proposal_id"]
        assert (await api.post(f"/proposals/{second}/accept", auth=gitte)).status_code == 200
        yes = await api.post(f"/proposals/{second}/volunteer-answer", json={"answer": "accept"}, auth=bo_auth)
        assert yes.status_code == 200, yes.text
        assert yes.json()["accepted"]["candidate_id"] == bo and yes.json()["friendship_id"]
        assert [(p["candidate_id"], p["status"]) for p in await proposals_of(api, citizen)] == [
            (anna, "declined"), (bo, "accepted")]
        listed = (await api.get("/friendships", auth=bo_auth)).json()
        assert [(f["friendship_id"], f["citizen_id"]) for f in listed] == [(yes.json()["friendship_id"], str(citizen))]

        events = await read_events(kafka_bootstrap, partnership, want=2 + 2 + 2 + 1 + 1, settle=1.0)
        asks = of_type(events, VolunteerAsked)
        assert [(str(a.volunteer_id), str(a.proposal_id)) for a in asks] == [(anna, first["proposal_id"]), (bo, second)]
        assert asks[0].opened.shared_interests == ["baking_and_cooking", "walking"]
        assert asks[0].opened.age_band == "75-84" and asks[0].opened.postal_code == "6800"
        assert asks[0].answer_due > asks[0].asked_at
        assert [d.opened.reason.value for d in of_type(events, MatchDeclined)] == ["volunteer_declined"]
        assert [str(a.candidate_id) for a in of_type(events, MatchAccepted)] == [bo]
        assert len(of_type(events, MatchProposed)) == 2


async def test_no_answer_in_time_counts_as_no_once(kafka_bootstrap, database_url):
    # 0.001 hours: 3.6 seconds to answer; the check runs every half second.
    async with matching_instance(kafka_bootstrap, database_url, volunteer_answer_hours=0.001,
                                 friendship_check_seconds=0.5) as (runtime, api):
        partnership = runtime.settings.partnership_id
        anna, bo, citizen, first = await volunteer_asked(kafka_bootstrap, runtime, api)

        async def moved_on() -> bool:
            return [p["status"] for p in await proposals_of(api, citizen)] == ["declined", "proposed"]
        await eventually(moved_on, timeout=30)
        shown = await proposals_of(api, citizen)
        assert shown[0]["decline_reason"] == "volunteer_no_answer" and shown[1]["candidate_id"] == bo
        late = await api.post(f"/proposals/{first['proposal_id']}/volunteer-answer", json={"answer": "accept"})
        assert late.status_code == 409

        events = await read_events(kafka_bootstrap, partnership, want=2 + 1 + 1 + 1 + 1, settle=2.0)
        assert [(str(d.candidate_id), d.opened.reason.value) for d in of_type(events, MatchDeclined)] == [
            (anna, "volunteer_no_answer")]
        assert not of_type(events, MatchAccepted)
        async with runtime.db.sessions() as session:
            answers = (await session.scalars(sa.select(volunteer_questions.c.answer))).all()
        assert answers == ["no_answer"]


async def test_a_volunteer_who_retires_while_asked_lets_the_citizen_go_and_the_question_closes(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url, volunteer_answer_hours=0.0005,
                                 friendship_check_seconds=0.5) as (runtime, api):
        partnership = runtime.settings.partnership_id
        anna, bo, citizen, first = await volunteer_asked(kafka_bootstrap, runtime, api)
        retired = (await api.post(f"/volunteers/{anna}/retire", json={"reason": "health"})).json()
        assert [(d["reason"], p["candidate_id"]) for d, p in zip(retired["declined"], retired["next_proposals"])] == [
            ("candidate_unavailable", bo)]
        assert [p["status"] for p in await proposals_of(api, citizen)] == ["withdrawn", "proposed"]
        assert (await api.get("/friendships/questions")).json() == []

        async def closed() -> bool:
            async with runtime.db.sessions() as session:
                return (await session.scalars(sa.select(volunteer_questions.c.answer))).all() == ["withdrawn"]
        await eventually(closed, timeout=30)
        events = await read_events(kafka_bootstrap, partnership, want=2 + 1 + 1 + 1 + 1 + 1, settle=1.5)
        assert [d.opened.reason.value for d in of_type(events, MatchDeclined)] == ["candidate_unavailable"]
