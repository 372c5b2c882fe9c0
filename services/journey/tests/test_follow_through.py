"""Follow-through (issue 15, case 6): outcomes of follow-ups, a contact restarts the follow-up timer,
the UCLA-3 asked again (3 months after the start, at exit, 6 months after exit), the still-taking-part
check after a group runs itself, transport and unreachable citizens as the guide's tasks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from brobygger_contracts.events.matching import MatchAccepted, MatchProposed
from brobygger_contracts.events.notify import NotificationFailed
from journey.adapters.tables import tasks as task_table
from journey.domain.follow_through import STOP_REASONS, FollowUpOutcome
from brobygger_contracts.events.journey import FollowUpOutcome as WireOutcome, StopReason
from journey_testkit import CLARIFICATION, FakeClock, accept_match, referral, wait_until

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def _fired(svc, kind: str) -> list[dict]:  # noqa: ANN001
    await svc.runtime.scheduler.tick()
    return [e for e in await svc.outbox("FollowUpDue") if e["kind"] == kind]


async def _guided(svc) -> uuid.UUID:  # noqa: ANN001
    """A citizen referred on Monday 2 March, whose guide is anne, clarified."""
    await svc.client.post("/guides", json={"guide_id": "anne"})
    event = referral(received_at=MONDAY)
    await svc.send(event)
    assert (await svc.client.post(f"/journeys/{event.citizen_id}/clarification", json=CLARIFICATION)).status_code == 201
    return event.citizen_id


async def _visiting(svc) -> uuid.UUID:  # noqa: ANN001
    """A citizen with a guide who has been to the first visit (20 March): the follow-up is due on 3 April."""
    c = await _guided(svc)
    await accept_match(svc, c)
    assert (await svc.client.post(f"/journeys/{c}/first-visit", json={"visited_at": "2026-03-20T10:00:00Z"})).status_code == 201
    return c


def test_the_domain_speaks_the_contracts_codes():
    assert {o.value for o in FollowUpOutcome} == {o.value for o in WireOutcome}
    assert set(STOP_REASONS) == {r.value for r in StopReason}


async def test_a_contact_restarts_the_follow_up_timer(journey_service):
    """Reproduced on main: the guide called on 1 April and was still told on 3 April that a follow-up was due."""
    svc = journey_service
    c = await _visiting(svc)
    svc.clock.moment = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)
    assert (await svc.client.post(f"/journeys/{c}/contacts", json={"kind": "call", "at": "2026-04-01T12:00:00Z"})).status_code == 201
    svc.clock.moment = datetime(2026, 4, 3, 10, 0, tzinfo=UTC)
    assert await _fired(svc, "follow_up") == []
    pending = (await svc.client.get(f"/journeys/{c}")).json()["pending_timers"]
    assert {"kind": "follow_up", "due_at": "2026-05-01T12:00:00Z"} in pending  # a month after the call
    svc.clock.moment = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    [due] = await _fired(svc, "follow_up")
    assert due["due_at"].startswith("2026-05-01T12:00")


async def test_follow_up_outcomes_are_recorded_and_a_new_proposal_is_asked_for(journey_service):
    svc = journey_service
    c = await _visiting(svc)
    anne = svc.auth("guide", subject="anne")
    refused = await svc.client.post(f"/journeys/{c}/follow-ups", json={"outcome": "stopped"}, auth=anne)
    assert refused.status_code == 422 and refused.json()["field"] == "reason"
    assert (await svc.client.post(f"/journeys/{c}/follow-ups", json={"outcome": "stopped", "reason": "bored of it"},
                                  auth=anne)).status_code == 422  # codes only, never free text
    assert (await svc.client.post(f"/journeys/{c}/follow-ups", json={"outcome": "paused", "reason": "health"},
                                  auth=anne)).status_code == 422
    going = await svc.client.post(f"/journeys/{c}/follow-ups", json={"outcome": "still_going"}, auth=anne)
    assert going.status_code == 201 and going.json()["state"] == "first_visit"

    again = await svc.client.post(f"/journeys/{c}/follow-ups", json={"outcome": "needs_new_proposal", "reason": "did_not_click"}, auth=anne)
    assert again.status_code == 201 and again.json()["state"] == "matching"
    view = (await svc.client.get(f"/journeys/{c}")).json()
    assert [(f["outcome"], f["reason"]) for f in view["follow_ups"]] == [("still_going", None), ("needs_new_proposal", "did_not_click")]
    recorded = await svc.outbox("FollowUpRecorded")
    assert [(r["outcome"], r["reason"], r["guide_id"]) for r in recorded] == [
        ("still_going", None, "anne"), ("needs_new_proposal", "did_not_click", "anne")]
    asked = await svc.outbox("NeedsClarified")  # matching proposes again from the kept clarification
    assert len(asked) == 2 and asked[1]["interests"] == asked[0]["interests"] == ["baking_and_cooking", "walking"]
    # the journey goes on: a new proposal is accepted as before
    await accept_match(svc, c, name="Strikkecafé")
    assert (await svc.client.get(f"/journeys/{c}")).json()["state"] == "match_accepted"


async def test_the_ucla_is_asked_again_three_months_after_the_start_at_exit_and_six_months_after(journey_service):
    svc = journey_service
    c = await _visiting(svc)
    anne = svc.auth("guide", subject="anne")
    svc.clock.moment = datetime(2026, 6, 2, 9, 0, tzinfo=UTC)
    [due] = await _fired(svc, "ucla_after_start")
    assert due["guide_id"] == "anne"
    tasks = (await svc.client.get("/tasks", params={"done": False}, auth=anne)).json()
    assert [(t["kind"], t["details"].get("time_point")) for t in tasks if t["kind"] == "ask_ucla"] == [("ask_ucla", "after_start")]
    too_early = await svc.client.post(f"/journeys/{c}/loneliness", auth=anne, json={
        "time_point": "after_exit", "lack_companionship": 2, "left_out": 2, "isolated": 2})
    assert too_early.status_code == 422
    measured = await svc.client.post(f"/journeys/{c}/loneliness", auth=anne, json={
        "time_point": "after_start", "lack_companionship": 2, "left_out": 2, "isolated": 2})
    assert measured.status_code == 201 and measured.json()["total"] == 6
    assert not [t for t in (await svc.client.get("/tasks", params={"done": False}, auth=anne)).json() if t["kind"] == "ask_ucla"]

    svc.clock.moment = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
    final = {"lack_companionship": 1, "left_out": 2, "isolated": 1}
    assert (await svc.client.post(f"/journeys/{c}/exit", json={"outcome": "completed", "final": final}, auth=anne)).status_code == 201
    svc.clock.moment = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)  # six months after the exit
    for _ in range(3):  # once, however often the scheduler looks
        after = await _fired(svc, "ucla_after_exit")
    assert len(after) == 1 and after[0]["due_at"].startswith("2027-01-01")
    assert (await svc.client.post(f"/journeys/{c}/loneliness", auth=anne, json={
        "time_point": "after_exit", "lack_companionship": 1, "left_out": 1, "isolated": 1})).status_code == 201
    measures = (await svc.client.get(f"/journeys/{c}")).json()["measures"]
    assert {p: sum(m["answers"].values()) for p, m in measures.items()} == {"after_start": 6, "exit": 4, "after_exit": 3}


async def test_an_exit_without_the_final_answers_leaves_the_guide_a_task_to_ask(journey_service):
    svc = journey_service
    c = await _visiting(svc)
    assert (await svc.client.post(f"/journeys/{c}/exit", json={"outcome": "dropped_out"})).status_code == 201
    [task] = [t for t in (await svc.client.get("/tasks")).json() if t["kind"] == "ask_ucla"]
    assert task["details"]["time_point"] == "exit" and task["guide_id"] == "anne" and not task["done"]
    assert (await svc.client.post(f"/journeys/{c}/loneliness", json={
        "time_point": "exit", "lack_companionship": 2, "left_out": 1, "isolated": 1})).status_code == 201
    [task] = [t for t in (await svc.client.get("/tasks")).json() if t["kind"] == "ask_ucla"]
    assert task["done"] and task["done_by"] == "eva"
    assert (await svc.client.get(f"/journeys/{c}")).json()["final"] == {"lack_companionship": 2, "left_out": 1, "isolated": 1}


async def test_members_of_a_group_that_runs_itself_are_asked_later_whether_they_still_take_part(start_journey):
    clock = FakeClock(MONDAY)
    async with start_journey(clock, still_taking_part_weeks=4) as svc:
        await svc.client.post("/guides", json={"guide_id": "anne"})
        members = [referral(received_at=MONDAY) for _ in range(2)]
        for event in members:
            await svc.send(event)
            await svc.client.post(f"/journeys/{event.citizen_id}/clarification", json={"interests": ["walking"]})
        gid = (await svc.client.post("/groups", json={
            "facilitator_id": "tovholder-ole", "interest": "walking", "postal_code": "6800",
            "member_citizen_ids": [str(m.citizen_id) for m in members]})).json()["group_id"]
        clock.moment = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
        assert (await svc.client.post(f"/groups/{gid}/self-running")).status_code == 201
        clock.moment = datetime(2026, 4, 7, 8, 59, tzinfo=UTC)
        assert await _fired(svc, "still_taking_part") == []
        clock.moment = datetime(2026, 4, 7, 9, 0, tzinfo=UTC)  # four weeks later
        due = await _fired(svc, "still_taking_part")
        assert sorted(d["citizen_id"] for d in due) == sorted(str(m.citizen_id) for m in members)
        checks = [t for t in (await svc.client.get("/tasks")).json() if t["kind"] == "still_taking_part"]
        assert len(checks) == 2
        c = members[0].citizen_id
        assert (await svc.client.post(f"/journeys/{c}/follow-ups", json={"outcome": "still_going"})).status_code == 201
        open_checks = [t["citizen_id"] for t in (await svc.client.get("/tasks", params={"done": False})).json()
                       if t["kind"] == "still_taking_part"]
        assert open_checks == [str(members[1].citizen_id)]


async def test_a_transport_need_on_an_accepted_proposal_is_the_guides_task(journey_service):
    svc = journey_service
    c = await _guided(svc)
    proposal = MatchProposed(
        proposal_id=uuid.uuid4(), citizen_id=c, kind="activity", candidate_id=uuid.uuid4(), candidate_name="Gåtur",
        proposing_org="red-cross", score=0.7, reasons=["both enjoy walking"], transport_need="volunteer_driver",
        proposed_at=svc.clock(),
    )
    await svc.send(proposal)
    assert (await svc.client.get("/tasks")).json() == []  # proposed is not yet chosen
    accepted = MatchAccepted(proposal_id=proposal.proposal_id, citizen_id=c, kind="activity",
                             candidate_id=proposal.candidate_id, accepted_at=svc.clock())
    await svc.send(accepted)
    await svc.send(accepted)  # the same acceptance again: still one task
    [task] = (await svc.client.get("/tasks", auth=svc.auth("guide", subject="anne"))).json()
    assert task["kind"] == "arrange_transport" and task["citizen_id"] == str(c)
    assert task["details"] == {"transport_need": "volunteer_driver", "proposal_id": str(proposal.proposal_id)}


async def test_a_citizen_without_a_channel_becomes_a_call_or_letter_task_for_the_guide(journey_service):
    svc = journey_service
    c = await _guided(svc)

    def failed(reason: str | None) -> NotificationFailed:
        return NotificationFailed(
            notification_id=uuid.uuid4(), source_event_id="evt-1", recipient_id=str(c), channel="sms",
            cause="the citizen has no e-mail address and no mobile number", attempts=1, failed_at=svc.clock(),
            reason=reason, recipient_role="citizen", citizen_id=c)

    unreachable = failed("no_channel")
    await svc.send(unreachable, org="varde-kommune")
    await svc.send(failed("channel_failed"))  # an SMS gateway's trouble is the operators', not the guide's
    [task] = (await svc.client.get("/tasks", auth=svc.auth("guide", subject="anne"))).json()
    assert task["kind"] == "call_or_write"
    assert task["details"] == {"notification_id": str(unreachable.notification_id), "notify_org": "varde-kommune",
                               "letter": f"/deliveries/{unreachable.notification_id}/letter"}
    async with svc.runtime.db.sessions() as s:
        assert await s.scalar(sa.select(sa.func.count()).select_from(task_table)) == 1


def test_outcome_rules_need_a_code_only_where_there_is_something_to_explain():
    import pytest

    from journey.domain.errors import InvalidInput
    from journey.domain.follow_through import TimePoint, check_outcome, may_measure

    check_outcome(FollowUpOutcome.still_going, None)
    check_outcome(FollowUpOutcome.stopped, "moved")
    check_outcome(FollowUpOutcome.needs_new_proposal, None)
    for outcome, reason in ((FollowUpOutcome.stopped, None), (FollowUpOutcome.paused, "health"), (FollowUpOutcome.stopped, "bored")):
        with pytest.raises(InvalidInput):
            check_outcome(outcome, reason)
    may_measure(TimePoint.after_start, exited=False)
    may_measure(TimePoint.after_exit, exited=True)
    for point, exited in ((TimePoint.exit, False), (TimePoint.after_exit, False), (TimePoint.after_start, True)):
        with pytest.raises(InvalidInput):
            may_measure(point, exited)


def test_cohorts_are_quarters_and_periods_are_half_open():
    from journey.domain.reports import Period, cohort_of

    assert [cohort_of(datetime(2026, m, 1, tzinfo=UTC)) for m in (1, 3, 4, 12)] == ["2026-Q1", "2026-Q1", "2026-Q2", "2026-Q4"]
    march = Period(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
    assert march.holds(datetime(2026, 3, 1, tzinfo=UTC)) and not march.holds(datetime(2026, 4, 1, tzinfo=UTC))
    assert not march.holds(None) and Period().holds(datetime(1999, 1, 1, tzinfo=UTC))
