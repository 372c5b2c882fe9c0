"""CitizenErased reaches every copy in matching (issue 13, case 4): the citizen's row
(id included), proposals with their reasons and group places go, and the sealed boxes of
matching's outbox rows about them are stripped; other citizens keep theirs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from brobygger_contracts.events.referral import CitizenErased
from brobygger_stack.outbox_boxes import BOX, outbox_payloads, seal_outbox_rows
from matching.adapters.tables import citizens, proposals
from matching.testing import ORG, clarification, eventually, matching_instance, proposals_of, publish, referral, volunteer


async def test_an_erased_citizen_leaves_no_row_and_no_sealed_box(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        partnership = runtime.settings.partnership_id
        assert (await api.post("/volunteers", json=volunteer(capacity=5))).status_code == 201
        erased, other = uuid.uuid4(), uuid.uuid4()
        for citizen in (erased, other):
            await publish(kafka_bootstrap, partnership, referral(citizen, [ORG]), clarification(citizen, wishes=["friend"]))

        async def both_proposed() -> bool:
            return all([len(await proposals_of(api, c)) == 1 for c in (erased, other)])

        await eventually(both_proposed)
        await seal_outbox_rows(runtime)
        await publish(kafka_bootstrap, partnership, CitizenErased(citizen_id=erased, erased_at=datetime.now(UTC)))

        async def rows_about(citizen: uuid.UUID) -> int:
            async with runtime.db.sessions() as s:
                return sum([await s.scalar(sa.select(sa.func.count()).select_from(t).where(t.c.citizen_id == str(citizen)))
                            for t in (citizens, proposals)])

        async def forgotten() -> bool:
            return await rows_about(erased) == 0

        await eventually(forgotten)
        assert await rows_about(other) == 2
        payloads = await outbox_payloads(runtime)
    about_erased = [p for _k, p in payloads if p.get("citizen_id") == str(erased)]
    about_other = [p for _k, p in payloads if p.get("citizen_id") == str(other)]
    assert about_erased and all(p["sealed"] is None for p in about_erased)
    assert about_other and all(p["sealed"] == BOX for p in about_other)
