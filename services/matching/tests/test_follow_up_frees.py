"""A guide's follow-up reaches matching (issue 15 case 6), on the real broker and PostgreSQL: a match the
follow-up found stopped frees its seat for whoever waits, and `needs_new_proposal` ends the match (and the
friendship it began) so the clarification journey re-sends brings the citizen a new proposal."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from brobygger_contracts.events.journey import FollowUpRecorded
from matching.testing import (
    ORG, activity, clarification, eventually, matching_instance, proposals_of, publish, referral, volunteer,
)


def follow_up(citizen: uuid.UUID, outcome: str, proposal_id: str | None = None, **sealed: str) -> FollowUpRecorded:
    return FollowUpRecorded(journey_id=uuid.uuid4(), citizen_id=citizen, guide_id="anne", outcome=outcome,
                            proposal_id=proposal_id, recorded_at=datetime.now(UTC), **sealed)


async def _statuses(api, citizen) -> list[str]:  # noqa: ANN001
    return [p["status"] for p in await proposals_of(api, citizen)]


async def test_a_stopped_match_frees_its_seat_for_the_next_walker(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        partnership = runtime.settings.partnership_id
        walk = (await api.post("/activities", json=activity(seats=1)))
        assert walk.status_code == 201, walk.text
        first, second = uuid.uuid4(), uuid.uuid4()
        await publish(kafka_bootstrap, partnership, referral(first, [ORG]),
                      clarification(first, wishes=["activity"], interests=["walking"]))

        async def proposed(citizen) -> bool:  # noqa: ANN001
            return "proposed" in await _statuses(api, citizen)
        await eventually(lambda: proposed(first))
        [held] = await proposals_of(api, first)
        assert (await api.post(f"/proposals/{held['proposal_id']}/accept")).status_code == 200
        await publish(kafka_bootstrap, partnership, referral(second, [ORG]),
                      clarification(second, wishes=["activity"], interests=["walking"]))

        async def known(citizen) -> bool:  # noqa: ANN001
            return (await api.get(f"/citizens/{citizen}/candidates", params={"kind": "activity"})).status_code == 200
        await eventually(lambda: known(second))
        assert await proposals_of(api, second) == []  # the one seat is held

        # Still going changes nothing; stopped, naming the match, frees the seat and the next walker gets it.
        await publish(kafka_bootstrap, partnership, follow_up(first, "still_going", held["proposal_id"]),
                      follow_up(first, "stopped", held["proposal_id"], reason="transport"))
        await eventually(lambda: proposed(second))
        assert await _statuses(api, first) == ["ended"]


async def test_needs_new_proposal_ends_the_friendship_and_the_citizen_is_proposed_again(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        partnership = runtime.settings.partnership_id
        best = (await api.post("/volunteers", json=volunteer(interests=["bagning", "gåtur"], capacity=1))).json()
        citizen = uuid.uuid4()
        await publish(kafka_bootstrap, partnership, referral(citizen, [ORG]), clarification(citizen, wishes=["friend"]))

        async def has(status: str) -> bool:
            return status in await _statuses(api, citizen)
        await eventually(lambda: has("proposed"))
        [offer] = await proposals_of(api, citizen)
        assert offer["candidate_id"] == best["volunteer_id"]
        assert (await api.post(f"/proposals/{offer['proposal_id']}/accept")).status_code == 200
        yes = await api.post(f"/proposals/{offer['proposal_id']}/volunteer-answer", json={"answer": "accept"})
        assert yes.status_code == 200, yes.text
        other = (await api.post("/volunteers", json=volunteer(interests=["bagning"], capacity=1))).json()

        # The follow-up: it did not work out. Journey sends the outcome, then the kept clarification again.
        await publish(kafka_bootstrap, partnership, follow_up(citizen, "needs_new_proposal"),
                      clarification(citizen, wishes=["friend"]))

        async def proposed_again() -> bool:
            return any(p["status"] == "proposed" and p["candidate_id"] == other["volunteer_id"]
                       for p in await proposals_of(api, citizen))
        await eventually(proposed_again)
        first = next(p for p in await proposals_of(api, citizen) if p["proposal_id"] == offer["proposal_id"])
        assert first["status"] == "ended"
        [friendship] = (await api.get("/friendships")).json()
        assert friendship["active"] is False and friendship["ended_side"] == "citizen"
