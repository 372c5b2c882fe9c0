"""Alembic environment of the referral service: the shared runner with this service's tables."""

from brobygger_runtime.migrations import run_env
from referral.adapters import key_store  # noqa: F401 - its table joins the metadata
from referral.adapters.tables import metadata

run_env(metadata)
