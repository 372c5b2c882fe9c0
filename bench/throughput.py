"""Throughput of the delivery path against raw Kafka, on one broker in one run.

Prints:
  raw      aiokafka: produce N events (acks=all), then consume them with a group
  service  one service's full path: consume, DB transaction with inbox and
           outbox, relay publish confirmed by the broker, twice in the same run:
           sealing off (ReferralTriaged in, FollowUpDue out: no sealed part) and
           sealing on (ReferralReceived in, its box opened with the citizen's
           key before the handler; FirstVisitPlanned out, sealed into the outbox)
and the ratios. Keys come from an in-memory source through the runtime's key
client and cache (one fetch per batch, as from referral's endpoint). Broker: KAFKA_BOOTSTRAP_SERVERS or an embedded Tansu.
Database: --database-url (default a SQLite file; try the local PostgreSQL with
postgresql+asyncpg://postgres@127.0.0.1/postgres).

    python bench/throughput.py --events 5000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from brobygger_contracts import Envelope, topic_for
from brobygger_contracts.events.journey import Companion, FirstVisitPlanned, FollowUpDue, FollowUpKind
from brobygger_contracts.events.referral import ReferralReceived, ReferralTriaged, TriageDecision
from brobygger_runtime.db import new_metadata
from brobygger_runtime.service import ServiceRuntime
from brobygger_runtime.settings import ServiceSettings
from brobygger_runtime.topics import ensure_topics
from brobygger_stack.embedded_kafka import EmbeddedKafka, wait_until_ready
from brobygger_stack.fixed_keys import for_the_bus, use_test_keys


def referral_events(n: int, partnership: str, sealed: bool = True) -> list[tuple[bytes, bytes, list]]:
    """Sealed: ReferralReceived with its box (as referral writes it); else ReferralTriaged (nothing sealed)."""
    out = []
    for _ in range(n):
        if sealed:
            event = for_the_bus(ReferralReceived(
                referral_id=uuid.uuid4(), citizen_id=uuid.uuid4(), source="home_care", postal_code="6800",
                age_band="75-84", consented_orgs=["varde-kommune"], received_at=datetime.now(UTC),
            ))
        else:
            event = ReferralTriaged(referral_id=uuid.uuid4(), citizen_id=uuid.uuid4(), decision=TriageDecision.bridge,
                                    triaged_by="g-1", triaged_at=datetime.now(UTC))
        env = Envelope.for_event(event, partnership=partnership, org="varde-kommune", service="referral")
        out.append((event.model_dump_json().encode(), env.subject.encode(), env.to_headers()))
    return out


async def produce_all(kafka: str, topic: str, events: list) -> float:
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all", linger_ms=5)
    await producer.start()
    started = time.perf_counter()
    futures = [await producer.send(topic, value, key=key, headers=headers) for value, key, headers in events]
    await asyncio.gather(*futures)
    elapsed = time.perf_counter() - started
    await producer.stop()
    return elapsed


async def raw_round_trip(kafka: str, n: int) -> float:
    """Events/s of produce-then-consume with plain aiokafka on a fresh topic."""
    topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    await admin.create_topics([NewTopic(topic, 3, 1)])
    await admin.close()
    events = referral_events(n, "bench")
    produce_seconds = await produce_all(kafka, topic, events)
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=kafka, group_id=f"bench-{uuid.uuid4()}",
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    seen = 0
    first = None  # the clock starts at the first record: group join time is not throughput
    while seen < n:
        batch = await consumer.getmany(timeout_ms=1000)
        if batch and first is None:
            first = time.perf_counter()
        seen += sum(len(v) for v in batch.values())
        await consumer.commit()
    consume_seconds = time.perf_counter() - (first or time.perf_counter())
    await consumer.stop()
    return n / (produce_seconds + consume_seconds)


def bench_service(kafka: str, database_url: str, partnership: str, sealing: bool) -> ServiceRuntime:
    """A journey-like instance: each event in writes a row and publishes one event; with `sealing`
    both carry a sealed part (opened on the way in, sealed on the way out)."""
    metadata = new_metadata()
    journeys = sa.Table("journeys", metadata, sa.Column("citizen_id", sa.String(64), primary_key=True))
    settings = ServiceSettings(
        service_name="journey", org_id="varde-kommune", partnership_id=partnership,
        kafka_bootstrap_servers=kafka, database_url=database_url, outbox_poll_seconds=0.05, log_json=False,
        # no HTTP is served here, but a service never starts without a trust configuration
        trusted_issuers='{"https://id.bench.invalid/realms/varde-kommune": "varde-kommune"}',
    )
    runtime = ServiceRuntime(settings, metadata, service_package=None)
    use_test_keys(runtime)

    async def open_journey(event, uow) -> None:  # noqa: ANN001
        await uow.session.execute(journeys.insert().values(citizen_id=str(event.citizen_id)))
        now = datetime.now(UTC)
        if sealing:
            assert event.opened.postal_code == "6800"
            out = FirstVisitPlanned(journey_id=uuid.uuid4(), citizen_id=event.citizen_id, visit_at=now,
                                    companion=Companion.guide, companion_id="g-1", planned_at=now)
        else:
            out = FollowUpDue(journey_id=uuid.uuid4(), citizen_id=event.citizen_id, guide_id="g-1",
                              kind=FollowUpKind.first_contact, due_at=now)
        await uow.publish(out)

    runtime.handles(ReferralReceived if sealing else ReferralTriaged)(open_journey)
    return runtime


async def service_path(kafka: str, database_url: str, n: int, sealing: bool) -> float:
    """Events/s from the first consume to the last outbox row confirmed by the broker."""
    partnership = f"bench{uuid.uuid4().hex[:8]}"
    incoming, published = (ReferralReceived, FirstVisitPlanned) if sealing else (ReferralTriaged, FollowUpDue)
    await ensure_topics(kafka, partnership, {"varde-kommune": ["referral", "journey"]})
    await produce_all(kafka, topic_for(incoming, partnership, "varde-kommune"), referral_events(n, partnership, sealing))
    runtime = bench_service(kafka, database_url, partnership, sealing)
    outbox = runtime.tables.outbox
    consumed = runtime.metrics.events_consumed
    async with runtime.running():
        while consumed.labels(incoming.event_type(), "handled")._value.get() == 0:
            await asyncio.sleep(0.001)  # group join is not throughput: start at the first event
        started = time.perf_counter()
        while True:
            async with runtime.db.sessions() as s:
                sent = await s.scalar(sa.select(sa.func.count()).select_from(outbox).where(
                    outbox.c.sent_at.is_not(None), outbox.c.event_type == published.event_type(),
                    outbox.c.topic == topic_for(published, partnership, "varde-kommune")))  # this run's rows only
            if sent >= n:
                break
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
    return n / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    broker = None
    kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not kafka:
        broker = EmbeddedKafka().start()
        kafka = broker.bootstrap_servers
    try:
        await wait_until_ready(kafka)
        with tempfile.TemporaryDirectory() as scratch:
            db = args.database_url or f"sqlite+aiosqlite:///{scratch}/bench.db"
            raw = await raw_round_trip(kafka, args.events)
            # Off, on, on, off: a run slows the ones after it (the broker's log grows), so each mode
            # gets an early and a late run and the mean of the two. Each run on a database of its own
            # (SQLite) or its own rows (the outbox count is per published type).
            rates: dict[bool, list[float]] = {False: [], True: []}
            for sealing in (False, True, True, False):
                own = f"sqlite+aiosqlite:///{scratch}/{'on' if sealing else 'off'}{len(rates[sealing])}.db"
                rates[sealing].append(await service_path(kafka, args.database_url or own, args.events, sealing))
            svc, sealed = (sum(rates[mode]) / 2 for mode in (False, True))
        print(f"broker:        {kafka} ({'embedded Tansu' if broker else 'external'})")
        print(f"database:      {db.split('://')[0]}")
        print(f"events:        {args.events}")
        print(f"raw aiokafka produce-then-consume: {raw:10.0f} events/s")
        print(f"service full path (consume, inbox+state+outbox tx, commit, relay publish): {svc:10.0f} events/s")
        print(f"  the same with sealing on (open in, seal out, AES-256-GCM):             {sealed:10.0f} events/s")
        print(f"ratio service/raw: {svc / raw:.3f}")
        print(f"ratio sealing on/off: {sealed / svc:.3f} (runs off {rates[False][0]:.0f}, {rates[False][1]:.0f}; "
              f"on {rates[True][0]:.0f}, {rates[True][1]:.0f} events/s)")
    finally:
        if broker:
            broker.stop()


if __name__ == "__main__":
    asyncio.run(main())
