"""Run one service process: `python -m <service>` calls `serve`."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from brobygger_runtime.logs import configure_logging
from brobygger_runtime.settings import ServiceSettings


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    configure_logging(settings.service_name, settings.org_id, settings.log_level, settings.log_json)
    # uvicorn turns SIGTERM/SIGINT into a graceful shutdown: the lifespan stops
    # the consumer after in-flight events and drains the outbox.
    uvicorn.run(app, host=settings.http_host, port=settings.http_port, log_config=None, timeout_graceful_shutdown=20)
