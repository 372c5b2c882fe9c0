"""pytest fixtures: a real broker and a real database for every test that asks."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator, Iterator

import asyncpg
import pytest
import pytest_asyncio

from brobygger_runtime.topics import ensure_topics
from brobygger_stack.embedded_kafka import EmbeddedKafka, wait_until_ready

if False:  # typing only
    from brobygger_stack.smtp_catcher import SmtpCatcher  # noqa: F401

LOCAL_POSTGRES = os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


def _docker_available() -> bool:
    try:
        from testcontainers.core.docker_client import DockerClient

        DockerClient().client.ping()
        return True
    except Exception:  # noqa: BLE001 - any failure means: no engine to use
        return False


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Bootstrap servers of a real Kafka-API broker with the catalogue's topics."""
    configured = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if configured:
        servers, stop = configured, None
    elif _docker_available():
        from testcontainers.kafka import KafkaContainer

        container = KafkaContainer("confluentinc/cp-kafka:7.6.1").with_kraft()
        container.start()
        servers, stop = container.get_bootstrap_server(), container.stop
    else:
        log = tmp_path_factory.mktemp("tansu") / "tansu.log"
        broker = EmbeddedKafka(log_path=str(log)).start()
        servers, stop = broker.bootstrap_servers, broker.stop
    asyncio.run(wait_until_ready(servers))
    asyncio.run(ensure_topics(servers))
    try:
        yield servers
    finally:
        if stop:
            stop()


@pytest.fixture(scope="session")
def postgres_admin_dsn() -> Iterator[str | None]:
    """A DSN of a PostgreSQL server where tests may create databases, or None."""
    explicit = os.environ.get("TEST_POSTGRES_DSN")
    if explicit or _reachable("127.0.0.1", 5432):
        yield LOCAL_POSTGRES
        return
    if _docker_available():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver=None) as pg:
            yield pg.get_connection_url()
        return
    if os.environ.get("BROBYGGER_REQUIRE_POSTGRES") == "1":
        raise RuntimeError("BROBYGGER_REQUIRE_POSTGRES=1 but no PostgreSQL answers on 127.0.0.1:5432")
    yield None


async def create_database(admin_dsn: str) -> str:
    name = f"brobygger_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name


async def drop_database(admin_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def _async_url(admin_dsn: str, database: str) -> str:
    base = admin_dsn.rsplit("/", 1)[0]
    return base.replace("postgresql://", "postgresql+asyncpg://", 1) + "/" + database


@asynccontextmanager
async def database_factory(postgres_admin_dsn: str | None, directory: Path) -> AsyncIterator:
    """Makes fresh, empty databases (one per call; SQLite files in `directory` without
    PostgreSQL) and drops them on leaving; for fixtures of a wider scope than a test."""
    created: list[str] = []

    async def make(label: str = "db") -> str:
        if postgres_admin_dsn is None:
            return f"sqlite+aiosqlite:///{directory}/{label}-{uuid.uuid4().hex[:6]}.db"
        name = await create_database(postgres_admin_dsn)
        created.append(name)
        return _async_url(postgres_admin_dsn, name)

    try:
        yield make
    finally:
        for name in created:
            await drop_database(postgres_admin_dsn, name)


@pytest_asyncio.fixture
async def database_url_factory(postgres_admin_dsn: str | None, tmp_path) -> AsyncIterator:  # noqa: ANN001
    """Makes fresh, empty databases (one per call) and drops them afterwards."""
    async with database_factory(postgres_admin_dsn, tmp_path) as make:
        yield make


@pytest_asyncio.fixture
async def database_url(database_url_factory) -> str:  # noqa: ANN001
    """One fresh database for this test (PostgreSQL where it runs)."""
    return await database_url_factory()


@pytest.fixture
def smtp_catcher() -> Iterator["SmtpCatcher"]:
    """A real SMTP server on loopback that keeps every message it receives."""
    from brobygger_stack.smtp_catcher import SmtpCatcher

    with SmtpCatcher() as catcher:
        yield catcher


def service_settings(settings_cls, service: str, kafka: str, database_url: str, org: str = "varde-kommune", **extra):  # noqa: ANN001, ANN201
    """Settings for running a service in-process in a test, with fast loops.

    Each call gets its own partnership id so consumer groups never collide
    between tests sharing one broker; pass `partnership_id` to share one.
    """
    values = dict(
        service_name=service,
        org_id=org,
        kafka_bootstrap_servers=kafka,
        database_url=database_url,
        handler_backoff_seconds=0.01,
        outbox_poll_seconds=0.05,
        log_json=False,
    )
    values.setdefault("partnership_id", f"t{uuid.uuid4().hex[:10]}")
    values.update(extra)
    return settings_cls(**values)


async def wait_until(predicate, timeout: float = 30.0, interval: float = 0.05) -> None:  # noqa: ANN001
    """Await an async predicate until it is true; fail the test after `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await predicate():
        if loop.time() > deadline:
            raise AssertionError(f"condition not reached within {timeout}s")
        await asyncio.sleep(interval)


async def read_topic(kafka: str, topic: str | list[str], *, partnership: str | None = None, want: int = 1,
                     timeout: float = 20.0) -> list:
    """Records of one or more topics from the start (a fresh group), optionally only one partnership's.

    Returns as soon as `want` records matched, or what there is after `timeout`.
    """
    from aiokafka import AIOKafkaConsumer

    topics = [topic] if isinstance(topic, str) else topic
    consumer = AIOKafkaConsumer(
        *topics, bootstrap_servers=kafka, auto_offset_reset="earliest", group_id=f"reader-{uuid.uuid4()}",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while len(records) < want and loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            for recs in batch.values():
                for rec in recs:
                    if partnership is None or dict(rec.headers or ()).get("ce_partnership") == partnership.encode():
                        records.append(rec)
    finally:
        await consumer.stop()
    return records


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # noqa: ANN001, ANN201
    """In CI (BROBYGGER_FORBID_SKIPS=1) a skipped test is a failure: the broker
    and PostgreSQL are always there, so a skip means something is broken."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("BROBYGGER_FORBID_SKIPS") == "1" and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped, which CI does not allow: {report.longrepr}"
