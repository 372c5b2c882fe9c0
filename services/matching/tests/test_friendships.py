"""Friendships over time (issue 14): agreement, meetings, the check-in after the first month, and an end by
either side that frees the volunteer's place without retiring them. Real broker and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from brobygger_contracts.events.friendships import FriendshipAgreed, FriendshipCheckInDue, FriendshipEnded
from brobygger_contracts.events.matching import MatchProposed
from brobygger_contracts.events.referral import CitizenErased
from matching.friendships.citizen_data import friendships_about
from matching.friendships.figures import friendship_figures
from matching.friendships.rules import lasted_counts
from matching.testing import (
    ORG, clarification, eventually, matching_instance, of_type, proposals_of, publish, read_events, referral, tokens,
)
from matching.friendships.testing import GUIDE_ORG, a_friendship

async def test_a_friendship_is_agreed_met_checked_on_and_ended_by_the_citizen_side(kafka_bootstrap, database_url):
    # 0.0001 days: the check-in is due about nine seconds after the volunteer's yes.
    async with matching_instance(kafka_bootstrap, database_url, friendship_check_in_days=0.0001,
                                 friendship_check_seconds=0.5) as (runtime, api):
        partnership = runtime.settings.partnership_id
        anna, friendship, citizen = await a_friendship(kafka_bootstrap, runtime, api, "anna-login", "gitte")
        gitte = tokens().auth("guide", org=GUIDE_ORG, subject="gitte")
        hans = tokens().auth("guide", org=GUIDE_ORG, subject="hans")  # a guide, not this citizen's
        anna_auth = tokens().auth("volunteer", org=ORG, subject="anna-login")
        stranger = tokens().auth("volunteer", org=ORG, subject="someone-else")
        base = f"/friendships/{friendship}"

        # Agreement: the citizen's guide (or a coordinator of this organisation).
        agreement = {"rhythm": "weekly", "channel": "in_person", "place": "Lillemor's kitchen"}
        assert (await api.post(f"{base}/agreement", json=agreement, auth=hans)).status_code == 404
        assert (await api.post(f"{base}/agreement", json=agreement, auth=anna_auth)).status_code == 403
        assert (await api.post(f"{base}/agreement", json=agreement | {"rhythm": "daily"}, auth=gitte)).status_code == 422
        agreed = await api.post(f"{base}/agreement", json=agreement, auth=gitte)
        assert agreed.status_code == 201, agreed.text
        assert (agreed.json()["rhythm"], agreed.json()["place"]) == ("weekly", "Lillemor's kitchen")

        # Meetings: the volunteer logs them; no note under this organisation's policy.
        today = date.today().isoformat()
        meeting = {"met_on": today, "minutes": 90, "channel": "in_person"}
        noted = await api.post(f"{base}/meetings", json=meeting | {"note": "she talked about her late husband"},
                               auth=anna_auth)
        assert noted.status_code == 422 and "MEETING_NOTES_ALLOWED" in noted.json()["detail"]["reason"]
        future = (date.today() + timedelta(days=3)).isoformat()
        assert (await api.post(f"{base}/meetings", json=meeting | {"met_on": future}, auth=anna_auth)).status_code == 422
        assert (await api.post(f"{base}/meetings", json=meeting, auth=stranger)).status_code == 404
        assert (await api.post(f"{base}/meetings", json=meeting, auth=gitte)).status_code == 403
        logged = await api.post(f"{base}/meetings", json=meeting, auth=anna_auth)
        assert logged.status_code == 201, logged.text
        assert logged.json()["note"] is None

        # The check-in goes out once, after the first "month".
        events_before_end = 1 + 1 + 1 + 1 + 1 + 1  # registered, proposed, asked, accepted, agreed, check-in due

        async def checked_in() -> bool:
            events = await read_events(kafka_bootstrap, partnership, want=events_before_end, timeout=1)
            return len(of_type(events, FriendshipCheckInDue)) >= 1
        await eventually(checked_in, timeout=40)
        assert (await api.post(f"{base}/check-ins", json={"side": "citizen", "going_well": True}, auth=anna_auth)).status_code == 404
        assert (await api.post(f"{base}/check-ins", json={"side": "citizen", "going_well": True}, auth=gitte)).status_code == 201
        assert (await api.post(f"{base}/check-ins", json={"side": "volunteer", "going_well": False}, auth=anna_auth)).status_code == 201

        shown = (await api.get("/friendships", auth=gitte)).json()
        assert [(f["friendship_id"], f["meetings"], f["minutes"], f["check_ins"]) for f in shown] == [
            (friendship, 1, 90, {"citizen": True, "volunteer": False})]
        assert (await api.get("/friendships", auth=hans)).json() == []
        assert (await api.get("/friendships", auth=stranger)).json() == []
        assert [f["friendship_id"] for f in (await api.get("/friendships")).json()] == [friendship]

        # The citizen's side ends it, through their guide only.
        assert (await api.post(f"{base}/end", json={"side": "citizen", "reason": "moved"}, auth=anna_auth)).status_code == 404
        assert (await api.post(f"{base}/end", json={"side": "citizen", "reason": "moved"})).status_code == 404
        assert (await api.post(f"{base}/end", json={"side": "citizen", "reason": "bored"}, auth=gitte)).status_code == 422
        ended = await api.post(f"{base}/end", json={"side": "citizen", "reason": "moved"}, auth=gitte)
        assert ended.status_code == 200, ended.text
        assert (ended.json()["side"], ended.json()["reason"]) == ("citizen", "moved")
        assert (await api.post(f"{base}/end", json={"side": "volunteer", "reason": "no_time"}, auth=anna_auth)).status_code == 409
        assert [p["status"] for p in await proposals_of(api, citizen)] == ["ended"]

        # The volunteer stays active and their one place is free: the next citizen is proposed to them.
        listed = {v["volunteer_id"]: v for v in (await api.get("/volunteers")).json()}
        assert listed[anna]["active"] is True
        after = uuid.uuid4()
        await publish(kafka_bootstrap, partnership, referral(after, [ORG]), clarification(after, wishes=["friend"]))

        async def proposed_to_anna() -> bool:
            return [p["candidate_id"] for p in await proposals_of(api, after)] == [anna]
        await eventually(proposed_to_anna)

        events = await read_events(kafka_bootstrap, partnership, want=events_before_end + 1 + 1, settle=2.0)
        assert len(of_type(events, FriendshipCheckInDue)) == 1
        assert [e.opened.place for e in of_type(events, FriendshipAgreed)] == ["Lillemor's kitchen"]
        [end] = of_type(events, FriendshipEnded)
        assert (str(end.friendship_id), end.side.value, end.reason.value, end.citizen_id) == (friendship, "citizen", "moved", citizen)
        assert sorted(str(p.citizen_id) for p in of_type(events, MatchProposed)) == sorted([str(citizen), str(after)])

        async with runtime.db.sessions() as session:
            figures = await friendship_figures(session, ORG, datetime.now(UTC))
            elsewhere = await friendship_figures(session, "abf", datetime.now(UTC))
        assert figures == {"hours_given": 1.5, "friendships": 1, "ongoing": 0, "lasted_months": {"3": 0, "6": 0, "12": 0}}
        assert elsewhere["friendships"] == 0


async def test_a_volunteer_ends_a_friendship_and_notes_are_kept_where_the_policy_allows(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url, meeting_notes_allowed=True) as (runtime, api):
        _, friendship, _ = await a_friendship(kafka_bootstrap, runtime, api, "bo-login", "gitte")
        bo = tokens().auth("volunteer", org=ORG, subject="bo-login")
        base = f"/friendships/{friendship}"
        noted = await api.post(f"{base}/meetings", auth=bo,
                               json={"met_on": date.today().isoformat(), "minutes": 30, "channel": "phone", "note": "a walk"})
        assert noted.status_code == 201 and noted.json()["note"] == "a walk"
        assert (await api.post(f"{base}/end", json={"side": "citizen", "reason": "no_time"}, auth=bo)).status_code == 404
        ended = await api.post(f"{base}/end", json={"side": "volunteer", "reason": "no_time"}, auth=bo)
        assert ended.status_code == 200 and ended.json()["side"] == "volunteer"


def test_lasting_is_counted_in_months_up_to_now_for_ongoing_friendships():
    now = datetime(2026, 11, 26, tzinfo=UTC)
    spans = [(now - timedelta(days=400), None), (now - timedelta(days=200), now - timedelta(days=10)),
             (now - timedelta(days=100), None), (now - timedelta(days=20), None)]
    assert lasted_counts(spans, now) == {3: 3, 6: 2, 12: 1}


async def test_the_citizen_sees_their_friendships_in_their_report_and_erasure_removes_them(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        _, friendship, citizen = await a_friendship(kafka_bootstrap, runtime, api, "cai-login", "gitte")
        agreed = await api.post(f"/friendships/{friendship}/agreement",
                                json={"rhythm": "fortnightly", "channel": "video", "place": "on Skype"})
        assert agreed.status_code == 201
        report = (await api.get(f"/citizens/{citizen}/personal-data")).json()["holds"]
        assert [(f["friendship_id"], f["place"]) for f in report["friendships"]] == [(friendship, "on Skype")]
        assert [q["answer"] for q in report["volunteer_questions"]] == ["accepted"]

        await publish(kafka_bootstrap, runtime.settings.partnership_id,
                      CitizenErased(citizen_id=citizen, erased_at=datetime.now(UTC)))

        async def forgotten() -> bool:
            async with runtime.db.sessions() as session:
                return not (await friendships_about(session, str(citizen)))["friendships"]
        await eventually(forgotten)
        async with runtime.db.sessions() as session:
            assert await friendships_about(session, str(citizen)) == {"volunteer_questions": [], "friendships": []}
        assert (await api.get("/friendships")).json() == []


async def test_a_friendship_ends_with_its_match_when_the_volunteer_retires(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        volunteer_id, friendship, citizen = await a_friendship(kafka_bootstrap, runtime, api, "dora-login", "gitte")
        assert (await api.post(f"/volunteers/{volunteer_id}/retire", json={"reason": "moved"})).status_code == 200
        [shown] = (await api.get("/friendships")).json()
        assert (shown["friendship_id"], shown["active"], shown["ended_side"]) == (friendship, False, "volunteer")
        assert [p["status"] for p in await proposals_of(api, citizen)] == ["ended"]
        async with runtime.db.sessions() as session:
            assert (await friendship_figures(session, ORG, datetime.now(UTC)))["ongoing"] == 0
