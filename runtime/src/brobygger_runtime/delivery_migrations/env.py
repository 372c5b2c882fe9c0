"""Alembic environment of the runtime's own tables (inbox, outbox, lease, dead letters).

They have a version table of their own, so the runtime's revisions and each
service's revisions advance independently in the same database.
"""

import sqlalchemy as sa

from brobygger_runtime.db import NAMING_CONVENTION, add_delivery_tables
from brobygger_runtime.migrations import RUNTIME_VERSION_TABLE, run_env

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
add_delivery_tables(metadata)
run_env(metadata, version_table=RUNTIME_VERSION_TABLE)
