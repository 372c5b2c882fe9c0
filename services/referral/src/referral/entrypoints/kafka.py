"""Journey milestones arriving from the bus, turned into the referrer's status."""

from __future__ import annotations

from brobygger_runtime.service import ServiceRuntime


def register(runtime: ServiceRuntime) -> None:
    """Registers referral's handlers (milestones come in a later step)."""
