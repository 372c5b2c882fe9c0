"""Two replicas' relays never publish at once: a relay re-checks its lease
(a fencing token) between the batches of a long drain and stops as soon as
another replica took over (DESIGN.md section 3)."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from brobygger_contracts.events.journey import GuideAssigned
from brobygger_runtime import lease, outbox
from brobygger_runtime.db import Database, new_metadata
from brobygger_runtime.service import ServiceRuntime
from brobygger_runtime.settings import ServiceSettings
from brobygger_stack.testing import service_settings, wait_until

ROWS = 1_500
BATCH = 20


def pause_database_access(db: Database) -> tuple[asyncio.Event, list]:
    """Make `db.transaction()` wait while the returned event is clear: the
    replica freezes before its next write, as in a long GC pause or a stopped VM."""
    running = asyncio.Event()
    running.set()
    waiting: list = []
    original = db.transaction

    @asynccontextmanager
    async def transaction():  # noqa: ANN202
        if not running.is_set():
            waiting.append(1)
            await running.wait()
        async with original() as session:
            yield session

    db.transaction = transaction  # type: ignore[method-assign]
    return running, waiting


async def test_a_relay_stops_between_batches_once_another_replica_took_its_lease(kafka_bootstrap, database_url):
    partnership = f"t{uuid.uuid4().hex[:10]}"

    def replica(name: str) -> ServiceRuntime:
        settings = service_settings(ServiceSettings, "journey", kafka_bootstrap, database_url, partnership_id=partnership,
                                    instance_id=name, outbox_batch_size=BATCH)
        return ServiceRuntime(settings, new_metadata(), service_package=None)

    a, b = replica("replica-a"), replica("replica-b")
    table, lease_table, name = a.tables.outbox, a.tables.lease, a.relay.loop.name

    def published(rt: ServiceRuntime) -> float:
        return rt.metrics.events_published.labels(GuideAssigned.event_type())._value.get()

    async def lease_row() -> sa.Row:
        async with a.db.sessions() as s:
            return (await s.execute(sa.select(lease_table).where(lease_table.c.name == name))).one()

    # A long backlog, as before a 30-day republish.
    async with a.db.engine.begin() as conn:
        await conn.run_sync(a.metadata.create_all)
    s = a.settings
    rows = [outbox.row_for(GuideAssigned(journey_id=uuid.uuid4(), citizen_id=uuid.uuid4(), guide_id="g",
                                         guide_org="varde-kommune", assigned_at=datetime.now(UTC)),
                           partnership=s.partnership_id, org=s.org_id, service=s.service_name)[1] for _ in range(ROWS)]
    async with a.db.transaction() as session:
        await outbox.write(session, table, rows)

    running, waiting = pause_database_access(a.db)
    async with a.running():
        async def a_is_draining() -> bool:
            return published(a) >= 5 * BATCH

        await wait_until(a_is_draining)
        token_a = (await lease_row()).token
        running.clear()  # A freezes before its next write ...

        async def a_frozen() -> bool:
            return bool(waiting)

        await wait_until(a_frozen)
        # ... for longer than its lease: the lease expires and B takes over.
        async with a.db.sessions() as s, s.begin():
            await s.execute(lease_table.update().where(lease_table.c.name == name)
                            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        async with b.running():
            async def b_holds() -> bool:
                return (await lease_row()).holder == "replica-b"

            try:
                await wait_until(b_holds)
                at_takeover = published(a)
                token_b = (await lease_row()).token
            finally:
                running.set()  # A wakes up mid-drain

            async def b_published_more() -> bool:
                return published(b) >= 10 * BATCH

            await wait_until(b_published_more)
            assert published(a) == at_takeover, f"A published {published(a) - at_takeover:.0f} rows after B took over"

            async def all_sent() -> bool:
                async with b.db.sessions() as s:
                    return await s.scalar(sa.select(sa.func.count()).select_from(table)
                                          .where(table.c.sent_at.is_(None))) == 0

            await wait_until(all_sent, timeout=120)
            assert published(a) == at_takeover
            assert published(a) + published(b) >= ROWS
            assert not a.relay.loop.holding
            assert token_b == token_a + 1


async def test_the_fencing_token_grows_only_when_the_lease_changes_hands(database_url):
    metadata = new_metadata()
    db = Database(database_url)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        table = metadata.tables["lease"]
        first = await lease.try_acquire(db, table, "relay", "a", ttl=30)
        assert await lease.try_acquire(db, table, "relay", "a", ttl=30) == first  # a renewal
        assert await lease.try_acquire(db, table, "relay", "b", ttl=30) is None  # held by a
        await lease.release(db, table, "relay", "a")
        second = await lease.try_acquire(db, table, "relay", "b", ttl=30)
        assert second == first + 1
        async with db.transaction() as session:
            assert not await lease.renew(session, table, "relay", "a", first, ttl=30)  # a's token is stale
            assert await lease.renew(session, table, "relay", "b", second, ttl=30)
    finally:
        await db.dispose()
