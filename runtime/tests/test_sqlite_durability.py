"""SQLite keeps a commit through a power loss (issue 11 case 6): with WAL and
synchronous=NORMAL the last commits live only in the OS cache, yet their
Kafka offsets were already committed, so those events would be lost for good."""

from __future__ import annotations

import sqlalchemy as sa

from brobygger_runtime.db import Database

FULL = 2  # PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA


async def test_every_sqlite_connection_syncs_each_commit_to_disk(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/service.db")
    try:
        for _ in range(2):  # a fresh connection each time: the setting must hold on every one the pool opens
            async with db.engine.connect() as conn:
                assert (await conn.execute(sa.text("PRAGMA synchronous"))).scalar_one() == FULL
                assert (await conn.execute(sa.text("PRAGMA journal_mode"))).scalar_one() == "wal"
            await db.engine.dispose()
    finally:
        await db.dispose()
