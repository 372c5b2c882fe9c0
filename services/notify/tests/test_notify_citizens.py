"""Citizens' contact details stay with referral: notify asks at send time and
keeps only a masked address; a refusal (no consent) is a failure, told."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from brobygger_contracts.events.matching import MatchAccepted
from notify_testkit import (
    CitizenRegistry, HttpSink, deliveries, notify_events, notify_settings, produce, refer, running_notify,
    service_token_claims, wait_until,
)


async def _citizen_delivery_settled(client, event_id: str) -> dict:  # noqa: ANN001
    """The guide's delivery waits for a guide here; the citizen's is what is watched."""
    async def settled() -> bool:
        log = await deliveries(client, source_event_id=event_id)
        return [d["status"] in ("sent", "failed") for d in log if d["recipient_role"] == "citizen"] == [True]

    await wait_until(settled, what=f"the citizen's delivery of {event_id}")
    return [d for d in await deliveries(client, source_event_id=event_id) if d["recipient_role"] == "citizen"][0]


def accepted(citizen: uuid.UUID) -> MatchAccepted:
    return MatchAccepted(proposal_id=uuid.uuid4(), citizen_id=citizen, kind="volunteer_friend",
                         candidate_id=uuid.uuid4(), accepted_at=datetime.now(UTC))


async def test_a_citizen_is_told_by_sms_with_details_asked_of_referral(kafka_bootstrap, database_url):
    known, refused = uuid.uuid4(), uuid.uuid4()
    details = {"name": "Ingrid", "phone": "+46 70 555 12 34", "email": None, "address": None,
               "postal_code": "84331", "language": "sv"}
    with CitizenRegistry({str(known): details}) as referral, HttpSink() as gateway:
        settings = notify_settings(kafka_bootstrap, database_url, sms_gateway_url=gateway.url,
                                   citizen_contact_url=referral.url)
        async with running_notify(settings) as (runtime, client):
            await refer(kafka_bootstrap, settings.partnership_id, [known, refused])
            told = await produce(kafka_bootstrap, accepted(known), settings.partnership_id)
            not_told = await produce(kafka_bootstrap, accepted(refused), settings.partnership_id)
            ok = await _citizen_delivery_settled(client, told)
            no = await _citizen_delivery_settled(client, not_told)
            failed = await notify_events(kafka_bootstrap, settings.partnership_id, 1, event_type="NotificationFailed")
            async with runtime.db.sessions() as s:
                from notify.adapters.tables import contact

                stored = (await s.execute(contact.select())).all()

    assert ok["status"] == "sent" and ok["channel"] == "sms" and ok["language"] == "sv"
    assert ok["masked_address"] == "***34" and ok["recipient_id"] == str(known)
    [(_, sms)] = gateway.accepted
    assert sms["to"] == "+46 70 555 12 34" and sms["text"].startswith("Du har fått en vänvolontär") and "Hej Ingrid" in sms["text"]
    assert no["status"] == "failed" and "no consent" in no["last_error"]
    assert [p["recipient_id"] for _, p in failed] == [str(refused)]
    [authorization] = {a for some_id, a in referral.asked if some_id == str(known)}
    claims = service_token_claims(authorization)  # notify's own client-credentials token, role `service`
    assert claims["roles"] == ["service"] and claims.get("azp", claims.get("client_id")) == "brobygger-notify"
    assert stored == []  # nothing of the citizen's details kept in notify's directory


async def test_without_referral_configured_citizen_rules_stay_silent(kafka_bootstrap, database_url):
    settings = notify_settings(kafka_bootstrap, database_url)
    async with running_notify(settings) as (runtime, client):
        event_id = await produce(kafka_bootstrap, accepted(uuid.uuid4()), settings.partnership_id)
        handled = runtime.metrics.events_consumed.labels(MatchAccepted.event_type(), "handled")
        await wait_until(lambda: handled._value.get() == 1, what="the event handled")
        log = await deliveries(client, source_event_id=event_id)
    assert sorted(d["recipient_role"] for d in log) == ["guide", "volunteer"]  # waiting; but none to the citizen
