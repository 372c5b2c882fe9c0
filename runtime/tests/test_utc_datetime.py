"""Moments keep their instant on every database: SQLite stores no offset, so the
column type stores UTC and gives aware UTC back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from brobygger_runtime.db import UtcDateTime

CET = timezone(timedelta(hours=1))


@pytest.fixture(params=["configured", "sqlite"])
def url(request, database_url, tmp_path):  # noqa: ANN001, ANN201
    return database_url if request.param == "configured" else f"sqlite+aiosqlite:///{tmp_path}/moments.db"


async def test_an_offset_moment_is_kept_as_its_instant_and_compares_as_one(url):
    metadata = sa.MetaData()
    moments = sa.Table("moments", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("at", UtcDateTime()))
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
            await conn.execute(moments.insert(), [
                {"id": 1, "at": datetime(2026, 12, 1, 10, 0, tzinfo=CET)},  # 09:00 UTC
                {"id": 2, "at": datetime(2026, 12, 1, 9, 30)},  # naive: taken as UTC
                {"id": 3, "at": None},
            ])
            rows = dict((await conn.execute(sa.select(moments.c.id, moments.c.at))).all())
            before = (await conn.execute(
                sa.select(moments.c.id).where(moments.c.at < datetime(2026, 12, 1, 9, 15, tzinfo=UTC))
            )).scalars().all()
            await conn.run_sync(metadata.drop_all)
    finally:
        await engine.dispose()
    assert rows[1] == datetime(2026, 12, 1, 9, 0, tzinfo=UTC) and rows[1].tzinfo is UTC
    assert rows[2] == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    assert rows[3] is None
    assert before == [1]  # compared as 09:00 UTC, not as the wall time 10:00
