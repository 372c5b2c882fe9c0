"""Capacity that follows reality (issue 15 case 2), on the real broker and PostgreSQL: a journey that ends frees
the seat its accepted match held, the seat goes to whoever waits, and the proposal tells the area's waiting time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from brobygger_contracts.events.journey import JourneyCompleted
from brobygger_contracts.events.matching import MatchProposed
from matching.testing import (
    ORG, activity, clarification, eventually, matching_instance, of_type, proposals_of, publish, read_events, referral,
)


async def test_a_journey_that_ends_frees_its_seat_for_the_next_in_the_queue(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        partnership = runtime.settings.partnership_id
        walk = (await api.post("/activities", json=activity(seats=1, languages=["da"]))).json()["activity_id"]
        # In the queue first, but speaks only Arabic: never proposed this walk, yet waiting for walking in 6800.
        queued, first, second = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        await publish(kafka_bootstrap, partnership, referral(queued, [ORG]), clarification(
            queued, wishes=["activity"], interests=["walking"], languages=["ar"]))
        await eventually(lambda: _clarified(api, queued))
        await publish(kafka_bootstrap, partnership, referral(first, [ORG]), clarification(
            first, wishes=["activity"], interests=["walking"]))

        async def proposed(citizen) -> bool:  # noqa: ANN001
            return len(await proposals_of(api, citizen)) == 1
        await eventually(lambda: proposed(first))
        [held] = await proposals_of(api, first)
        assert (await api.post(f"/proposals/{held['proposal_id']}/accept")).status_code == 200
        await publish(kafka_bootstrap, partnership, referral(second, [ORG]), clarification(
            second, wishes=["activity"], interests=["walking"]))
        await eventually(lambda: _clarified(api, second))
        assert await proposals_of(api, second) == []  # the only seat is taken

        # The first walker's journey ends: before issue 15 the accepted match held the seat for good.
        await publish(kafka_bootstrap, partnership, JourneyCompleted(
            journey_id=uuid.uuid4(), citizen_id=first, outcome="completed", days_in_journey=240,
            completed_at=datetime.now(UTC)))
        await eventually(lambda: proposed(second))
        assert [p["status"] for p in await proposals_of(api, first)] == ["ended"]
        [offer] = await proposals_of(api, second)
        assert offer["candidate_id"] == walk
        # One citizen ahead in the queue, one seat free, one seat freed in the last 90 days: the next in line
        # waits for one more seat to free up, at one per 90 days.
        assert offer["estimated_wait_days"] == 90
        events = await read_events(kafka_bootstrap, partnership, want=2 + 1 + 1)
        [sent] = [e for e in of_type(events, MatchProposed) if e.citizen_id == second]
        assert sent.opened.estimated_wait_days == 90


async def _clarified(api, citizen) -> bool:  # noqa: ANN001
    return (await api.get(f"/citizens/{citizen}/candidates", params={"kind": "activity"})).status_code == 200
