"""The embedded stack for end-to-end tests: every service a separate process,
each with its own PostgreSQL database, on the session's broker."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest_asyncio

from brobygger_stack.stack import EmbeddedStack, default_instances


@pytest_asyncio.fixture
async def stack(kafka_bootstrap, database_url_factory, tmp_path: Path):  # noqa: ANN001, ANN201
    instances = default_instances(base_port=_free_base_port())
    databases = {f"{i.package}@{i.org_id}": await database_url_factory(i.package) for i in instances}
    running = EmbeddedStack(
        workdir=tmp_path / "stack", partnership_id=f"e2e{uuid.uuid4().hex[:8]}", kafka_bootstrap_servers=kafka_bootstrap,
        database_url_for=databases, instances=instances,
    )
    await asyncio.to_thread(running.start)
    try:
        yield running
    finally:
        await asyncio.to_thread(running.stop)


def _free_base_port() -> int:
    """A run of free ports for the instances (base, base+1 .. base+11)."""
    import socket

    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + 12 > 65000:
            continue
        ports = [base + offset for offset in (0, 1, 2, 3, 11)]
        if all(_free(p) for p in ports):
            return base
    raise RuntimeError("no run of free ports found")


def _free(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False
