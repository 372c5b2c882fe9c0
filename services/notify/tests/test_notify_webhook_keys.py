"""Each receiving organisation may sign-check with a key of its own: a message to one
is not signed with a key another organisation also knows. The key is write-only."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import UTC, datetime

from brobygger_contracts.events.journey import GroupBecameSelfRunning
from notify_testkit import LOCAL_WEBHOOKS, HttpSink, notify_settings, produce, running_notify, wait_until

SERVICE_KEY = "service-wide-key-0001"
ABF_KEY = "abf-own-key-0123456789"


def signed_with(key: str, headers: dict[str, str], body: bytes) -> bool:
    expected = hmac.new(key.encode(), headers["x-brobygger-timestamp"].encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["x-brobygger-signature"], f"sha256={expected}")


def coordinator(recipient_id: str, url: str, **extra) -> dict:  # noqa: ANN003
    return {"recipient_id": recipient_id, "role": "coordinator", "display_name": recipient_id, "language": "sv",
            "webhook_url": url, "preferred_channel": "webhook", **extra}


async def test_a_receiver_with_its_own_key_gets_messages_signed_with_it(kafka_bootstrap, database_url):
    with HttpSink() as abf_hook, HttpSink() as red_cross_hook:
        settings = notify_settings(kafka_bootstrap, database_url, webhook_secret=SERVICE_KEY,
                                   webhook_allowed_hosts=LOCAL_WEBHOOKS)
        async with running_notify(settings) as (_runtime, client):
            created = await client.post("/contacts", json=coordinator("abf", abf_hook.url, webhook_secret=ABF_KEY))
            assert (await client.post("/contacts", json=coordinator("red-cross", red_cross_hook.url))).status_code == 201
            # An update that leaves the key out keeps it (it is never shown, so clients cannot echo it back).
            updated = await client.post("/contacts", json=coordinator("abf", abf_hook.url, display_name="ABF Varde"))
            shown = await client.get("/contacts/abf")
            too_short = await client.post("/contacts", json=coordinator("x", abf_hook.url, webhook_secret="short"))

            await produce(kafka_bootstrap, GroupBecameSelfRunning(
                group_id=uuid.uuid4(), facilitator_id="fac-1", reason="facilitator_decision", meetings_held=4,
                became_self_running_at=datetime.now(UTC)), settings.partnership_id)
            await wait_until(lambda: len(abf_hook.requests) == 1 and len(red_cross_hook.requests) == 1,
                             what="both coordinators' webhooks")

    assert created.status_code == 201 and created.json()["webhook_secret_set"] is True
    assert updated.status_code == 200 and updated.json()["webhook_secret_set"] is True
    assert shown.json()["webhook_secret_set"] is True and ABF_KEY not in shown.text and ABF_KEY not in created.text
    assert too_short.status_code == 422 and too_short.json()["detail"][0]["loc"] == ["body", "webhook_secret"]
    [(abf_headers, abf_body)] = abf_hook.requests
    [(rc_headers, rc_body)] = red_cross_hook.requests
    assert signed_with(ABF_KEY, abf_headers, abf_body) and not signed_with(SERVICE_KEY, abf_headers, abf_body)
    assert signed_with(SERVICE_KEY, rc_headers, rc_body)


async def test_without_any_key_a_webhook_is_refused_not_sent_unsigned(kafka_bootstrap, database_url):
    with HttpSink() as hook:
        settings = notify_settings(kafka_bootstrap, database_url, webhook_allowed_hosts=LOCAL_WEBHOOKS)
        async with running_notify(settings) as (_runtime, client):
            assert (await client.post("/contacts", json=coordinator("abf", hook.url))).status_code == 201
            await produce(kafka_bootstrap, GroupBecameSelfRunning(
                group_id=uuid.uuid4(), facilitator_id="fac-1", reason="facilitator_decision", meetings_held=4,
                became_self_running_at=datetime.now(UTC)), settings.partnership_id)

            async def failed() -> bool:
                log = (await client.get("/deliveries", params={"recipient_id": "abf"})).json()
                return [d["status"] for d in log] == ["failed"]

            await wait_until(failed, what="the unsigned webhook refused")
            [line] = (await client.get("/deliveries", params={"recipient_id": "abf"})).json()
    assert "refusing to send unsigned" in line["last_error"]
    assert hook.requests == []


async def test_a_webhook_moved_to_a_new_address_is_signed_with_a_new_key(kafka_bootstrap, database_url):
    with HttpSink() as old_hook, HttpSink() as new_hook:
        settings = notify_settings(kafka_bootstrap, database_url, webhook_secret=SERVICE_KEY,
                                   webhook_allowed_hosts=LOCAL_WEBHOOKS)
        async with running_notify(settings) as (_runtime, client):
            await client.post("/contacts", json=coordinator("abf", old_hook.url, webhook_secret=ABF_KEY))
            moved = await client.post("/contacts", json=coordinator("abf", new_hook.url))
            await produce(kafka_bootstrap, GroupBecameSelfRunning(
                group_id=uuid.uuid4(), facilitator_id="fac-1", reason="facilitator_decision", meetings_held=4,
                became_self_running_at=datetime.now(UTC)), settings.partnership_id)
            await wait_until(lambda: len(new_hook.requests) == 1, what="the webhook at its new address")
    issued = moved.json()["issued_webhook_secret"]
    [(headers, body)] = new_hook.requests
    assert old_hook.requests == []
    assert signed_with(issued, headers, body)
    assert not signed_with(ABF_KEY, headers, body) and not signed_with(SERVICE_KEY, headers, body)
