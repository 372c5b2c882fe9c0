"""Alembic environment of the notify service: the shared runner with this service's tables."""

from brobygger_runtime.migrations import run_env
from notify.adapters.tables import metadata

run_env(metadata)
