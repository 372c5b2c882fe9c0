"""Alembic environment of the referral service: the shared runner with this service's tables."""

from brobygger_runtime.migrations import run_env
from referral.adapters.tables import metadata

run_env(metadata)
