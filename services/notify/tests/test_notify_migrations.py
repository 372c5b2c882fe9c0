"""The alembic migrations create exactly the tables the code defines."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from brobygger_runtime.migrations import upgrade_to_head_async
from notify.adapters.tables import metadata


async def test_migrations_match_the_models(database_url):
    await upgrade_to_head_async("notify", database_url)
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(lambda sync: compare_metadata(MigrationContext.configure(sync), metadata))
    finally:
        await engine.dispose()
    assert diff == []
