"""pytest fixtures: a real broker and a real database for every test that asks."""

from __future__ import annotations

import asyncio
import functools
import os
import random
import socket
import uuid
import warnings
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator, Iterator

import asyncpg
import pytest
import pytest_asyncio

from brobygger_stack.embedded_kafka import EmbeddedKafka, wait_until_ready

if False:  # typing only
    from brobygger_stack.identity.provider import IdentityProvider  # noqa: F401
    from brobygger_stack.identity.test_tokens import TestTokens  # noqa: F401
    from brobygger_stack.smtp_catcher import SmtpCatcher  # noqa: F401

LOCAL_POSTGRES = os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")

# Consumer groups in tests: the embedded Tansu lets a fresh group's join wait
# about half the session timeout (5 s at the default 10 s; 1 s at 2 s) and a
# group whose member died or left wait about 1.8 times it (18 s; 4 s at 2 s).
# Tests start hundreds of groups, so they run with a short session timeout:
# in-process services get it through `service_settings`, service processes
# through the environment they inherit (KAFKA_SESSION_TIMEOUT_MS, which also
# overrides this default). 2 s keeps the heartbeat (a third of it, at least
# 1 s) inside the session on a busy 2-core machine.
TEST_SESSION_TIMEOUT_MS = 2000
# Consumers subscribe by pattern and see a topic created after they started
# when they next read the topic list: every 30 s in production, every 0.5 s
# in tests (each test's partnership gets its topics as its services start).
TEST_METADATA_MAX_AGE_MS = 500


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("KAFKA_SESSION_TIMEOUT_MS", str(TEST_SESSION_TIMEOUT_MS))
    os.environ.setdefault("KAFKA_METADATA_MAX_AGE_MS", str(TEST_METADATA_MAX_AGE_MS))
    config.addinivalue_line(
        "markers", "needs_docker: needs a Docker engine (Keycloak, Apache Kafka); reported as not run where there is none"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:  # noqa: ARG001
    if any(item.get_closest_marker("needs_docker") for item in items) and not _docker_available():
        skip = pytest.mark.skip(reason="not run here: needs a Docker engine, and this machine has none")
        for item in items:
            if item.get_closest_marker("needs_docker"):
                item.add_marker(skip)


@functools.cache
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


_IDENTITY: "IdentityProvider | None" = None


def embedded_identity() -> "IdentityProvider":
    """This test process's embedded identity provider (one issuer per demo
    organisation), started on first use; TRUSTED_ISSUERS in the environment
    names its issuers, so every service a test starts, in-process or as a
    process, trusts it."""
    global _IDENTITY
    if _IDENTITY is None:
        from argon2 import PasswordHasher

        from brobygger_stack.identity.provider import IdentityProvider

        # Nobody guesses the seeded test passwords: the cheapest argon2 profile will do.
        _IDENTITY = IdentityProvider(password_hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)).start()
        os.environ["TRUSTED_ISSUERS"] = _IDENTITY.trusted_issuers_json()
    return _IDENTITY


@pytest.fixture(scope="session", autouse=True)
def identity() -> Iterator["TestTokens"]:
    """Tokens of the test identity provider: `identity.auth("guide", org=..., subject=...)`."""
    from brobygger_stack.identity.test_tokens import TestTokens

    provider = embedded_identity()
    yield TestTokens(provider)


def service_credentials(service: str, org: str) -> dict[str, str]:
    """The settings a service instance needs for its own client-credentials tokens."""
    provider = embedded_identity()
    client_id = f"brobygger-{service}"
    return {"AUTH_ISSUER": provider.issuer(org), "AUTH_CLIENT_ID": client_id,
            "AUTH_CLIENT_SECRET": provider.client_secret(org, client_id)}


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Bootstrap servers of a real Kafka-API broker. Topics are per partnership:
    each service creates its own at start (the embedded broker lets it), and
    the broker creates one a test writes to first."""
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


def _ephemeral_ports() -> tuple[int, int]:
    try:
        low, high = (int(n) for n in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
        return low, high
    except (OSError, ValueError):
        return 32768, 60999


def listen_ports(count: int = 1) -> int:
    """The first of `count` consecutive free ports for a server a test starts and
    may restart on the same port.

    Taken below the kernel's ephemeral range: a port found free there (bind to
    0) can be taken by any outgoing connection before the server binds it,
    which happened with parallel workers and many service processes. Random,
    so parallel workers do not race for the same one.
    """
    low, _high = _ephemeral_ports()
    top = max(low, 20000)
    rng = random.Random()
    for _ in range(500):
        base = rng.randrange(10000, top - count)
        if all(_free(port) for port in range(base, base + count)):
            return base
    raise RuntimeError(f"no run of {count} free ports found")


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


async def create_database(admin_dsn: str, template: str | None = None) -> str:
    name = f"brobygger_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    finally:
        await conn.close()
    return name


async def drop_database(admin_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


# Dropping a database takes PostgreSQL 0.5-1.5 s (files removed and synced);
# no test needs to wait for it, so inside a pytest session the drops run in
# the background and the session waits for them at its end.
_pending_drops: set[asyncio.Task] = set()


def drop_database_later(admin_dsn: str, name: str) -> None:
    task = asyncio.get_running_loop().create_task(drop_database(admin_dsn, name), name=f"drop {name}")
    _pending_drops.add(task)
    task.add_done_callback(_pending_drops.discard)


# Migrating a service's empty database takes about a second of alembic per
# test; copying a database migrated once (CREATE DATABASE ... TEMPLATE) takes
# a tenth of that. Templates are made per pytest process (each xdist worker
# has its own) on first use and dropped at the end of the session. The
# service's own start-up still runs its migrations, which then find nothing
# to do; starting from an empty database stays covered by the end-to-end and
# fault tests (service processes on empty databases) and the migration tests.
_templates: dict[tuple[str, str], str] = {}
_template_locks: dict[tuple[str, str], asyncio.Lock] = {}


async def migrated_template(admin_dsn: str, service_package: str) -> str:
    """A database with `service_package`'s migrations applied, to copy from."""
    from brobygger_runtime.migrations import upgrade_to_head_async

    key = (admin_dsn, service_package)
    async with _template_locks.setdefault(key, asyncio.Lock()):
        if key not in _templates:
            name = await create_database(admin_dsn)
            try:
                await upgrade_to_head_async(service_package, _async_url(admin_dsn, name))
                conn = await asyncpg.connect(admin_dsn)  # a copy needs the template without sessions
                try:
                    await conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name)
                finally:
                    await conn.close()
            except BaseException:
                await drop_database(admin_dsn, name)
                raise
            _templates[key] = name
    return _templates[key]


@pytest_asyncio.fixture(scope="session", autouse=True)
async def _database_housekeeping() -> AsyncIterator[None]:
    """At the end of the session: waits for the databases still being dropped, drops the templates."""
    yield
    while _pending_drops:
        for outcome in await asyncio.gather(*list(_pending_drops), return_exceptions=True):
            if isinstance(outcome, Exception):
                warnings.warn(f"a test database was not dropped: {outcome!r}", stacklevel=1)
    for (admin_dsn, _package), name in list(_templates.items()):
        try:
            await drop_database(admin_dsn, name)
        except Exception:  # noqa: BLE001 - e.g. a testcontainers PostgreSQL already gone
            pass
    _templates.clear()
    _template_locks.clear()


def _async_url(admin_dsn: str, database: str) -> str:
    base = admin_dsn.rsplit("/", 1)[0]
    return base.replace("postgresql://", "postgresql+asyncpg://", 1) + "/" + database


@asynccontextmanager
async def database_factory(postgres_admin_dsn: str | None, directory: Path, *, drop_in_background: bool = False) -> AsyncIterator:
    """Makes fresh databases (one per call; SQLite files in `directory` without
    PostgreSQL) and drops them on leaving; for fixtures of a wider scope than a test.

    `make(label)` gives an empty database; `make(label, migrated="journey")` one
    with that service package's migrations applied (on PostgreSQL, a copy of a
    template; SQLite files stay empty and the service migrates them at start).
    With `drop_in_background` (inside a pytest session) the drops finish at the session's end.
    """
    created: list[str] = []

    async def make(label: str = "db", *, migrated: str | None = None) -> str:
        if postgres_admin_dsn is None:
            return f"sqlite+aiosqlite:///{directory}/{label}-{uuid.uuid4().hex[:6]}.db"
        template = await migrated_template(postgres_admin_dsn, migrated) if migrated else None
        name = await create_database(postgres_admin_dsn, template)
        created.append(name)
        return _async_url(postgres_admin_dsn, name)

    try:
        yield make
    finally:
        for name in created:
            if drop_in_background:
                drop_database_later(postgres_admin_dsn, name)
            else:
                await drop_database(postgres_admin_dsn, name)


@pytest_asyncio.fixture
async def database_url_factory(postgres_admin_dsn: str | None, tmp_path) -> AsyncIterator:  # noqa: ANN001
    """Makes fresh databases (one per call; `migrated=<service package>` for one
    already migrated) and drops them afterwards."""
    async with database_factory(postgres_admin_dsn, tmp_path, drop_in_background=True) as make:
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
    if "kafka_session_timeout_ms" in getattr(settings_cls, "model_fields", {}):  # see TEST_SESSION_TIMEOUT_MS
        values["kafka_session_timeout_ms"] = int(os.environ.get("KAFKA_SESSION_TIMEOUT_MS", TEST_SESSION_TIMEOUT_MS))
    values.setdefault("partnership_id", f"t{uuid.uuid4().hex[:10]}")
    provider = embedded_identity()
    values["trusted_issuers"] = provider.trusted_issuers_json()
    values.update({k.lower(): v for k, v in service_credentials(service, org).items()})
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


async def partnership_topics_on(kafka: str, partnership: str, *, services: set[str] | None = None,
                                dead_letters: bool = True) -> list[str]:
    """The topics of `partnership` the broker has now, of every organisation
    (optionally only those `services` publish; with or without dead-letter topics)."""
    from aiokafka.admin import AIOKafkaAdminClient

    from brobygger_contracts import parse_topic

    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        names = await admin.list_topics()
    finally:
        await admin.close()
    return sorted(t for t in names if (n := parse_topic(t)) and n.partnership == partnership
                  and (services is None or n.service in services) and (dead_letters or not n.is_dead_letter))


async def read_topic(kafka: str, topic: str | list[str], *, partnership: str | None = None, want: int = 1,
                     timeout: float = 20.0) -> list:
    """Records of one or more topics from the start, optionally only one partnership's.

    Returns as soon as `want` records matched, or what there is after `timeout`.
    Reads by assigning every partition (no consumer group, so no group join to
    wait for: a join on the embedded broker takes seconds).
    """
    from aiokafka import AIOKafkaConsumer, TopicPartition

    topics = [topic] if isinstance(topic, str) else topic
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    records: list = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while True:
            # The client's own view of the cluster (topics() returns a copy and leaves it as it was):
            # topics are created as each test's services start, after this reader may have.
            await consumer._client.force_metadata_update()  # noqa: SLF001
            known = {t: consumer.partitions_for_topic(t) for t in topics}
            if all(known.values()) or loop.time() >= deadline:
                break
            await asyncio.sleep(0.1)  # a topic not created yet: wait for it as a reader of the group would
        partitions = [TopicPartition(t, p) for t, ps in known.items() for p in sorted(ps or ())]
        if not partitions:
            return records  # no such topic (yet): nothing was written to it
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        while len(records) < want and loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=max(1, min(300, int((deadline - loop.time()) * 1000))))
            for recs in batch.values():
                for rec in recs:
                    if partnership is None or dict(rec.headers or ()).get("ce_partnership") == partnership.encode():
                        records.append(rec)
    finally:
        await consumer.stop()
    return records


async def read_topic_to_end(kafka: str, topic: str | list[str], *, partnership: str | None = None,
                            timeout: float = 30.0) -> list:
    """Every record on one or more topics now: from the start to the end offsets
    as of the call, optionally only one partnership's. Returns as soon as it got
    there (no waiting for records that might still come: wait for a condition)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    topics = [topic] if isinstance(topic, str) else topic
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    records: list = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        await consumer._client.force_metadata_update()  # noqa: SLF001 - topics created after the client started
        partitions = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
        if not partitions:
            return records  # none of these topics exists: nothing was written to them
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        pending = {tp for tp in partitions if ends[tp] > 0}
        while pending:
            if loop.time() > deadline:
                raise AssertionError(f"could not read {sorted(t.topic for t in pending)} to the end within {timeout}s")
            batch = await consumer.getmany(*pending, timeout_ms=300)
            for tp, recs in batch.items():
                for rec in recs:
                    if rec.offset >= ends[tp]:
                        break
                    if partnership is None or dict(rec.headers or ()).get("ce_partnership") == partnership.encode():
                        records.append(rec)
            pending = {tp for tp in pending if await consumer.position(tp) < ends[tp]}
    finally:
        await consumer.stop()
    return records


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # noqa: ANN001, ANN201
    """In CI (BROBYGGER_FORBID_SKIPS=1) a skipped test is a failure: the broker
    and PostgreSQL are always there, so a skip means something is broken. The
    one exception is a test marked `needs_docker` (Keycloak, Apache Kafka in
    containers) on a machine without a Docker engine: it reports as not run."""
    outcome = yield
    report = outcome.get_result()
    if item.get_closest_marker("needs_docker") is not None and not _docker_available():
        return
    if os.environ.get("BROBYGGER_FORBID_SKIPS") == "1" and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped, which CI does not allow: {report.longrepr}"
