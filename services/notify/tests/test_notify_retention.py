"""Retention in notify (issue 13): RETENTION_MONTHS_AFTER_EXIT months (12 by default, as in
every service) after a citizen's journey ended (JourneyCompleted), their deliveries lose the
link to them and the masked address, as on erasure; a citizen still on their journey keeps theirs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from brobygger_contracts.events.journey import JourneyCompleted
from notify.adapters.tables import delivery, journey_ended
from notify_testkit import CitizenRegistry, HttpSink, notify_settings, produce, refer, running_notify, wait_until
from test_notify_citizens import _citizen_delivery_settled, accepted

ENDED = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
DETAILS = {"name": "Ingrid", "phone": "+46 70 555 12 34", "email": None, "address": None, "postal_code": "84331",
           "language": "sv"}


async def test_a_citizens_deliveries_forget_them_a_year_after_the_journey_ended(kafka_bootstrap, database_url):
    ended, ongoing = uuid.uuid4(), uuid.uuid4()
    with CitizenRegistry({str(ended): DETAILS, str(ongoing): DETAILS}) as referral, HttpSink() as gateway:
        settings = notify_settings(kafka_bootstrap, database_url, sms_gateway_url=gateway.url,
                                   citizen_contact_url=referral.url)
        async with running_notify(settings) as (runtime, client):
            p = settings.partnership_id
            await refer(kafka_bootstrap, p, [ended, ongoing])
            for citizen in (ended, ongoing):
                await _citizen_delivery_settled(client, await produce(kafka_bootstrap, accepted(citizen), p))
            await produce(kafka_bootstrap, JourneyCompleted(
                journey_id=uuid.uuid4(), citizen_id=ended, outcome="completed", days_in_journey=240, completed_at=ENDED), p)

            async def exit_recorded() -> bool:
                async with runtime.db.sessions() as s:
                    return await s.scalar(sa.select(sa.func.count()).select_from(journey_ended)) == 1

            await wait_until(exit_recorded, what="the journey's end recorded")

            async def addresses() -> dict[str, str | None]:
                async with runtime.db.sessions() as s:
                    rows = (await s.execute(sa.select(delivery.c.recipient_id, delivery.c.masked_address)
                                            .where(delivery.c.recipient_role == "citizen"))).all()
                return {r.recipient_id: r.masked_address for r in rows}

            sweeper = runtime.retention
            sweeper.clock = lambda: datetime(2027, 3, 30, 12, 0, tzinfo=UTC)  # a day short of a year
            assert await sweeper.tick() == 0
            assert await addresses() == {str(ended): "***34", str(ongoing): "***34"}
            sweeper.clock = lambda: datetime(2027, 4, 1, 12, 0, tzinfo=UTC)
            assert await sweeper.tick() == 1
            assert await addresses() == {None: None, str(ongoing): "***34"}
