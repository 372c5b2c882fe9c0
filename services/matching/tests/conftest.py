"""Fixtures of matching's tests (its helpers are `matching.testing`)."""

import pytest_asyncio


@pytest_asyncio.fixture
async def database_url(database_url_factory) -> str:  # noqa: ANN001
    """A fresh database with matching's migrations applied (the service's start finds nothing to migrate)."""
    return await database_url_factory("matching", migrated="matching")
