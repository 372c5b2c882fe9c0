"""Run one service process: `python -m <service>` calls `run_service`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError

from brobygger_runtime.auth.trust import TrustConfigurationError
from brobygger_runtime.logs import configure_logging
from brobygger_runtime.settings import ServiceSettings


def run_service(settings_cls: type[ServiceSettings], build: Callable[[Any], tuple[Any, FastAPI]]) -> None:
    """Settings from the environment, the service built from them, served. A
    configuration the service must not run with (no trust configuration, an
    invalid setting) ends the process with the reason, not a traceback."""
    try:
        settings = settings_cls()
        _runtime, app = build(settings)
    except (TrustConfigurationError, ValidationError) as exc:
        name = getattr(settings_cls.model_fields.get("service_name"), "default", None) or "service"
        sys.exit(f"{name} cannot start: {exc}")
    serve(app, settings)


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    configure_logging(settings.service_name, settings.org_id, settings.log_level, settings.log_json)
    # uvicorn turns SIGTERM/SIGINT into a graceful shutdown: the lifespan stops
    # the consumer after in-flight events and drains the outbox.
    uvicorn.run(app, host=settings.http_host, port=settings.http_port, log_config=None, timeout_graceful_shutdown=20)
