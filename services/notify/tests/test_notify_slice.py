"""The slice against the real broker, PostgreSQL and SMTP catcher: a proposal
reaches the citizen's guide by e-mail, once, in the guide's language."""

from __future__ import annotations

import uuid

from notify_testkit import (
    citizen_of_guide, contact_body, guide_assigned, match_proposed, notify_events, notify_settings, produce, refer, running_notify,
    wait_until,
)


async def test_contact_directory_stores_and_validates(kafka_bootstrap, database_url):
    settings = notify_settings(kafka_bootstrap, database_url)
    async with running_notify(settings) as (_runtime, client):
        created = await client.post("/contacts", json=contact_body("guide-7", "sv", phone="+46 70 123 45 67"))
        assert created.status_code == 201
        again = await client.post("/contacts", json=contact_body("guide-7", "en"))
        assert again.status_code == 200
        got = await client.get("/contacts/guide-7")
        assert got.status_code == 200
        assert got.json()["language"] == "en" and got.json()["email"] == "guide-7@varde.example"
        assert (await client.get("/contacts/nobody")).status_code == 404
        bad = await client.post("/contacts", json=contact_body("guide-8", "de"))
        assert bad.status_code == 422
        assert "language" in str(bad.json()["detail"][0]["loc"])
        bad_mail = await client.post("/contacts", json=contact_body("guide-8", email="not-an-address"))
        assert bad_mail.status_code == 422 and "email" in str(bad_mail.json()["detail"][0]["loc"])


async def test_match_proposed_mails_the_guide_once_in_their_language(kafka_bootstrap, database_url, smtp_catcher):
    await _mail_the_guide_once(kafka_bootstrap, database_url, smtp_catcher)


async def test_the_slice_works_on_the_embedded_stacks_sqlite_too(kafka_bootstrap, smtp_catcher, tmp_path):
    await _mail_the_guide_once(kafka_bootstrap, f"sqlite+aiosqlite:///{tmp_path}/notify.db", smtp_catcher)


async def _mail_the_guide_once(kafka_bootstrap, database_url, smtp_catcher) -> None:  # noqa: ANN001
    settings = notify_settings(kafka_bootstrap, database_url, smtp_catcher.port)
    partnership = settings.partnership_id
    async with running_notify(settings) as (_runtime, client):
        citizen = await citizen_of_guide(kafka_bootstrap, partnership, client, "guide-sv", "sv")
        proposal = match_proposed(citizen)
        event_id = await produce(kafka_bootstrap, proposal, partnership)
        await wait_until(lambda: len(smtp_catcher.messages) >= 1, what="the e-mail")

        # The same event again (a redelivery or a replay): no second e-mail.
        await produce(kafka_bootstrap, proposal, partnership, event_id=event_id)
        sent = await notify_events(kafka_bootstrap, partnership, want=1, event_type="NotificationSent")
        await wait_until(lambda: _runtime.metrics.inbox_duplicates.labels(proposal.event_type())._value.get() >= 1,
                         what="the redelivery handled")
        await _runtime.dispatcher.dispatch_due()

        mails = smtp_catcher.messages
        assert len(mails) == 1
        mail = mails[0]
        assert mail.recipients == ["guide-sv@varde.example"]
        assert "förslag" in mail.subject and "Gåfællesskab Varde" in mail.subject
        for reason in proposal.opened.reasons:
            assert reason in mail.body
        assert "82 av 100" in mail.body and "Hej Hanne Jensen" in mail.body
        assert mail.message["Message-ID"].endswith("@varde.example>")

        assert len(sent) == 1
        headers, payload = sent[0]
        assert payload["source_event_id"] == event_id
        assert payload["recipient_id"] == "guide-sv" and payload["channel"] == "email"
        assert payload["language"] == "sv" and payload["template"] == "match_proposed"
        assert mail.message["Message-ID"] == f"<{payload['notification_id']}@varde.example>"
        assert headers["ce_subject"] == payload["notification_id"]

        log = (await client.get("/deliveries", params={"source_event_id": event_id})).json()
        assert len(log) == 1
        assert log[0]["status"] == "sent" and log[0]["masked_address"] == "g***@varde.example"
        assert "guide-sv@" not in str(log)


async def test_delivery_waits_for_the_guide_and_their_contact(kafka_bootstrap, database_url, smtp_catcher):
    settings = notify_settings(kafka_bootstrap, database_url, smtp_catcher.port)
    partnership = settings.partnership_id
    citizen = uuid.uuid4()
    async with running_notify(settings) as (runtime, client):
        await refer(kafka_bootstrap, partnership, [citizen])
        event_id = await produce(kafka_bootstrap, match_proposed(citizen, kind="volunteer_friend", candidate_name=None), partnership)

        async def status() -> list[str]:
            log = (await client.get("/deliveries", params={"source_event_id": event_id})).json()
            return [(d["status"], d["recipient_id"]) for d in log]

        await wait_until(lambda: _eq(status(), [("awaiting_recipient", None)]), what="a waiting delivery")
        await produce(kafka_bootstrap, guide_assigned(citizen, "guide-late"), partnership)
        await wait_until(lambda: _eq(status(), [("awaiting_recipient", "guide-late")]), what="the guide known")
        assert smtp_catcher.messages == []

        assert (await client.post("/contacts", json=contact_body("guide-late", "en"))).status_code == 201
        await wait_until(lambda: len(smtp_catcher.messages) == 1, what="the e-mail after the contact arrived")
        mail = smtp_catcher.messages[0]
        assert mail.subject.startswith("A suggestion for citizen") and "volunteer friend" in mail.subject
        await wait_until(lambda: _eq(status(), [("sent", "guide-late")]), what="marked sent")


async def _eq(awaitable, expected) -> bool:  # noqa: ANN001
    return (await awaitable) == expected
