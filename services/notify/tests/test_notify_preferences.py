"""SMS through a real HTTP gateway, and what recipients want: preferred channel,
opt-out per channel, quiet hours that defer an SMS instead of dropping it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from notify_testkit import (
    HttpSink, contact_body, deliveries, guide_assigned, match_proposed, notify_events, notify_settings, produce,
    refer, running_notify, settled, wait_until,
)


async def _propose(kafka, settings, guide_id: str) -> str:  # noqa: ANN001
    citizen = uuid.uuid4()
    await refer(kafka, settings.partnership_id, [citizen])
    await produce(kafka, guide_assigned(citizen, guide_id), settings.partnership_id)
    return await produce(kafka, match_proposed(citizen), settings.partnership_id)


async def test_sms_by_preference_through_the_gateway_with_retries(kafka_bootstrap, database_url, smtp_catcher):
    with HttpSink(script=[503, 503]) as gateway:
        settings = notify_settings(kafka_bootstrap, database_url, smtp_catcher.port, sms_gateway_url=gateway.url)
        async with running_notify(settings) as (_runtime, client):
            body = contact_body("guide-sms", "da", phone="+45 20 11 22 67", preferred_channel="sms")
            assert (await client.post("/contacts", json=body)).status_code == 201
            event_id = await _propose(kafka_bootstrap, settings, "guide-sms")
            [line] = await settled(client, event_id)
            sent = await notify_events(kafka_bootstrap, settings.partnership_id, 1, event_type="NotificationSent")
    assert line["status"] == "sent" and line["channel"] == "sms" and line["attempts"] == 3
    assert line["masked_address"] == "***67"
    [(headers, sms)] = gateway.accepted
    assert sms["to"] == "+45 20 11 22 67" and sms["sender"] == "Brobygger"
    assert "both enjoy walking" in sms["text"] and sms["text"].startswith("Et forslag")
    assert headers["idempotency-key"] == line["notification_id"] == sms["reference"]
    assert [p["channel"] for _, p in sent] == ["sms"]
    assert smtp_catcher.messages == []


async def test_quiet_hours_defer_an_sms_until_morning(kafka_bootstrap, database_url):
    real_now = datetime.now(UTC)
    offset = timedelta(0)

    def clock() -> datetime:
        return datetime.now(UTC) + offset

    start, end = (real_now - timedelta(hours=1)), (real_now + timedelta(hours=1))
    quiet = f"{start:%H:%M}-{end:%H:%M}"
    with HttpSink() as gateway:
        settings = notify_settings(kafka_bootstrap, database_url, sms_gateway_url=gateway.url)
        async with running_notify(settings, dispatcher_clock=clock) as (runtime, client):
            body = contact_body("guide-night", "sv", email=None, phone="+46 70 123 45 67", quiet_hours=quiet, timezone="UTC")
            assert (await client.post("/contacts", json=body)).status_code == 201
            event_id = await _propose(kafka_bootstrap, settings, "guide-night")

            async def deferred() -> bool:
                log = await deliveries(client, source_event_id=event_id)
                due = log[0]["next_attempt_at"] if log else None
                return due is not None and datetime.fromisoformat(due) > real_now + timedelta(minutes=30)

            await wait_until(deferred, what="the SMS deferred")
            [line] = await deliveries(client, source_event_id=event_id)
            assert line["status"] == "pending" and line["attempts"] == 0
            assert datetime.fromisoformat(line["next_attempt_at"]).strftime("%H:%M") == f"{end:%H:%M}"
            await runtime.dispatcher.dispatch_due()
            assert gateway.accepted == []  # still night: not sent, and not dropped

            offset = timedelta(hours=1, minutes=5)  # morning comes
            [line] = await settled(client, event_id)
    assert line["status"] == "sent"
    [(_, sms)] = gateway.accepted
    assert sms["to"] == "+46 70 123 45 67" and sms["text"].startswith("Ett förslag")


async def test_opt_out_moves_to_another_channel_or_suppresses(kafka_bootstrap, database_url, smtp_catcher):
    with HttpSink() as gateway:
        settings = notify_settings(kafka_bootstrap, database_url, smtp_catcher.port, sms_gateway_url=gateway.url)
        async with running_notify(settings) as (_runtime, client):
            no_mail = contact_body("guide-nomail", "en", phone="+4520000001", opted_out=["email"])
            nothing = contact_body("guide-none", "en", phone="+4520000002", opted_out=["email", "sms"])
            for body in (no_mail, nothing):
                assert (await client.post("/contacts", json=body)).status_code == 201
            to_sms = await _propose(kafka_bootstrap, settings, "guide-nomail")
            to_none = await _propose(kafka_bootstrap, settings, "guide-none")
            [by_sms] = await settled(client, to_sms)
            [suppressed] = await settled(client, to_none)
            sent = await notify_events(kafka_bootstrap, settings.partnership_id, 2, timeout=4)
    assert by_sms["status"] == "sent" and by_sms["channel"] == "sms"
    assert suppressed["status"] == "suppressed" and "opted out" in suppressed["last_error"]
    assert smtp_catcher.messages == []
    assert [h["to"] for h in (s for _, s in gateway.accepted)] == ["+4520000001"]
    assert [p["recipient_id"] for _, p in sent] == ["guide-nomail"]
