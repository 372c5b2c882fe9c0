"""Retention in matching (issue 13): a citizen whose journey ended (JourneyCompleted) is
kept RETENTION_MONTHS_AFTER_EXIT months (12 by default, as in every service), then their
row, proposals and group places go; a citizen still on their journey stays."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from brobygger_contracts.events.journey import JourneyCompleted
from matching.adapters.tables import citizens, proposals
from matching.testing import ORG, clarification, eventually, matching_instance, proposals_of, publish, referral, volunteer

ENDED = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)


async def test_a_citizen_leaves_matching_a_year_after_the_journey_ended(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        partnership = runtime.settings.partnership_id
        assert (await api.post("/volunteers", json=volunteer(capacity=5))).status_code == 201
        ended, ongoing = uuid.uuid4(), uuid.uuid4()
        for citizen in (ended, ongoing):
            await publish(kafka_bootstrap, partnership, referral(citizen, [ORG]), clarification(citizen, wishes=["friend"]))

        async def both_proposed() -> bool:
            return all([len(await proposals_of(api, c)) == 1 for c in (ended, ongoing)])

        await eventually(both_proposed)
        await publish(kafka_bootstrap, partnership, JourneyCompleted(
            journey_id=uuid.uuid4(), citizen_id=ended, outcome="completed", days_in_journey=240, completed_at=ENDED))

        async def rows(citizen: uuid.UUID) -> int:
            async with runtime.db.sessions() as s:
                return sum([await s.scalar(sa.select(sa.func.count()).select_from(t).where(t.c.citizen_id == str(citizen)))
                            for t in (citizens, proposals)])

        async def exit_recorded() -> bool:
            async with runtime.db.sessions() as s:
                return await s.scalar(sa.select(citizens.c.journey_ended_at).where(citizens.c.citizen_id == str(ended))) is not None

        await eventually(exit_recorded)
        sweeper = runtime.retention
        sweeper.clock = lambda: datetime(2027, 3, 30, 12, 0, tzinfo=UTC)  # a day short of a year
        assert await sweeper.tick() == 0 and await rows(ended) >= 1
        sweeper.clock = lambda: datetime(2027, 4, 1, 12, 0, tzinfo=UTC)
        assert await sweeper.tick() == 1
        assert await rows(ended) == 0
        assert await rows(ongoing) == 2  # still on the journey: kept
