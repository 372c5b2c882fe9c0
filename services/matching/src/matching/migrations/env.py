"""Alembic environment of the matching service: the shared runner with this service's tables."""

from brobygger_runtime.migrations import run_env
from matching.adapters.tables import metadata

run_env(metadata)
