"""Notify acts only for citizens whose consent names its organisation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from brobygger_contracts.events.referral import ConsentChanged
from notify_testkit import (
    contact_body, deliveries, guide_assigned, match_proposed, notify_settings, produce, refer, running_notify, settled,
    wait_until,
)


async def _statuses(client, event_id: str) -> list[str]:  # noqa: ANN001
    return [d["status"] for d in await deliveries(client, source_event_id=event_id)]


async def test_messages_wait_for_consent_and_go_only_where_it_names_us(kafka_bootstrap, database_url, smtp_catcher):
    settings = notify_settings(kafka_bootstrap, database_url, smtp_catcher.port)
    p = settings.partnership_id
    late, elsewhere, withdrawn = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with running_notify(settings) as (_runtime, client):
        await client.post("/contacts", json=contact_body("guide-c", "en"))
        for citizen in (late, elsewhere, withdrawn):
            await produce(kafka_bootstrap, guide_assigned(citizen, "guide-c"), p)
        await refer(kafka_bootstrap, p, [elsewhere], orgs=("red-cross",))
        await refer(kafka_bootstrap, p, [withdrawn])
        withdraw = ConsentChanged(citizen_id=withdrawn, consented_orgs=["red-cross"], removed=["varde-kommune"],
                                  changed_at=datetime.now(UTC))
        await produce(kafka_bootstrap, withdraw, p)
        before_referral = await produce(kafka_bootstrap, match_proposed(late), p)
        not_ours = await produce(kafka_bootstrap, match_proposed(elsewhere), p)
        after_withdrawal = await produce(kafka_bootstrap, match_proposed(withdrawn), p)

        # The proposal came before the referral (other topic, other order): it waits for consent.
        await wait_until(lambda: _is(client, before_referral, ["awaiting_recipient"]), what="waiting for consent", timeout=40)
        await wait_until(lambda: _is(client, not_ours, ["cancelled"]), what="refused: consent names red-cross only", timeout=40)
        await wait_until(lambda: _is(client, after_withdrawal, ["cancelled"]), what="refused after withdrawal", timeout=40)
        assert smtp_catcher.messages == []
        await refer(kafka_bootstrap, p, [late])
        [sent] = await settled(client, before_referral)
    assert sent["status"] == "sent"
    assert [m.recipients for m in smtp_catcher.messages] == [["guide-c@varde.example"]]
    assert str(late)[:8] in smtp_catcher.messages[0].subject


async def _is(client, event_id: str, expected: list[str]) -> bool:  # noqa: ANN001
    return await _statuses(client, event_id) == expected
