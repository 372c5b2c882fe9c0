"""The HTTP side every service shares: lifespan, health, metrics."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from typing import Any, AsyncContextManager, AsyncIterator, Protocol

import asyncpg
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_fastapi_instrumentator import Instrumentator
from sqlalchemy.exc import SQLAlchemyError

from brobygger_runtime.body_limit import BodySizeLimit
from brobygger_runtime.url_guard import RefuseNulInUrl
from brobygger_runtime.auth.route_guard import Authenticator
from brobygger_runtime.context import RuntimeParts
from brobygger_runtime.errors import is_transient

log = logging.getLogger(__name__)


class ServedRuntime(RuntimeParts, Protocol):
    authenticator: Authenticator

    """What the HTTP side needs of the runtime it serves."""

    tracer_provider: Any
    relay: Any

    def running(self) -> AsyncContextManager[Any]: ...

    def readiness(self) -> dict[str, str]: ...

    async def refresh_gauges(self) -> None: ...


def build_app(runtime: ServedRuntime, *, title: str, description: str, routers: list[APIRouter]) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with runtime.running():
            yield

    # No redirect to the path without its trailing slash: an API client wants a 404 with a reason, not an empty 307.
    app = FastAPI(title=title, description=description, version="1.0", lifespan=lifespan, redirect_slashes=False)
    app.state.runtime = runtime
    runtime.authenticator.install(app)  # every route but /health/* and /metrics declares who may call it
    app.add_middleware(BodySizeLimit, max_bytes=runtime.settings.http_max_body_bytes)
    app.add_middleware(RefuseNulInUrl)
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
    async def ready(whole: bool = False) -> Response:
        """Which parts are ready. 200 once the database answers, since the API
        then serves (what it publishes waits in the outbox); the broker
        connection and the consumer's group join follow in the background.
        `?whole=true` answers 200 only when every part is up."""
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(runtime.db.ping(), timeout=3)
            checks["database"] = "ok"
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            checks["database"] = f"unreachable: {type(exc).__name__}"
        checks.update(runtime.readiness())
        if checks["broker"] == "ok":
            try:
                checks["broker"] = "ok" if await runtime.broker.ping(timeout=3) else "unreachable"
            except Exception as exc:  # noqa: BLE001
                checks["broker"] = f"unreachable: {type(exc).__name__}"
        every_part = (checks["database"] == "ok" and checks["broker"] == "ok"
                      and checks["consumer"] in ("consuming", "idle") and checks.get("topics", "ok") == "ok")
        serving = checks["database"] == "ok"
        status = "ready" if every_part else ("serving" if serving else "not ready")
        ok = every_part if whole else serving
        return JSONResponse({"status": status, "checks": checks}, status_code=200 if ok else 503)

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    async def metrics() -> Response:
        await runtime.relay.refresh_backlog_metrics()
        await runtime.refresh_gauges()
        return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def unavailable(request: Request, exc: Exception) -> Response:
        # The database or broker away is "try again later" (503), not a bug (500):
        # clients and load balancers can tell the two apart.
        if not is_transient(exc):
            raise exc  # a real fault: the server's 500 and its log
        log.warning("%s %s: 503, %s", request.method, request.url.path, type(exc).__name__)
        return JSONResponse(
            {"detail": "the service's database is not available right now; try again shortly",
             "reason": type(exc).__name__},
            status_code=503, headers={"Retry-After": "5"},
        )

    for kind in (SQLAlchemyError, asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
        app.add_exception_handler(kind, unavailable)

    from brobygger_runtime import access_log, subject_access  # they depend on runtime_of below

    for router in [*routers, access_log.router(), subject_access.router()]:
        app.include_router(router)
    return app


def runtime_of(request: Request) -> Any:
    """FastAPI dependency: the service runtime behind the current app."""
    return request.app.state.runtime
