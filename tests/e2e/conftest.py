"""The embedded stack for end-to-end tests: every service a separate process,
each with its own PostgreSQL database, on the session's broker."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import asynccontextmanager
from pathlib import Path

import pytest_asyncio

from brobygger_stack.stack import EmbeddedStack, default_instances
from brobygger_stack.testing import embedded_identity, listen_ports


@asynccontextmanager
async def running_stack(kafka: str, databases: dict[str, str], workdir: Path, instances: list, name: str = "e2e",
                        console_port: int | None = None, stack_type: type[EmbeddedStack] = EmbeddedStack):
    """An EmbeddedStack on the session's broker and identity provider, under a fresh partnership
    (with `console_port`, also the web console: 0 for a free port; `stack_type`: a subclass that sets more of
    the services' environment)."""
    running = stack_type(
        workdir=workdir, partnership_id=f"{name}{uuid.uuid4().hex[:8]}", kafka_bootstrap_servers=kafka,
        database_url_for=databases, instances=instances, identity=embedded_identity(), console_port=console_port,
    )
    await asyncio.to_thread(running.start)
    try:
        yield running
    finally:
        await asyncio.to_thread(running.stop)


@pytest_asyncio.fixture
async def stack(kafka_bootstrap, database_url_factory, tmp_path: Path):  # noqa: ANN001, ANN201
    instances = default_instances(base_port=free_base_port())
    databases = {f"{i.package}@{i.org_id}": await database_url_factory(i.package) for i in instances}
    async with running_stack(kafka_bootstrap, databases, tmp_path / "stack", instances) as running:
        yield running


def free_base_port() -> int:
    """A run of free ports for the instances (base, base+1 .. base+11), below the
    ephemeral range so no outgoing connection takes one before its service binds it."""
    return listen_ports(12)
