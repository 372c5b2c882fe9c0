"""Fixtures: journey in-process on the real broker and database, with a clock the tests move."""

from __future__ import annotations

import sys
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator

import httpx
import pytest_asyncio

from brobygger_stack.testing import service_settings
from journey.bootstrap import Settings, build

sys.path.insert(0, str(Path(__file__).parent))  # the helpers module beside this file
from journey_testkit import ORG, FakeClock, RunningJourney  # noqa: E402


@pytest_asyncio.fixture
async def start_journey(kafka_bootstrap, database_url_factory):  # noqa: ANN001, ANN201
    """Starts journey instances in-process; pass `database_url`/`partnership_id` to run replicas."""

    @asynccontextmanager
    async def start(clock: FakeClock | None = None, **settings: Any) -> AsyncIterator[RunningJourney]:
        clock = clock or FakeClock()
        database_url = settings.pop("database_url", None) or await database_url_factory("journey")
        settings.setdefault("timer_poll_seconds", 0.1)
        config = service_settings(Settings, "journey", kafka_bootstrap, database_url, org=ORG, **settings)
        ctx = config.context()
        ctx.clock = clock
        runtime, app = build(config, ctx)
        async with runtime.running():
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
                yield RunningJourney(runtime, client, config, kafka_bootstrap, clock)

    return start


@pytest_asyncio.fixture
async def journey_service(start_journey) -> AsyncIterator[RunningJourney]:  # noqa: ANN001
    async with start_journey() as service:
        yield service
