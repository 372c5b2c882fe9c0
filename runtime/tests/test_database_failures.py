"""A PostgreSQL restart, failover or maintenance window is waited out, never
dead-lettered (issue 11 case 2, DESIGN.md section 3): against the local
PostgreSQL, with the errors it really raises."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import asynccontextmanager

import asyncpg
import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import create_async_engine

from brobygger_contracts import dead_letter_topic
from brobygger_runtime.errors import is_transient
from brobygger_stack.testing import read_topic, wait_until

from runtime.tests.delivery_kit import good, headers, recording_runtime, referrals


def _database_name(url: str) -> str:
    return url.rsplit("/", 1)[1]


@asynccontextmanager
async def admin(postgres_admin_dsn: str):  # noqa: ANN201
    conn = await asyncpg.connect(postgres_admin_dsn)
    try:
        yield conn
    finally:
        await conn.close()


async def cut_connections(conn: asyncpg.Connection, database: str) -> None:
    await conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", database)


async def produce_referrals(kafka: str, partnership: str, citizens: list[uuid.UUID]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await producer.start()
    try:
        for citizen in citizens:
            for sequence in (1, 2):
                event = good(citizen, sequence)
                await producer.send_and_wait(referrals(partnership), event.model_dump_json().encode(), key=str(citizen).encode(),
                                             headers=headers(event, partnership))
    finally:
        await producer.stop()


@pytest.mark.parametrize(
    "outage",
    [
        # a failover: the database answers again, but read-only (25006)
        ("ALTER DATABASE \"{db}\" SET default_transaction_read_only = on", "ALTER DATABASE \"{db}\" RESET default_transaction_read_only"),
        # a maintenance window: every connection cut, new ones refused (55000, raised while connecting)
        ("ALTER DATABASE \"{db}\" ALLOW_CONNECTIONS false", "ALTER DATABASE \"{db}\" ALLOW_CONNECTIONS true"),
    ],
    ids=["read_only_after_failover", "connections_refused"],
)
async def test_events_wait_for_the_database_and_none_is_dead_lettered(outage, kafka_bootstrap, database_url, postgres_admin_dsn):
    if postgres_admin_dsn is None:
        pytest.skip("needs PostgreSQL")
    begin, end = (statement.format(db=_database_name(database_url)) for statement in outage)
    runtime, handled = recording_runtime(kafka_bootstrap, database_url)
    partnership = runtime.settings.partnership_id
    runtime.settings.handler_backoff_max_seconds = 0.5
    async with runtime.running():
        first = [uuid.uuid4() for _ in range(3)]
        await produce_referrals(kafka_bootstrap, partnership, first)

        async def counted(n: int):  # noqa: ANN202
            async def check() -> bool:
                async with runtime.db.sessions() as s:
                    return await s.scalar(sa.select(sa.func.count()).select_from(handled)) >= n
            return check

        await wait_until(await counted(6), timeout=60)
        async with admin(postgres_admin_dsn) as conn:
            await conn.execute(begin)
            await cut_connections(conn, _database_name(database_url))
            try:
                later = [uuid.uuid4() for _ in range(5)]
                await produce_referrals(kafka_bootstrap, partnership, later)

                async def waiting() -> bool:
                    return runtime.metrics.transient_waits._value.get() >= 3

                await wait_until(waiting, timeout=30)
            finally:
                await conn.execute(end)
                await cut_connections(conn, _database_name(database_url))
        await wait_until(await counted(16), timeout=60)
        async with runtime.db.sessions() as s:
            rows = (await s.execute(sa.select(handled.c.citizen_id, handled.c.postal_code).order_by(handled.c.n))).all()

    per_citizen: dict[str, list[str]] = {}
    for citizen_id, postal_code in rows:
        per_citizen.setdefault(citizen_id, []).append(postal_code)
    assert per_citizen == {str(c): ["6801", "6802"] for c in first + later}  # none lost, none twice, in order
    group = runtime.settings.group_id.encode()
    dead = [r for r in await read_topic(kafka_bootstrap, dead_letter_topic(referrals(partnership)), want=10_000, timeout=3)
            if dict(r.headers).get("dlt_consumer") == group]
    assert dead == []


async def test_deadlocks_and_serialization_failures_are_transient(database_url, postgres_admin_dsn):
    """The errors PostgreSQL raises for them, provoked for real, are classified as worth retrying."""
    if postgres_admin_dsn is None:
        pytest.skip("needs PostgreSQL")
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text("CREATE TABLE pair (id int PRIMARY KEY, n int)"))
            await conn.execute(sa.text("INSERT INTO pair VALUES (1, 0), (2, 0)"))

        # Deadlock: each transaction holds one row and wants the other's.
        async def lock_both(first: int, second: int, both_hold: asyncio.Barrier) -> None:
            async with engine.begin() as conn:
                await conn.execute(sa.text("UPDATE pair SET n = n + 1 WHERE id = :id"), {"id": first})
                await both_hold.wait()
                await conn.execute(sa.text("UPDATE pair SET n = n + 1 WHERE id = :id"), {"id": second})

        barrier = asyncio.Barrier(2)
        results = await asyncio.gather(lock_both(1, 2, barrier), lock_both(2, 1, barrier), return_exceptions=True)
        deadlocks = [r for r in results if isinstance(r, Exception)]
        assert len(deadlocks) == 1 and is_transient(deadlocks[0]), results

        # Serialization failure: two serializable transactions read, then write what the other read.
        async def read_then_write(row: int, both_read: asyncio.Barrier) -> None:
            async with engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="SERIALIZABLE")
                async with conn.begin():
                    await conn.execute(sa.text("SELECT sum(n) FROM pair"))
                    await both_read.wait()
                    await conn.execute(sa.text("UPDATE pair SET n = n + 1 WHERE id = :id"), {"id": row})

        barrier = asyncio.Barrier(2)
        results = await asyncio.gather(read_then_write(1, barrier), read_then_write(2, barrier), return_exceptions=True)
        failures = [r for r in results if isinstance(r, Exception)]
        assert len(failures) == 1 and is_transient(failures[0]), results

        # And a real fault of the statement is not transient: it is the event's or the code's.
        with pytest.raises(Exception) as refused:
            async with engine.begin() as conn:
                await conn.execute(sa.text("INSERT INTO pair VALUES (1, 0)"))
        assert not is_transient(refused.value)
    finally:
        await engine.dispose()


async def test_a_service_starting_during_an_outage_waits_and_its_api_answers_503_not_500(kafka_bootstrap, database_url,
                                                                                          postgres_admin_dsn):
    """Restarted while its database refuses connections, a service waits for it
    instead of exiting; while the database is away its API says 503, try again."""
    import httpx
    from fastapi import APIRouter, Depends

    from brobygger_runtime.http import runtime_of

    if postgres_admin_dsn is None:
        pytest.skip("needs PostgreSQL")
    database = _database_name(database_url)
    runtime, handled = recording_runtime(kafka_bootstrap, database_url)
    router = APIRouter()

    @router.get("/handled")
    async def count_handled(rt=Depends(runtime_of)) -> dict:  # noqa: ANN001, B008
        async with rt.db.sessions() as s:
            return {"handled": await s.scalar(sa.select(sa.func.count()).select_from(handled))}

    app = runtime.http_app("test", routers=[router])
    async with admin(postgres_admin_dsn) as conn:
        await conn.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
        try:
            starting = asyncio.create_task(runtime.start())
            await asyncio.sleep(1.5)  # it keeps trying while the database is closed
            assert not starting.done()
        finally:
            await conn.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
        await asyncio.wait_for(starting, timeout=30)
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
                assert (await client.get("/handled")).json() == {"handled": 0}
                await conn.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
                await cut_connections(conn, database)
                try:
                    answer = await client.get("/handled")
                finally:
                    await conn.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
                assert answer.status_code == 503, answer.text
                assert answer.headers["retry-after"] and "try again" in answer.json()["detail"]
                assert (await client.get("/handled")).status_code == 200
        finally:
            await runtime.stop()
