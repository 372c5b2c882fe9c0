"""Fixtures: journey in-process on the real broker and database, with a clock the tests move."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import AsyncIterator

import pytest_asyncio

sys.path.insert(0, str(Path(__file__).parent))  # the helpers module beside this file
from journey_testkit import RunningJourney, journey_starter  # noqa: E402


@pytest_asyncio.fixture
async def start_journey(kafka_bootstrap, database_url_factory):  # noqa: ANN001, ANN201
    """Starts journey instances in-process; pass `database_url`/`partnership_id` to run replicas."""
    return journey_starter(kafka_bootstrap, database_url_factory)


@pytest_asyncio.fixture
async def journey_service(start_journey) -> AsyncIterator[RunningJourney]:  # noqa: ANN001
    async with start_journey() as service:
        yield service
