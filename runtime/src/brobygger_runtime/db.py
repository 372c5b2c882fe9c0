"""The service's database: async engine, sessions, and the tables every service shares.

Each service owns its own database. Besides its domain tables it holds the
inbox (events already handled), the outbox (events to publish) and leases
(which replica runs the singleton loops). They are added to the service's
`MetaData` so that the service's alembic migrations create them.
"""

from __future__ import annotations

import asyncio
import os
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import AsyncIterator

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(sa.types.TypeDecorator):
    """A moment, stored in UTC and read back as an aware UTC datetime on every database.

    SQLite keeps no offset: a plain DateTime(timezone=True) would store
    10:00+01:00 as 10:00 and compare it as such. Naive values are taken as UTC
    (what the services write); migrations see a plain DateTime(timezone=True).
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


DELIVERY_TABLES = ("inbox", "outbox", "lease", "dead_letters", "access_log", "erased_subjects")
"""The runtime's own tables; its migrations (delivery_migrations/) create them, not the services'."""


def new_metadata() -> sa.MetaData:
    """A service's MetaData, with the shared delivery tables already in it."""
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    add_delivery_tables(metadata)
    return metadata


def add_delivery_tables(metadata: sa.MetaData) -> None:
    sa.Table(
        "inbox",
        metadata,
        sa.Column("consumer", sa.String(200), primary_key=True),
        sa.Column("event_id", sa.String(200), primary_key=True),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("handled_at", UtcDateTime(), nullable=False),
    )
    sa.Table(
        "outbox",
        metadata,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(200), nullable=False, unique=True),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
        sa.Column("send_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("kafka_partition", sa.Integer, nullable=True),
        sa.Column("kafka_offset", sa.BigInteger, nullable=True),
        # A row the broker refuses for good (too large, no such topic) is parked
        # for an operator instead of blocking every row behind it.
        sa.Column("parked_at", UtcDateTime(), nullable=True),
        sa.Column("park_reason", sa.String(500), nullable=True),
        sa.Index("ix_outbox_unsent", "sent_at", "id"),
    )
    sa.Table(
        "lease",
        metadata,
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        # Fencing token: grows each time the lease changes hands, so a holder
        # can tell that another replica took over between two of its batches.
        sa.Column("token", sa.BigInteger, nullable=False, server_default="0"),
    )
    sa.Table(
        "dead_letters",
        metadata,
        # Where the record was read: a redelivery of the same record is known
        # and not dead-lettered twice; a replay arrives at a new offset.
        sa.Column("consumer", sa.String(200), primary_key=True),
        sa.Column("source_topic", sa.String(249), primary_key=True),
        sa.Column("source_partition", sa.Integer, primary_key=True),
        sa.Column("source_offset", sa.BigInteger, primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=True),
        sa.Column("cause", sa.String(40), nullable=False),
        sa.Column("dead_lettered_at", UtcDateTime(), nullable=False),
    )
    sa.Table(
        "access_log",
        metadata,
        # Every read of a person's data, refusals included (DESIGN.md section 9):
        # part of the citizen's subject-access report. Never the data itself.
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("subject_id", sa.String(200), nullable=False),
        sa.Column("caller", sa.String(200), nullable=False),
        sa.Column("organisation", sa.String(100), nullable=False),
        sa.Column("roles", sa.String(200), nullable=False),
        sa.Column("fields", sa.String(500), nullable=False),
        sa.Column("purpose", sa.String(200), nullable=False),
        sa.Column("allowed", sa.Boolean, nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Index("ix_access_log_subject", "subject_id", "id"),
    )
    sa.Table(
        "erased_subjects",
        metadata,
        # SHA-256 of an erased citizen's id: late or replayed events about them are ignored.
        sa.Column("subject_digest", sa.String(64), primary_key=True),
        sa.Column("erased_at", UtcDateTime(), nullable=False),
    )


def create_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        _tune_sqlite(engine)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def _tune_sqlite(engine: AsyncEngine) -> None:
    # WAL lets the relay read while a handler writes. synchronous=FULL: with
    # NORMAL a power loss can drop a commit whose Kafka offset was already
    # committed, and that event would be lost for good.
    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_connection, _record):  # noqa: ANN001
        dbapi_connection.isolation_level = None  # let SQLAlchemy emit BEGIN itself
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        # Deleted or overwritten content is zeroed, not left in free pages or
        # cells: an erased citizen's name must not stay readable in the file.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn):  # noqa: ANN001
        # IMMEDIATE takes the write lock up front, so two writers queue instead of deadlocking.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """Engine plus session factory; `transaction()` is the unit of work."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session, session.begin():
            yield session

    async def checkpoint(self, tries: int = 20) -> bool:
        """SQLite: copy the write-ahead log into the database file and empty it
        (`wal_checkpoint(TRUNCATE)`), so that the old versions of pages an erasure
        changed are gone from the -wal file too. Other dialects: nothing to do.
        A reader holding an old snapshot blocks it for a moment: tried a few
        times; False when it never completed."""
        if self.dialect != "sqlite":
            return True
        for attempt in range(tries):
            async with self.engine.connect() as conn:
                # the driver's own connection: our "begin" hook would wrap the pragma in a transaction
                raw = (await conn.get_raw_connection()).driver_connection
                cursor = await raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                busy, _log, _done = await cursor.fetchone()
                await cursor.close()
            if not busy:
                return True
            await asyncio.sleep(0.01 * (attempt + 1))
        return False

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
