"""Operator tasks against a real broker and database: dead-letter replay after
a fix, outbox republishing, consumer lag."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer

from brobygger_contracts import Envelope, dead_letter_topic, topic_for
from brobygger_contracts.events.journey import GuideAssigned
from brobygger_contracts.events.referral import ReferralReceived
from brobygger_runtime.db import new_metadata
from brobygger_runtime.errors import PermanentError
from brobygger_runtime.service import ServiceRuntime
from brobygger_stack.fixed_keys import for_the_bus, use_test_keys
from brobygger_stack.operations import consumer_lag, list_dead_letters, outbox_state, replay_dead_letter, republish_outbox
from brobygger_stack.testing import read_topic_to_end, service_settings, wait_until
from brobygger_runtime.settings import ServiceSettings


def journey_like(kafka: str, db_url: str, partnership: str, accepts: set[str]) -> tuple[ServiceRuntime, sa.Table]:
    metadata = new_metadata()
    opened = sa.Table("opened", metadata, sa.Column("citizen_id", sa.String(64), primary_key=True))
    runtime = ServiceRuntime(service_settings(ServiceSettings, "journey", kafka, db_url, partnership_id=partnership),
                             metadata, service_package=None)
    use_test_keys(runtime)  # no referral here: the citizens' keys are derived as send_referral seals

    @runtime.handles(ReferralReceived)
    async def open_journey(event: ReferralReceived, uow) -> None:  # noqa: ANN001
        if event.opened.postal_code not in accepts:
            raise PermanentError(f"postal code {event.opened.postal_code} is not served")
        await uow.session.execute(opened.insert().values(citizen_id=str(event.citizen_id)))
        await uow.publish(GuideAssigned(journey_id=uuid.uuid4(), citizen_id=event.citizen_id, guide_id="g",
                                        guide_org="varde-kommune", assigned_at=datetime.now(UTC)))

    return runtime, opened


async def send_referral(kafka: str, partnership: str, postal_code: str) -> ReferralReceived:
    event = ReferralReceived(referral_id=uuid.uuid4(), citizen_id=uuid.uuid4(), source="gp", postal_code=postal_code,
                             age_band="65-74", consented_orgs=["varde-kommune"], received_at=datetime.now(UTC))
    envelope = Envelope.for_event(event, partnership=partnership, org="varde-kommune", service="referral")
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(referrals(partnership), for_the_bus(event).model_dump_json().encode(),
                                     key=envelope.subject.encode(), headers=envelope.to_headers())
    finally:
        await producer.stop()
    return event


def referrals(partnership: str) -> str:
    """The municipality's referral topic in `partnership`."""
    return topic_for(ReferralReceived, partnership, "varde-kommune")


async def count(runtime: ServiceRuntime, table: sa.Table) -> int:
    async with runtime.db.sessions() as s:
        return await s.scalar(sa.select(sa.func.count()).select_from(table))


async def test_a_dead_letter_is_replayed_after_the_fix(kafka_bootstrap, database_url):
    partnership = f"ops{uuid.uuid4().hex[:8]}"
    runtime, opened = journey_like(kafka_bootstrap, database_url, partnership, accepts={"6800"})
    dlt = dead_letter_topic(referrals(partnership))
    async with runtime.running():
        event = await send_referral(kafka_bootstrap, partnership, "7500")

        async def dead_lettered() -> bool:
            return runtime.metrics.dead_letters.labels(dlt, "business_rule")._value.get() >= 1

        await wait_until(dead_lettered)
        # (records without any envelope, from other tests, are dead-lettered by every consumer of the topic)
        letters = [d for d in await list_dead_letters(kafka_bootstrap, dlt)
                   if d.consumer == runtime.settings.group_id and d.cause == "business_rule"]
        assert len(letters) == 1 and "7500" in letters[0].reason
        assert await count(runtime, opened) == 0

    # The fix: the service now serves 7500 too. Replay the dead letter.
    fixed, opened = journey_like(kafka_bootstrap, database_url, partnership, accepts={"6800", "7500"})
    async with fixed.running():
        target = await replay_dead_letter(kafka_bootstrap, dlt, letters[0].partition, letters[0].offset)
        assert target == referrals(partnership)

        async def handled() -> bool:
            return await count(fixed, opened) == 1

        await wait_until(handled)
        async with fixed.db.sessions() as s:
            assert await s.scalar(sa.select(opened.c.citizen_id)) == str(event.citizen_id)


async def test_replay_sends_a_dead_letter_only_back_to_the_topic_its_dlt_belongs_to(kafka_bootstrap):
    """A record on the referral topic's .dlt that claims (dlt_original_topic) to come from the
    journey topic goes back to the referral topic: the header is as forgeable as the record."""
    partnership = f"ops{uuid.uuid4().hex[:8]}"
    event = ReferralReceived(referral_id=uuid.uuid4(), citizen_id=uuid.uuid4(), source="gp", postal_code="6800",
                             age_band="65-74", consented_orgs=["varde-kommune"], received_at=datetime.now(UTC))
    envelope = Envelope.for_event(event, partnership=partnership, org="varde-kommune", service="referral")
    dlt = dead_letter_topic(referrals(partnership))
    forged = [*envelope.to_headers(), ("dlt_original_topic", topic_for(GuideAssigned, partnership, "varde-kommune").encode()),
              ("dlt_cause", b"business_rule")]
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        meta = await producer.send_and_wait(dlt, event.model_dump_json().encode(), key=envelope.subject.encode(),
                                            headers=forged)
    finally:
        await producer.stop()
    target = await replay_dead_letter(kafka_bootstrap, dlt, meta.partition, meta.offset)
    assert target == referrals(partnership)
    replayed = [r for r in await read_topic_to_end(kafka_bootstrap, target, partnership=partnership)]
    assert [dict(r.headers).get("ce_id") for r in replayed] == [envelope.id.encode()]
    assert not [r for r in await read_topic_to_end(kafka_bootstrap, topic_for(GuideAssigned, partnership, "varde-kommune"),
                                                 partnership=partnership)]
    with pytest.raises(ValueError, match="not the dead-letter topic"):
        await replay_dead_letter(kafka_bootstrap, referrals(partnership), meta.partition, meta.offset)
    with pytest.raises(ValueError, match="not the dead-letter topic"):
        await replay_dead_letter(kafka_bootstrap, "brobygger.varde.referral.v1.dlt", meta.partition, meta.offset)


async def test_outbox_republish_after_broker_loss_and_backlog(kafka_bootstrap, database_url):
    partnership = f"ops{uuid.uuid4().hex[:8]}"
    runtime, _ = journey_like(kafka_bootstrap, database_url, partnership, accepts={"6800"})
    outbox = runtime.tables.outbox
    async with runtime.running():
        await send_referral(kafka_bootstrap, partnership, "6800")

        async def sent_times(n: int):  # noqa: ANN202
            async def check() -> bool:
                async with runtime.db.sessions() as s:
                    return await s.scalar(sa.select(sa.func.sum(outbox.c.send_count))) == n
            return check

        await wait_until(await sent_times(1))
        state = await outbox_state(database_url)
        assert state.unsent == 0 and state.total == 1
        marked = await republish_outbox(database_url, datetime.now(UTC) - timedelta(hours=1))
        assert marked == 1
        runtime.relay.wake()
        await wait_until(await sent_times(2))


async def test_consumer_lag_after_everything_is_handled(kafka_bootstrap, database_url):
    partnership = f"ops{uuid.uuid4().hex[:8]}"
    runtime, opened = journey_like(kafka_bootstrap, database_url, partnership, accepts={"6800"})
    async with runtime.running():
        for _ in range(3):
            await send_referral(kafka_bootstrap, partnership, "6800")

        async def three() -> bool:
            return await count(runtime, opened) == 3

        await wait_until(three)
        lag: dict = {}

        async def caught_up() -> bool:  # the offsets are committed just after the database commit
            nonlocal lag
            lag = await consumer_lag(kafka_bootstrap, runtime.settings.group_id)
            return bool(lag) and all(behind == 0 for behind in lag.values())

        await wait_until(caught_up)
    assert {topic for topic, _ in lag} == {referrals(partnership)}
    assert all(behind == 0 for behind in lag.values())
