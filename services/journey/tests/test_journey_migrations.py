"""The alembic migrations create exactly the tables the code declares."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from brobygger_runtime.migrations import upgrade_to_head_async
from journey.adapters.tables import metadata


async def test_migrated_database_matches_the_models(database_url):
    await upgrade_to_head_async("journey", database_url)
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), metadata))
            tables = set(await conn.run_sync(lambda c: sa.inspect(c).get_table_names()))
    finally:
        await engine.dispose()
    assert diff == []
    assert {"journeys", "guides", "timers", "groups", "inbox", "outbox", "lease"} <= tables
