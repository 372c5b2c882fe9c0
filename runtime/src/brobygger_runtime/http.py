"""The HTTP side every service shares: lifespan, health, metrics."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, AsyncIterator

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_fastapi_instrumentator import Instrumentator

if TYPE_CHECKING:
    from brobygger_runtime.service import ServiceRuntime


def build_app(runtime: "ServiceRuntime", *, title: str, description: str, routers: list[APIRouter]) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with runtime.running():
            yield

    app = FastAPI(title=title, description=description, version="1.0", lifespan=lifespan)
    app.state.runtime = runtime
    # Requests by route template, method and status; latency histograms.
    FastAPIInstrumentor.instrument_app(app, tracer_provider=runtime.tracer_provider, excluded_urls="/health/.*,/metrics")
    Instrumentator(registry=runtime.metrics.registry, excluded_handlers=["/metrics"]).instrument(
        app, metric_namespace="brobygger"
    )

    @app.get("/health/live", tags=["operations"])
    async def live() -> dict[str, str]:
        """The process is up."""
        return {"status": "live"}

    @app.get("/health/ready", tags=["operations"])
    async def ready() -> Response:
        """The database and the broker are reachable."""
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(runtime.db.ping(), timeout=3)
            checks["database"] = "ok"
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            checks["database"] = f"unreachable: {type(exc).__name__}"
        try:
            reachable = await runtime.broker.ping(timeout=3)
            checks["broker"] = "ok" if reachable else "unreachable"
        except Exception as exc:  # noqa: BLE001
            checks["broker"] = f"unreachable: {type(exc).__name__}"
        healthy = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ready" if healthy else "not ready", "checks": checks}, status_code=200 if healthy else 503)

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    async def metrics() -> Response:
        await runtime.relay.refresh_backlog_metrics()
        await runtime.refresh_gauges()
        return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    for router in routers:
        app.include_router(router)
    return app


def runtime_of(request: Request) -> "ServiceRuntime":
    """FastAPI dependency: the service runtime behind the current app."""
    return request.app.state.runtime
