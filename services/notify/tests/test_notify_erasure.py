"""CitizenErased: notify forgets who guided the citizen and every delivery's link to them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from brobygger_contracts.events.referral import CitizenErased
from notify.adapters.tables import citizen_guide, delivery
from notify_testkit import (
    contact_body, deliveries, guide_assigned, match_proposed, notify_settings, produce, refer, running_notify, settled,
    wait_until,
)


async def test_erasure_cuts_the_links_and_cancels_what_waits(kafka_bootstrap, database_url, smtp_catcher):
    settings = notify_settings(kafka_bootstrap, database_url, smtp_catcher.port)
    p = settings.partnership_id
    told, waiting, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with running_notify(settings) as (runtime, client):
        await client.post("/contacts", json=contact_body("guide-e", "da"))
        await refer(kafka_bootstrap, p, [told, waiting, other])
        await produce(kafka_bootstrap, guide_assigned(told, "guide-e"), p)
        await produce(kafka_bootstrap, guide_assigned(other, "guide-e"), p)
        sent_about_told = await produce(kafka_bootstrap, match_proposed(told), p)
        sent_about_other = await produce(kafka_bootstrap, match_proposed(other), p)
        waits = await produce(kafka_bootstrap, match_proposed(waiting), p)
        await settled(client, sent_about_told)
        await settled(client, sent_about_other)
        await wait_until(lambda: _status(client, waits, "awaiting_recipient"), what="a delivery waiting for a guide")

        for citizen in (told, waiting):
            await produce(kafka_bootstrap, CitizenErased(citizen_id=citizen, erased_at=datetime.now(UTC)), p)
        await wait_until(lambda: _status(client, waits, "cancelled"), what="the waiting delivery cancelled")
        # A late assignment for the erased citizen must not bring the message back.
        await produce(kafka_bootstrap, guide_assigned(waiting, "guide-e"), p)
        await produce(kafka_bootstrap, match_proposed(other), p)  # a marker behind it on the same topic order
        await wait_until(lambda: len(smtp_catcher.messages) == 3, what="the marker's e-mail")

        async with runtime.db.sessions() as s:
            links = (await s.execute(sa.select(delivery.c.citizen_id, delivery.c.variables, delivery.c.source_event_id))).all()
            guides = set((await s.execute(sa.select(citizen_guide.c.citizen_id))).scalars())
        log_told = await deliveries(client, source_event_id=sent_about_told)

    erased = {str(told), str(waiting)}
    assert not erased & {row.citizen_id for row in links}
    assert all(row.variables is None for row in links if row.source_event_id in (sent_about_told, waits))
    assert any(row.citizen_id == str(other) and row.variables for row in links)
    assert guides == {str(other)}  # a late GuideAssigned does not link the erased citizen again
    assert log_told[0]["status"] == "sent" and log_told[0]["recipient_id"] == "guide-e"
    assert [m.recipients for m in smtp_catcher.messages].count(["guide-e@varde.example"]) == 3


async def _status(client, event_id: str, status: str) -> bool:  # noqa: ANN001
    return [d["status"] for d in await deliveries(client, source_event_id=event_id)] == [status]
