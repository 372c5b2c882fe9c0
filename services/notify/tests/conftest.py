"""Notify's tests import their helpers from `notify_testkit` beside this file."""

import sys
from pathlib import Path

import pytest_asyncio

sys.path.insert(0, str(Path(__file__).parent))


@pytest_asyncio.fixture
async def database_url(database_url_factory) -> str:  # noqa: ANN001
    """A fresh database with notify's migrations applied (the service's start finds nothing to migrate)."""
    return await database_url_factory("notify", migrated="notify")
