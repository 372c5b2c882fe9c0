"""Alembic: the runtime's delivery tables, then each service's own.

The runtime owns its tables (inbox, outbox, lease, dead letters) and their
revisions in `delivery_migrations/`, tracked in a version table of their own;
each service package has a `migrations/` folder for its domain tables.
`upgrade_to_head` runs both at start-up (in a worker thread, since alembic's
env runs its own event loop) and from the `brobygger migrate` command.
"""

from __future__ import annotations

import asyncio
from importlib import resources

import sqlalchemy as sa
from alembic import command, context
from alembic.config import Config
from sqlalchemy.ext.asyncio import create_async_engine

from brobygger_runtime.db import DELIVERY_TABLES, UtcDateTime

RUNTIME_VERSION_TABLE = "runtime_alembic_version"


def alembic_config(service_package: str, database_url: str) -> Config:
    folder = resources.files(service_package).joinpath("migrations")
    config = Config()
    config.set_main_option("script_location", str(folder))
    config.set_main_option("sqlalchemy.url", database_url)
    config.attributes["service_package"] = service_package
    return config


def runtime_alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("brobygger_runtime").joinpath("delivery_migrations")))
    config.set_main_option("sqlalchemy.url", database_url)
    return config


def upgrade_to_head(service_package: str, database_url: str) -> None:
    command.upgrade(runtime_alembic_config(database_url), "head")
    command.upgrade(alembic_config(service_package, database_url), "head")


async def upgrade_to_head_async(service_package: str, database_url: str) -> None:
    await asyncio.to_thread(upgrade_to_head, service_package, database_url)


def _render_item(kind: str, obj: object, autogen_context: object) -> str | bool:
    """Migrations spell our UTC column type as the plain type it stores (no import of ours)."""
    if kind == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _only_service_tables(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """A service's autogenerate leaves the runtime's tables (and version tables) alone."""
    return not (type_ == "table" and (name in DELIVERY_TABLES or name == RUNTIME_VERSION_TABLE))


def run_env(target_metadata: sa.MetaData, version_table: str = "alembic_version") -> None:
    """The body of every `env.py`: a service's (default version table) or the runtime's."""
    url = context.config.get_main_option("sqlalchemy.url")
    options = dict(target_metadata=target_metadata, render_as_batch=True, render_item=_render_item,
                   version_table=version_table)
    if version_table != RUNTIME_VERSION_TABLE:
        options["include_object"] = _only_service_tables
    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return

    def _run(connection: sa.Connection) -> None:
        context.configure(connection=connection, **options)
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
            opts = {"include_object": lambda obj, name, type_, *_: not (type_ == "table" and name == RUNTIME_VERSION_TABLE)}
            return await conn.run_sync(lambda sync: compare_metadata(MigrationContext.configure(sync, opts=opts), metadata))
    finally:
        await engine.dispose()


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 3:
        sys.exit("usage: python -m brobygger_runtime.migrations <service_package> <message>")
    autogenerate(sys.argv[1], sys.argv[2])
