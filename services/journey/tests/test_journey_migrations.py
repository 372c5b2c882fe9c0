"""Journey's migrations create the tables the timers, groups and delivery rely on
(that they match the models exactly is runtime/tests/test_migrations.py)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from brobygger_runtime.migrations import upgrade_to_head_async


async def test_migrated_database_has_journeys_timers_groups_and_delivery_tables(database_url):
    await upgrade_to_head_async("journey", database_url)
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: sa.inspect(c).get_table_names()))
    finally:
        await engine.dispose()
    assert {"journeys", "guides", "timers", "groups", "inbox", "outbox", "lease"} <= tables
