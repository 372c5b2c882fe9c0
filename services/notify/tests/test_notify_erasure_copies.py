"""What notify keeps must lead to no one after an erasure (issue 13, case 4): a delivery's
id is not derived from its recipient (who may be the citizen), and a failure is stored and
published as its code, never as the server's words (which may echo the address)."""

from __future__ import annotations

import uuid

from notify_testkit import (
    ScriptedSmtp, contact_body, guide_assigned, match_proposed, notify_events, notify_settings, produce, refer,
    running_notify, settled,
)

# The namespace notify once derived ids in: uuid5(event|recipient|channel).
_OLD_NAMESPACE = uuid.UUID("6c1f0b7e-2f5a-4d0e-9a51-4b7d1f0c9e21")


async def _proposal(kafka: str, settings, client, guide: str) -> str:  # noqa: ANN001
    citizen = uuid.uuid4()
    assert (await client.post("/contacts", json=contact_body(guide, "da"))).status_code == 201
    await refer(kafka, settings.partnership_id, [citizen])
    await produce(kafka, guide_assigned(citizen, guide), settings.partnership_id)
    return await produce(kafka, match_proposed(citizen), settings.partnership_id)


async def test_a_refusal_echoing_the_address_is_kept_as_its_code_and_the_id_is_random(kafka_bootstrap, database_url):
    refusal = "451 4.7.1 <guide-x@varde.example>: mailbox of Gudrun busy, message 'Ny borger til dig' deferred"
    with ScriptedSmtp(refusals=None, refusal=refusal) as smtp:
        settings = notify_settings(kafka_bootstrap, database_url, smtp.port, delivery_max_attempts=2)
        async with running_notify(settings) as (_runtime, client):
            event_id = await _proposal(kafka_bootstrap, settings, client, "guide-x")
            [line] = await settled(client, event_id)
            [(_, failed)] = await notify_events(kafka_bootstrap, settings.partnership_id, 1, event_type="NotificationFailed")
    assert line["status"] == "failed" and line["last_error"] == "SMTP 451"
    assert failed["cause"] == "SMTP 451"
    assert line["notification_id"] != str(uuid.uuid5(_OLD_NAMESPACE, f"{event_id}|guide-x|email"))
    assert uuid.UUID(line["notification_id"]).version == 4
