"""Alembic environment of the journey service: the shared runner with this service's tables."""

from brobygger_runtime.migrations import run_env
from journey.adapters.tables import metadata

run_env(metadata)
