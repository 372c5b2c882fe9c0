"""Retries with back-off against SMTP servers that refuse, failures told as
NotificationFailed (and to an operator), and crash leftovers never resent."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import uuid
from datetime import UTC, datetime

from brobygger_contracts.sealed import readable
from notify.adapters import repository as repo
from notify.domain.model import Channel, Contact, new_notification_id
from notify_testkit import (
    LOCAL_WEBHOOKS, HttpSink, ScriptedSmtp, contact_body, deliveries, guide_assigned, match_proposed, notify_events,
    notify_settings, produce, refer, running_notify, settled, wait_until,
)


async def _proposal_for_new_guide(kafka, settings, client, guide_id="guide-r", **contact):  # noqa: ANN001, ANN003
    citizen = uuid.uuid4()
    assert (await client.post("/contacts", json=contact_body(guide_id, "da", **contact))).status_code == 201
    await refer(kafka, settings.partnership_id, [citizen])
    await produce(kafka, guide_assigned(citizen, guide_id), settings.partnership_id)
    return await produce(kafka, match_proposed(citizen), settings.partnership_id)


async def test_smtp_refusals_are_retried_then_the_mail_goes_out_once(kafka_bootstrap, database_url):
    with ScriptedSmtp(refusals=2) as smtp:
        settings = notify_settings(kafka_bootstrap, database_url, smtp.port, delivery_max_attempts=4)
        async with running_notify(settings) as (_runtime, client):
            event_id = await _proposal_for_new_guide(kafka_bootstrap, settings, client)
            [line] = await settled(client, event_id)
            metrics = (await client.get("/metrics")).text
        assert line["status"] == "sent" and line["attempts"] == 3
        assert 'brobygger_notify_messages_total{channel="email",outcome="retry"} 2.0' in metrics
        assert smtp.refused == 2 and len(smtp.accepted) == 1
        sent = await notify_events(kafka_bootstrap, settings.partnership_id, 1, event_type="NotificationSent")
        assert [p["source_event_id"] for _, p in sent] == [event_id]


async def test_smtp_that_keeps_refusing_ends_in_notification_failed_and_an_operator_alert(kafka_bootstrap, database_url):
    secret = "s3cret"
    with ScriptedSmtp(refusals=None) as smtp, HttpSink() as operator_hook:
        settings = notify_settings(kafka_bootstrap, database_url, smtp.port, delivery_max_attempts=3, webhook_secret=secret,
                                   webhook_allowed_hosts=LOCAL_WEBHOOKS)
        async with running_notify(settings) as (_runtime, client):
            ops = {"recipient_id": "ops-1", "role": "operator", "display_name": "Drift", "language": "en",
                   "webhook_url": operator_hook.url, "preferred_channel": "webhook"}
            assert (await client.post("/contacts", json=ops)).status_code == 201
            event_id = await _proposal_for_new_guide(kafka_bootstrap, settings, client)
            [line] = await settled(client, event_id)
            assert line["status"] == "failed" and line["attempts"] == 3 and "451" in line["last_error"]
            failed = await notify_events(kafka_bootstrap, settings.partnership_id, 1, event_type="NotificationFailed")
            await wait_until(lambda: len(operator_hook.accepted) == 1, what="the operator's webhook")
        assert smtp.refused == 3 and smtp.accepted == []
        [(_, payload)] = failed
        assert payload["source_event_id"] == event_id and payload["attempts"] == 3
        assert "451" in payload["cause"] and payload["channel"] == "email"

        headers, alert = operator_hook.accepted[0]
        body = operator_hook.requests[0][1]
        expected = hmac.new(secret.encode(), headers["x-brobygger-timestamp"].encode() + b"." + body, hashlib.sha256).hexdigest()
        assert headers["x-brobygger-signature"] == f"sha256={expected}"
        assert alert["template"] == "notification_failed" and payload["notification_id"] in alert["text"]


async def test_a_delivery_left_sending_by_a_crash_is_reported_uncertain_not_resent(kafka_bootstrap, database_url, smtp_catcher):
    settings = notify_settings(kafka_bootstrap, database_url, smtp_catcher.port)
    key = str(new_notification_id())
    async with running_notify(settings) as (runtime, client):
        async with runtime.db.transaction() as session:
            await repo.save_contact(session, Contact(recipient_id="guide-c", role="guide", display_name="C",
                                                     email="c@varde.example"))
            seq = await repo.add_delivery(
                session, source_event_id="ev-crashed", source_event_type="MatchProposed", rule_id="r",
                template="match_proposed", recipient_role="guide", recipient_id="guide-c", citizen_id=None,
                allowed_channels="email", notification_id=key,
                variables=readable(match_proposed(uuid.uuid4())),
            )
            await repo.update_delivery(session, seq, status="sending", channel="email", language="da", attempts=1,
                                       next_attempt_at=datetime.now(UTC))
        # The dispatcher took its lease at start; a fresh one (as after a restart) takes stock.
        await runtime.dispatcher.recover_interrupted()
        [line] = await deliveries(client, source_event_id="ev-crashed")
        failed = await notify_events(kafka_bootstrap, settings.partnership_id, 1, event_type="NotificationFailed")
        await runtime.dispatcher.dispatch_due()
        assert smtp_catcher.messages == []  # never resent by itself

        # An operator decides to send it again: same Message-ID, so a receiver can drop a repeat.
        resent = await client.post(f"/deliveries/{key}/resend")
        assert resent.status_code == 200 and resent.json()["attempts"] == 0
        [after] = await settled(client, "ev-crashed")
        assert (await client.post(f"/deliveries/{key}/resend")).status_code == 409
        assert (await client.post(f"/deliveries/{uuid.uuid4()}/resend")).status_code == 404
        metrics = (await client.get("/metrics")).text
    assert line["status"] == "uncertain" and line["last_error"] == "delivery uncertain after crash"
    assert [p["cause"] for _, p in failed] == ["delivery uncertain after crash"], failed
    assert after["status"] == "sent" and after["attempts"] == 1
    [mail] = smtp_catcher.messages
    assert mail.message["Message-ID"] == f"<{key}@varde.example>"
    assert 'brobygger_notify_messages_total{channel="email",outcome="sent"} 1.0' in metrics
    assert 'brobygger_notify_deliveries{status="sent"} 1.0' in metrics


async def test_a_conversation_that_breaks_off_mid_message_is_uncertain_and_not_retried(kafka_bootstrap, database_url):
    with ScriptedSmtp(delay=1.5) as smtp:  # answers only after the client gave up: did it arrive? nobody knows
        settings = notify_settings(kafka_bootstrap, database_url, smtp.port, smtp_timeout_seconds=0.5)
        async with running_notify(settings) as (_runtime, client):
            event_id = await _proposal_for_new_guide(kafka_bootstrap, settings, client)
            [line] = await settled(client, event_id)
            await asyncio.sleep(2.0)
    assert line["status"] == "uncertain" and line["attempts"] == 1
    assert line["last_error"].startswith("delivery uncertain: SMTP conversation broke off")
    assert smtp.received == 1  # handed over once, never again


async def test_the_circuit_breaker_rests_a_failing_channel(kafka_bootstrap, database_url):
    with ScriptedSmtp(refusals=None) as smtp:
        settings = notify_settings(kafka_bootstrap, database_url, smtp.port, delivery_max_attempts=20,
                                   breaker_failure_threshold=2, breaker_cooldown_seconds=1.0)
        async with running_notify(settings) as (runtime, client):
            for guide in ("guide-b1", "guide-b2"):
                await _proposal_for_new_guide(kafka_bootstrap, settings, client, guide_id=guide)
            await wait_until(lambda: smtp.refused >= 2, what="two refusals")
            await asyncio.sleep(0.5)
            assert smtp.refused == 2  # open: no more tries while it rests
            assert runtime.dispatcher.breakers[Channel.email].is_open
            assert 'brobygger_notify_circuit_open{channel="email"} 1.0' in (await client.get("/metrics")).text
            await wait_until(lambda: smtp.refused >= 3, what="a trial after the cooldown")
            await asyncio.sleep(1.5)
            log = await deliveries(client)
    # Without the breaker, 2 deliveries with 50-200 ms back-off would have tried ~20 times by now.
    assert smtp.refused <= 5
    assert {d["status"] for d in log} == {"pending"}
