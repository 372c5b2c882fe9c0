"""Every service's alembic migrations create exactly the tables its code declares."""

from __future__ import annotations

import pytest

from brobygger_runtime.migrations import schema_drift


@pytest.mark.parametrize("service", ["referral", "matching", "journey", "notify"])
async def test_migrations_match_the_models(service, database_url):
    assert await schema_drift(service, database_url) == []
