"""The composition root shared by every service: settings -> database, broker,
inbox/outbox, relay, consumer, HTTP app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from contextlib import asynccontextmanager
from typing import AsyncIterator, Awaitable, Callable, Protocol

import sqlalchemy as sa
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware

from brobygger_contracts import Envelope, Event
from brobygger_runtime.auth.route_guard import Authenticator
from brobygger_runtime.auth.service_tokens import ServiceTokens
from brobygger_runtime import http
from brobygger_runtime.citizen_keys import citizen_keys_for
from brobygger_runtime.consumer import EventConsumer, Handler
from brobygger_runtime.context import DeliveryTables
from brobygger_runtime.db import Database
from brobygger_runtime.errors import is_transient
from brobygger_runtime.kafka_options import faststream_security, kafka_client_options
from brobygger_runtime.metrics import DeliveryMetrics
from brobygger_runtime.migrations import upgrade_to_head_async
from brobygger_runtime.relay import OutboxRelay
from brobygger_runtime.settings import ServiceSettings
from brobygger_runtime.subject_access import PersonalData
from brobygger_runtime.topics import OwnTopics
from brobygger_runtime.tracing import tracer_provider
from brobygger_runtime.unit_of_work import UnitOfWork, unit_of_work

log = logging.getLogger(__name__)


class BackgroundLoop(Protocol):
    def start(self) -> None: ...

    async def stop(self) -> None: ...


class ServiceRuntime:
    """Everything a service needs at run time, built from its settings (it is the
    `RuntimeParts` the consumer, relay and unit of work are given)."""

    def __init__(self, settings: ServiceSettings, metadata: sa.MetaData, service_package: str | None) -> None:
        """`service_package` holds the alembic `migrations/`; None creates tables directly (runtime tests)."""
        if not settings.service_name:
            raise ValueError("settings.service_name is required")
        self.settings = settings
        # First: a service that trusts no issuer must not start (there is no "auth off").
        self.authenticator = Authenticator.from_settings(settings)
        self.service_tokens = ServiceTokens(settings, self.authenticator.verifier.trust)
        self.citizen_keys = citizen_keys_for(settings, self.service_tokens)
        self.metadata = metadata
        self.service_package = service_package
        self.instance_id = settings.instance_id or f"{socket.gethostname()}:{os.getpid()}"
        self.tables = DeliveryTables.of(metadata)
        self.metrics = DeliveryMetrics()
        self.db = Database(settings.resolved_database_url())
        self.broker = KafkaBroker(
            settings.kafka_bootstrap_servers,
            acks="all",
            enable_idempotence=settings.kafka_enable_idempotence,
            client_id=f"brobygger-{settings.org_id}-{settings.service_name}",
            graceful_timeout=15.0,
            security=faststream_security(settings),
            middlewares=[KafkaPrometheusMiddleware(registry=self.metrics.registry, app_name=settings.service_name)],
            logger=None,
        )
        self.broker_connected = False
        self.own_topics = OwnTopics(settings.kafka_bootstrap_servers, settings.partnership_id, settings.service_name,
                                    settings.org_id, create=settings.kafka_ensure_topics, **kafka_client_options(settings))
        self._relay_started = False
        self.tracer_provider = tracer_provider(settings.service_name, settings.org_id, settings.otel_exporter_otlp_endpoint)
        self.tracer = self.tracer_provider.get_tracer("brobygger_runtime")
        self.consumer = EventConsumer(self)
        self.relay = OutboxRelay(self)
        self._gauges: list[Callable[[], Awaitable[None]]] = []
        self._loops: list[BackgroundLoop] = []
        self.personal_data: PersonalData | None = None
        self._gauge_task: asyncio.Task[None] | None = None
        self._connect_task: asyncio.Task[None] | None = None
        self._started = False

    def wake_relay(self) -> None:
        self.relay.wake()

    def provides_personal_data(self, provider: PersonalData) -> PersonalData:
        """Decorator: what this service holds about a citizen, for the subject-access report
        (`GET /citizens/{id}/personal-data`, see subject_access.py)."""
        self.personal_data = provider
        return provider

    def handles(self, event_cls: type[Event]) -> Callable[[Handler], Handler]:
        """Decorator: `@runtime.handles(ReferralReceived)` registers a handler."""

        def register(handler: Handler) -> Handler:
            self.consumer.register(event_cls, handler)
            return handler

        return register

    def run_in_background(self, loop: "BackgroundLoop") -> None:
        """Start `loop` after the runtime started and stop it before the runtime stops
        (a service's own singleton loops: timers, a delivery dispatcher)."""
        self._loops.append(loop)

    def gauge_refresher(self, refresh: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        """Decorator: a coroutine that updates domain gauges, run every GAUGE_REFRESH_SECONDS."""
        self._gauges.append(refresh)
        return refresh

    async def refresh_gauges(self) -> None:
        await self.consumer.refresh_lag()
        for refresh in self._gauges:
            await refresh()

    async def _refresh_gauges_forever(self) -> None:
        while True:
            try:
                await self.refresh_gauges()
            except Exception:  # noqa: BLE001 - metrics must never stop the service
                log.warning("refreshing gauges failed", exc_info=True)
            await asyncio.sleep(self.settings.gauge_refresh_seconds)

    def unit_of_work(self, envelope: Envelope | None = None):  # noqa: ANN201
        return unit_of_work(self, envelope)

    async def start(self) -> None:
        """Migrate, then return: the broker connection, the consumer's group
        join and the relay come up in the background, so the HTTP API answers
        within a second or two of a restart (the outbox keeps what it publishes)."""
        s = self.settings
        await self._migrate_when_the_database_answers()
        self._connect_task = asyncio.create_task(self._connect_then_deliver(), name="connect-broker")
        self._gauge_task = asyncio.create_task(self._refresh_gauges_forever(), name="gauges")
        for loop in self._loops:
            loop.start()
        self._started = True
        log.info("%s started for %s in %s, consuming topics matching %s", s.service_name, s.org_id, s.partnership_id,
                 self.consumer.pattern)

    async def _migrate_when_the_database_answers(self) -> None:
        """Bring the schema to head; a database that is starting up or closed
        for maintenance is waited for, so a restart during an outage does not
        crash-loop. Any other failure stops the start with its error."""
        waits = 0
        while True:
            try:
                if self.service_package:
                    await upgrade_to_head_async(self.service_package, self.db.url)
                else:
                    async with self.db.engine.begin() as conn:
                        await conn.run_sync(self.metadata.create_all)
                return
            except Exception as exc:
                if not is_transient(exc):
                    raise
                waits += 1
                log.warning("database not available for migrating (%d tries); waiting: %s", waits, type(exc).__name__)
                await asyncio.sleep(min(10.0, 0.5 * 2**waits))

    async def _connect_then_deliver(self) -> None:
        s = self.settings
        failures = 0
        while True:
            try:
                await self.own_topics.check()
                await self.broker.start()
                break
            except Exception:  # noqa: BLE001 - the broker may come later; HTTP serves meanwhile
                failures += 1
                log.warning("broker not reachable (%d tries); trying again", failures, exc_info=failures == 1)
                await asyncio.sleep(min(10.0, 0.5 * 2**failures))
        self.broker_connected = True
        self.consumer.start()
        log.info("%s connected to the broker", s.service_name)
        # The relay publishes only to its own topic: until that exists (an
        # operator creates it where the broker refuses us) rows wait in the
        # outbox rather than being parked as undeliverable.
        waits = 0
        while not self.own_topics.ok:
            waits += 1
            await asyncio.sleep(min(30.0, 0.5 * 2**waits))
            try:
                await self.own_topics.check()
            except Exception:  # noqa: BLE001 - the broker away for a moment: ask again
                log.warning("checking own topics failed; trying again", exc_info=True)
        self.relay.start()
        self._relay_started = True

    def readiness(self) -> dict[str, str]:
        """Which parts are up: the database is checked by the caller; here the broker and the consumer."""
        return {
            "broker": "ok" if self.broker_connected else "connecting",
            "consumer": self.consumer.state.value,
            "topics": self.own_topics.state,
        }

    async def stop(self) -> None:
        if not self._started:
            await self.db.dispose()
            return
        if self._connect_task and not self._connect_task.done():
            self._connect_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connect_task
        self._connect_task = None
        # The consumer first (its batch in hand commits), then the loops, then
        # the relay drains the outbox while the producer still runs.
        await self.consumer.stop()
        for loop in reversed(self._loops):
            await loop.stop()
        if self._gauge_task:
            self._gauge_task.cancel()
            self._gauge_task = None
        if self.broker_connected:
            if self._relay_started:
                await self.relay.stop()
                self._relay_started = False
            await self.broker.stop()
            self.broker_connected = False
        await self.db.dispose()
        await self.authenticator.aclose()
        await self.service_tokens.aclose()
        self.tracer_provider.shutdown()
        self._started = False
        log.info("%s stopped", self.settings.service_name)

    @asynccontextmanager
    async def running(self) -> AsyncIterator["ServiceRuntime"]:
        await self.start()
        try:
            yield self
        finally:
            await self.stop()

    def http_app(self, title: str, routers: list = (), description: str = "") -> FastAPI:  # type: ignore[assignment]
        return http.build_app(self, title=title, description=description, routers=list(routers))


