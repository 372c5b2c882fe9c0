"""Two journey replicas as real processes on one database; the one holding the
timer lease is SIGKILLed mid-stream. Every journey opens once and every due
timer is published as exactly one FollowUpDue (one event id per citizen)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import create_async_engine

from brobygger_contracts import Envelope, topic_for, topic_of_service
from brobygger_contracts.events.referral import ReferralReceived
from brobygger_stack.fixed_keys import FixedKeyServer, for_the_bus
from brobygger_stack.processes import ServiceProcess
from brobygger_stack.testing import listen_ports, service_credentials
from journey.adapters.tables import journeys, timers
from journey_testkit import ORG, read_events, referral, wait_until

CITIZENS = 40


async def test_sigkill_of_the_lease_holder_loses_and_repeats_no_timer(kafka_bootstrap, database_url, tmp_path):
    with FixedKeyServer() as keys:  # referral's key endpoint, for the referrals this test writes itself
        await _sigkill_of_the_lease_holder(kafka_bootstrap, database_url, tmp_path, keys.url)


async def _sigkill_of_the_lease_holder(kafka_bootstrap, database_url, tmp_path, keys_url: str):  # noqa: ANN001
    partnership = f"t{uuid.uuid4().hex[:10]}"
    env = {
        "CITIZEN_KEYS_URL": keys_url, **service_credentials("journey", ORG),
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "DATABASE_URL": database_url, "PARTNERSHIP_ID": partnership,
        "FIRST_CONTACT_WORKING_DAYS": "0",  # due at the referral itself: the real clock fires it at once
        "TIMER_POLL_SECONDS": "0.05", "LEASE_SECONDS": "1", "OUTBOX_POLL_SECONDS": "0.05",
        "HANDLER_BACKOFF_SECONDS": "0.01", "LOG_JSON": "false",
    }
    replicas = [
        ServiceProcess("journey", ORG, listen_ports(), env={**env, "INSTANCE_ID": name}, log_path=tmp_path / f"{name}.log")
        for name in ("replica-a", "replica-b")
    ]
    engine = create_async_engine(database_url)
    try:
        first, second = replicas
        await asyncio.to_thread(first.start().wait_ready)  # the first one migrates the database
        await asyncio.to_thread(second.start().wait_ready)

        events = [referral(received_at=datetime.now(UTC)) for _ in range(CITIZENS)]
        await _produce(kafka_bootstrap, partnership, events)

        async def some_fired() -> bool:
            async with engine.connect() as conn:
                return bool(await conn.scalar(sa.select(sa.func.count()).select_from(timers).where(timers.c.fired_at.is_not(None))))

        await wait_until(some_fired, timeout=60, what="the first timers fired")
        holder = await _lease_holder(engine)
        victim = first if holder == "replica-a" else second
        victim.kill()

        async def all_fired_and_sent() -> bool:
            async with engine.connect() as conn:
                fired = await conn.scalar(sa.select(sa.func.count()).select_from(timers).where(
                    timers.c.kind == "first_contact", timers.c.fired_at.is_not(None)))
                outbox = sa.table("outbox", sa.column("sent_at"))
                unsent = await conn.scalar(sa.select(sa.func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None)))
            return fired == CITIZENS and unsent == 0

        await wait_until(all_fired_and_sent, timeout=90, what="every timer fired and relayed")
        async with engine.connect() as conn:
            opened = Counter((await conn.scalars(sa.select(journeys.c.citizen_id))).all())
    finally:
        for replica in replicas:
            replica.stop()
        await engine.dispose()

    assert holder in ("replica-a", "replica-b")
    assert sorted(opened) == sorted(str(e.citizen_id) for e in events) and set(opened.values()) == {1}
    records = await read_events(kafka_bootstrap, topic_of_service("journey", partnership, ORG), partnership, "FollowUpDue")
    # The bus is at-least-once: a relay killed before marking a row sent republishes it under the same id.
    ids_per_citizen: dict[str, set[str]] = {}
    for record in records:
        ids_per_citizen.setdefault(record.payload["citizen_id"], set()).add(record.headers["ce_id"])
    assert sorted(ids_per_citizen) == sorted(str(e.citizen_id) for e in events)
    assert all(len(ids) == 1 for ids in ids_per_citizen.values())


async def _produce(kafka: str, partnership: str, events: list[ReferralReceived]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await producer.start()
    try:
        for event in events:
            envelope = Envelope.for_event(event, partnership=partnership, org=ORG, service="referral")
            await producer.send_and_wait(
                topic_for(ReferralReceived, partnership, ORG), for_the_bus(event).model_dump_json().encode(), key=event.subject().encode(),
                headers=envelope.to_headers(),
            )
    finally:
        await producer.stop()


async def _lease_holder(engine) -> str | None:  # noqa: ANN001
    lease = sa.table("lease", sa.column("name"), sa.column("holder"))
    async with engine.connect() as conn:
        return await conn.scalar(sa.select(lease.c.holder).where(lease.c.name == "timer-scheduler:journey"))
