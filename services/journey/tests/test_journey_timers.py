"""Durable timers: due dates from the policy, fired once across restarts and replicas."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from journey.adapters.tables import timers
from journey.service_layer.timers import fire_due_timers
from journey_testkit import FakeClock, accept_match, referral, wait_until

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def due_count(svc, want: int) -> None:
    async def enough() -> bool:
        return len(await svc.outbox("FollowUpDue")) >= want

    await wait_until(enough, what=f"{want} FollowUpDue")


async def test_first_contact_timer_fires_once_across_a_restart(start_journey, database_url_factory):
    database_url = await database_url_factory("journey", migrated="journey")
    partnership = f"t{uuid.uuid4().hex[:10]}"
    clock = FakeClock(MONDAY)
    event = referral(received_at=MONDAY)
    async with start_journey(clock, database_url=database_url, partnership_id=partnership) as svc:
        await svc.client.post("/guides", json={"guide_id": "guide-anna"})
        await svc.send(event)
        clock.moment = datetime(2026, 3, 5, 8, 59, tzinfo=UTC)  # 3 working days minus a minute
        await svc.runtime.scheduler.tick()
        assert await svc.outbox("FollowUpDue") == []
    clock.moment = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)  # due while the service is down
    async with start_journey(clock, database_url=database_url, partnership_id=partnership) as svc:
        await due_count(svc, 1)
    async with start_journey(clock, database_url=database_url, partnership_id=partnership) as svc:
        for _ in range(3):
            await svc.runtime.scheduler.tick()
        [due] = await svc.published("FollowUpDue")
    assert due.payload["kind"] == "first_contact"
    assert due.payload["guide_id"] == "guide-anna"
    assert due.payload["citizen_id"] == str(event.citizen_id)
    assert due.payload["due_at"].startswith("2026-03-05T09:00")


async def test_two_replicas_fire_each_timer_once(start_journey, database_url_factory):
    database_url = await database_url_factory("journey", migrated="journey")
    partnership = f"t{uuid.uuid4().hex[:10]}"
    clock = FakeClock(MONDAY)
    citizens = [referral(received_at=MONDAY) for _ in range(5)]
    async with (
        start_journey(clock, database_url=database_url, partnership_id=partnership, instance_id="replica-a", timer_poll_seconds=0.02) as a,
        start_journey(clock, database_url=database_url, partnership_id=partnership, instance_id="replica-b", timer_poll_seconds=0.02) as b,
    ):
        for event in citizens:
            await a.send(event, wait=False)
        for event in citizens:
            await wait_until(lambda e=event: _has_journey(a, e.citizen_id), what="journey opened")
        clock.moment = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
        await due_count(a, 5)
        await asyncio.sleep(0.5)  # both loops keep ticking
        fired = await a.published("FollowUpDue")
        holders = a.runtime.scheduler.fired_total, b.runtime.scheduler.fired_total
    assert sorted(e.payload["citizen_id"] for e in fired) == sorted(str(e.citizen_id) for e in citizens)
    assert sum(holders) == 5 and 0 in holders  # the lease let one replica do the work


async def _has_journey(svc, citizen_id) -> bool:  # noqa: ANN001
    return (await svc.client.get(f"/journeys/{citizen_id}")).status_code == 200


async def test_concurrent_rounds_without_the_lease_still_fire_once(journey_service):
    """The lease keeps replicas from doing the same work; the conditional claim is what makes it once."""
    svc = journey_service
    for _ in range(4):
        await svc.send(referral(received_at=MONDAY))
    await svc.runtime.scheduler.stop()  # only the rounds below fire
    svc.clock.moment = datetime(2026, 3, 10, tzinfo=UTC)

    async def one_round() -> int:
        async with svc.runtime.unit_of_work() as uow:
            return len(await fire_due_timers(uow, svc.runtime.ctx))

    results = await asyncio.gather(*(one_round() for _ in range(3)))
    assert sum(results) == 4
    assert len(await svc.outbox("FollowUpDue")) == 4


async def test_contact_cancels_first_contact_timer_and_first_visit_starts_follow_ups(journey_service):
    svc = journey_service
    clock = svc.clock
    event = referral(received_at=MONDAY)
    await svc.send(event)
    c = event.citizen_id
    assert (await svc.client.post(f"/journeys/{c}/contacts", json={"kind": "call", "at": "2026-03-03T10:00:00Z"})).status_code == 201
    await svc.client.post(f"/journeys/{c}/clarification", json={"interests": ["walking"]})
    await accept_match(svc, c)
    await svc.client.post(f"/journeys/{c}/first-visit", json={"visited_at": "2026-03-20T10:00:00Z"})

    clock.moment = datetime(2026, 4, 3, 9, 59, tzinfo=UTC)  # the first contact timer was cancelled
    await svc.runtime.scheduler.tick()
    assert await svc.outbox("FollowUpDue") == []
    clock.moment = datetime(2026, 4, 3, 10, 0, tzinfo=UTC)  # 14 days after the first visit
    await due_count(svc, 1)
    clock.moment = datetime(2026, 5, 3, 10, 0, tzinfo=UTC)  # then monthly
    await due_count(svc, 2)
    kinds = [(e["kind"], e["due_at"][:10]) for e in await svc.outbox("FollowUpDue")]
    assert kinds == [("follow_up", "2026-04-03"), ("follow_up", "2026-05-03")]

    await svc.client.post(f"/journeys/{c}/exit", json={"outcome": "dropped_out"})
    clock.moment = datetime(2027, 1, 1, tzinfo=UTC)  # exit stopped every timer, the exit review too
    await svc.runtime.scheduler.tick()
    assert len(await svc.outbox("FollowUpDue")) == 2
    async with svc.runtime.db.sessions() as s:
        pending = await s.scalar(sa.select(sa.func.count()).select_from(timers).where(timers.c.fired_at.is_(None), timers.c.cancelled_at.is_(None)))
    assert pending == 0


async def test_exit_review_is_due_after_the_configured_months(start_journey):
    clock = FakeClock(MONDAY)
    async with start_journey(clock, exit_review_months=8, first_contact_working_days=2) as svc:
        event = referral(received_at=MONDAY)
        await svc.send(event)
        await svc.client.post(f"/journeys/{event.citizen_id}/contacts", json={})
        clock.moment = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
        await due_count(svc, 2)  # the UCLA-3 asked again 3 months after the start, then the exit review
        [due] = [d for d in await svc.outbox("FollowUpDue") if d["kind"] != "ucla_after_start"]
        metrics = (await svc.client.get("/metrics")).text
    assert due["kind"] == "exit_review" and due["due_at"].startswith("2026-11-02")
    assert 'brobygger_journey_timers_fired_total{kind="exit_review"} 1.0' in metrics
    assert "brobygger_journey_timer_lease_held 1.0" in metrics
