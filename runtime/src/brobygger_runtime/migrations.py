"""Alembic, per service: each service package has a `migrations/` folder.

`upgrade_to_head` runs at start-up (in a worker thread, since alembic's env
runs its own event loop) and from the `brobygger migrate` command.
"""

from __future__ import annotations

import asyncio
from importlib import resources

import sqlalchemy as sa
from alembic import command, context
from alembic.config import Config
from sqlalchemy.ext.asyncio import create_async_engine

from brobygger_runtime.db import UtcDateTime


def alembic_config(service_package: str, database_url: str) -> Config:
    folder = resources.files(service_package).joinpath("migrations")
    config = Config()
    config.set_main_option("script_location", str(folder))
    config.set_main_option("sqlalchemy.url", database_url)
    config.attributes["service_package"] = service_package
    return config


def upgrade_to_head(service_package: str, database_url: str) -> None:
    command.upgrade(alembic_config(service_package, database_url), "head")


async def upgrade_to_head_async(service_package: str, database_url: str) -> None:
    await asyncio.to_thread(upgrade_to_head, service_package, database_url)


def _render_item(kind: str, obj: object, autogen_context: object) -> str | bool:
    """Migrations spell our UTC column type as the plain type it stores (no import of ours)."""
    if kind == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_env(target_metadata: sa.MetaData) -> None:
    """The body of every service's `migrations/env.py`."""
    url = context.config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True, render_as_batch=True,
                          render_item=_render_item)
        with context.begin_transaction():
            context.run_migrations()
        return

    def _run(connection: sa.Connection) -> None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                          render_item=_render_item)
        with context.begin_transaction():
            context.run_migrations()

    async def _online() -> None:
        engine = create_async_engine(url)
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
        await engine.dispose()

    asyncio.run(_online())


def autogenerate(service_package: str, message: str) -> None:
    """Write a new revision for what the service's MetaData has and its migrations lack.

    Compares against a scratch SQLite database brought to head, so no server is needed.
    """
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite+aiosqlite:///{scratch}/scratch.db"
        config = alembic_config(service_package, url)
        command.upgrade(config, "head")
        command.revision(config, message=message, autogenerate=True)


async def schema_drift(service_package: str, database_url: str) -> list:
    """Migrate an empty database to head and compare it with the service's tables.

    An empty list means the migrations create exactly what the code declares.
    """
    from importlib import import_module

    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    metadata = import_module(f"{service_package}.adapters.tables").metadata
    await upgrade_to_head_async(service_package, database_url)
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda sync: compare_metadata(MigrationContext.configure(sync), metadata))
    finally:
        await engine.dispose()


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 3:
        sys.exit("usage: python -m brobygger_runtime.migrations <service_package> <message>")
    autogenerate(sys.argv[1], sys.argv[2])
