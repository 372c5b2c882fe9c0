"""The days-before reminder of a booked first visit: held until its moment, replaced
by a new booking, never sent once the visit has begun; to the companion and the citizen."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from brobygger_contracts.events.journey import FirstVisitPlanned
from notify_testkit import (
    CitizenRegistry, HttpSink, contact_body, deliveries, notify_events, notify_settings, produce, refer,
    running_notify, settled, wait_until,
)

LEAD = timedelta(hours=24)  # remind_before in the bundled rules


def planned(citizen: uuid.UUID, visit_at: datetime, companion: str | None = "volunteer",
            companion_id: str | None = "vol-12") -> FirstVisitPlanned:
    return FirstVisitPlanned(journey_id=uuid.uuid4(), citizen_id=citizen, visit_at=visit_at, companion=companion,
                             companion_id=companion_id, planned_at=datetime.now(UTC))


class MovableClock:
    """The dispatcher's clock: real time plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


async def _pending(client, event_id: str) -> dict:  # noqa: ANN001
    async def ready() -> bool:
        return [d["status"] for d in await deliveries(client, source_event_id=event_id)] == ["pending"]

    await wait_until(ready, what=f"the reminder of {event_id} pending")
    return (await deliveries(client, source_event_id=event_id))[0]


async def test_the_companion_is_reminded_a_day_before_not_at_booking(kafka_bootstrap, database_url, smtp_catcher):
    clock = MovableClock()
    settings = notify_settings(kafka_bootstrap, database_url, smtp_catcher.port)
    async with running_notify(settings, dispatcher_clock=clock) as (runtime, client):
        body = contact_body("vol-12", "da", role="volunteer", timezone="Europe/Copenhagen")
        assert (await client.post("/contacts", json=body)).status_code == 201
        citizen = uuid.uuid4()
        await refer(kafka_bootstrap, settings.partnership_id, [citizen])
        visit_at = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
        event_id = await produce(kafka_bootstrap, planned(citizen, visit_at), settings.partnership_id)

        line = await _pending(client, event_id)
        assert datetime.fromisoformat(line["next_attempt_at"]) == visit_at - LEAD
        assert datetime.fromisoformat(line["send_after"]) == visit_at - LEAD
        assert datetime.fromisoformat(line["expires_at"]) == visit_at
        await runtime.dispatcher.dispatch_due()
        assert smtp_catcher.messages == []  # two days early: held, not sent

        clock.offset = timedelta(days=2, minutes=1)  # the day before the visit
        runtime.dispatcher.wake()
        [line] = await settled(client, event_id)
        sent = await notify_events(kafka_bootstrap, settings.partnership_id, 1, event_type="NotificationSent")
    assert line["status"] == "sent" and line["channel"] == "email" and line["recipient_role"] == "volunteer"
    [message] = smtp_catcher.messages
    assert message.recipients == ["vol-12@varde.example"]
    assert message.subject.startswith("Påmindelse: første besøg med borger")
    local = visit_at.astimezone(ZoneInfo("Europe/Copenhagen"))
    assert f"den {local.day}. " in message.body and f"kl. {local:%H.%M}" in message.body
    assert [p["template"] for _, p in sent] == ["first_visit_reminder_companion"]


async def test_a_new_booking_replaces_the_unsent_reminder(kafka_bootstrap, database_url, smtp_catcher):
    settings = notify_settings(kafka_bootstrap, database_url, smtp_catcher.port)
    async with running_notify(settings) as (_runtime, client):
        assert (await client.post("/contacts", json=contact_body("vol-12", "en", role="volunteer"))).status_code == 201
        citizen = uuid.uuid4()
        await refer(kafka_bootstrap, settings.partnership_id, [citizen])
        first_time = datetime.now(UTC).replace(microsecond=0) + timedelta(days=4)
        first = await produce(kafka_bootstrap, planned(citizen, first_time), settings.partnership_id)
        await _pending(client, first)
        second_time = first_time + timedelta(days=7)
        second = await produce(kafka_bootstrap, planned(citizen, second_time), settings.partnership_id)
        line = await _pending(client, second)
        [old] = await deliveries(client, source_event_id=first)
    assert old["status"] == "cancelled" and old["last_error"] == "replaced by a newer booking"
    assert datetime.fromisoformat(line["next_attempt_at"]) == second_time - LEAD
    assert smtp_catcher.messages == []


async def test_a_visit_within_the_lead_time_is_reminded_at_once_and_a_past_one_never(kafka_bootstrap, database_url, smtp_catcher):
    settings = notify_settings(kafka_bootstrap, database_url, smtp_catcher.port)
    async with running_notify(settings) as (_runtime, client):
        assert (await client.post("/contacts", json=contact_body("guide-7", "sv"))).status_code == 201
        soon, past = uuid.uuid4(), uuid.uuid4()
        await refer(kafka_bootstrap, settings.partnership_id, [soon, past])
        now = datetime.now(UTC)
        tomorrow = await produce(kafka_bootstrap, planned(soon, now + timedelta(hours=5), "guide", "guide-7"), settings.partnership_id)
        gone = await produce(kafka_bootstrap, planned(past, now - timedelta(hours=1), "guide", "guide-7"), settings.partnership_id)
        [sent] = await settled(client, tomorrow)
        [skipped] = await settled(client, gone)
    assert sent["status"] == "sent" and sent["recipient_role"] == "guide"
    assert skipped["status"] == "cancelled" and skipped["last_error"].startswith("too late")
    [message] = smtp_catcher.messages
    assert message.subject.startswith("Påminnelse: första besöket")


async def test_a_reminder_held_past_the_visit_is_dropped_not_sent(kafka_bootstrap, database_url, smtp_catcher):
    clock = MovableClock()
    settings = notify_settings(kafka_bootstrap, database_url, smtp_catcher.port)
    async with running_notify(settings, dispatcher_clock=clock) as (runtime, client):
        assert (await client.post("/contacts", json=contact_body("vol-12", "da", role="volunteer"))).status_code == 201
        citizen = uuid.uuid4()
        await refer(kafka_bootstrap, settings.partnership_id, [citizen])
        event_id = await produce(kafka_bootstrap, planned(citizen, datetime.now(UTC) + timedelta(days=2)), settings.partnership_id)
        await _pending(client, event_id)
        clock.offset = timedelta(days=2, hours=1)  # the service was down until after the visit
        runtime.dispatcher.wake()
        [line] = await settled(client, event_id)
    assert line["status"] == "cancelled" and line["last_error"].startswith("too late")
    assert smtp_catcher.messages == []


async def test_the_citizen_gets_the_reminder_by_sms_in_their_language(kafka_bootstrap, database_url):
    citizen = uuid.uuid4()
    details = {"name": "Lillemor", "phone": "+45 20 30 40 50", "email": None, "address": None,
               "postal_code": "6800", "language": "da"}
    with CitizenRegistry({str(citizen): details}) as referral, HttpSink() as gateway:
        settings = notify_settings(kafka_bootstrap, database_url, sms_gateway_url=gateway.url,
                                   citizen_contact_url=referral.url)
        async with running_notify(settings) as (_runtime, client):
            await refer(kafka_bootstrap, settings.partnership_id, [citizen])
            visit_at = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
            event_id = await produce(kafka_bootstrap, planned(citizen, visit_at, companion=None, companion_id=None),
                                     settings.partnership_id)
            [line] = await settled(client, event_id)
    assert line["status"] == "sent" and line["recipient_role"] == "citizen" and line["channel"] == "sms"
    [(_, sms)] = gateway.accepted
    assert sms["to"] == "+45 20 30 40 50"
    assert sms["text"].startswith("Påmindelse om dit første besøg") and "Kære Lillemor" in sms["text"]
    assert "går med dig" not in sms["text"]  # nobody goes along this time
