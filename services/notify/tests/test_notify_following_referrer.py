"""A referring person who asked to follow the citizen hears each milestone; their
details are asked of referral at send time, and erasure cuts the link to them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from brobygger_contracts.events.journey import JourneyStateChanged
from brobygger_contracts.events.referral import CitizenErased, ReferralReceived
from notify_testkit import (
    CitizenRegistry, deliveries, notify_settings, produce, running_notify, service_token_claims, settled, wait_until,
)


def referred(citizen: uuid.UUID, referral: uuid.UUID, follows: bool) -> ReferralReceived:
    return ReferralReceived(referral_id=referral, citizen_id=citizen, source="relative", postal_code="6800",
                            age_band="75-84", consented_orgs=["varde-kommune"], referrer_follows=follows,
                            received_at=datetime.now(UTC))


async def referral_known(runtime, count: int) -> None:  # noqa: ANN001
    """Referrals come weeks before milestones in life; here the test waits for them (another topic)."""
    handled = runtime.metrics.events_consumed.labels(ReferralReceived.event_type(), "handled")
    await wait_until(lambda: handled._value.get() == count, what="the referrals known")


def contacted(citizen: uuid.UUID) -> JourneyStateChanged:
    return JourneyStateChanged(journey_id=uuid.uuid4(), citizen_id=citizen, step="contact", from_state="referred",
                               to_state="contacted", changed_at=datetime.now(UTC))


async def test_the_following_relative_hears_the_first_contact_in_their_language(kafka_bootstrap, database_url, smtp_catcher):
    follower, quiet = uuid.uuid4(), uuid.uuid4()
    referral = uuid.uuid4()
    karen = {"name": "Karen Hansen", "email": "karen@example.dk", "phone": None, "language": "en"}
    with CitizenRegistry({}, referrers={str(referral): karen}) as referral_api:
        settings = notify_settings(kafka_bootstrap, database_url, smtp_catcher.port,
                                   citizen_contact_url=referral_api.url)
        p = settings.partnership_id
        async with running_notify(settings) as (runtime, client):
            await produce(kafka_bootstrap, referred(follower, referral, follows=True), p)
            await produce(kafka_bootstrap, referred(quiet, uuid.uuid4(), follows=False), p)
            await referral_known(runtime, 2)
            told = await produce(kafka_bootstrap, contacted(follower), p)
            not_told = await produce(kafka_bootstrap, contacted(quiet), p)
            [line] = await settled(client, told)
            handled = runtime.metrics.events_consumed.labels(JourneyStateChanged.event_type(), "handled")
            await wait_until(lambda: handled._value.get() == 2, what="both milestones handled")
            assert await deliveries(client, source_event_id=not_told) == []

            await produce(kafka_bootstrap, CitizenErased(citizen_id=follower, erased_at=datetime.now(UTC)), p)
            erased = runtime.metrics.events_consumed.labels(CitizenErased.event_type(), "handled")
            await wait_until(lambda: erased._value.get() == 1, what="the erasure handled")
            [after] = await deliveries(client, source_event_id=told)

    assert line["status"] == "sent" and line["recipient_role"] == "referrer" and line["channel"] == "email"
    assert line["recipient_id"] == f"referral:{referral}" and line["masked_address"].endswith("@example.dk")
    [mail] = smtp_catcher.messages
    assert mail.recipients == ["karen@example.dk"]
    assert mail.subject.startswith("News of the person you referred on ") and "Dear Karen Hansen" in mail.body
    [authorization] = {a for some_id, a in referral_api.asked if some_id == str(referral)}
    claims = service_token_claims(authorization)  # notify's own client-credentials token, role `service`
    assert claims["roles"] == ["service"] and claims.get("azp", claims.get("client_id")) == "brobygger-notify"
    assert after["recipient_id"] is None and after["masked_address"] is None  # no link back to the citizen


async def test_a_referrer_who_stopped_following_is_suppressed_not_an_operator_alarm(kafka_bootstrap, database_url, smtp_catcher):
    citizen, referral = uuid.uuid4(), uuid.uuid4()
    with CitizenRegistry({}, referrers={}) as referral_api:  # referral refuses: they stopped following
        settings = notify_settings(kafka_bootstrap, database_url, smtp_catcher.port,
                                   citizen_contact_url=referral_api.url)
        p = settings.partnership_id
        async with running_notify(settings) as (runtime, client):
            await produce(kafka_bootstrap, referred(citizen, referral, follows=True), p)
            await referral_known(runtime, 1)
            told = await produce(kafka_bootstrap, contacted(citizen), p)
            [line] = await settled(client, told)
    assert line["status"] == "suppressed" and "no longer follows" in line["last_error"]
    assert smtp_catcher.messages == []
