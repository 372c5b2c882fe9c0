"""Notify's own metrics, in the service's registry beside the delivery metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class NotifyMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.messages = Counter(
            "brobygger_notify_messages_total",
            "Messages by channel and outcome (sent, retry, failed, uncertain, deferred, expired, suppressed)",
            ["channel", "outcome"], registry=registry,
        )
        self.circuit_open = Gauge(
            "brobygger_notify_circuit_open", "1 while a channel's circuit breaker is open", ["channel"], registry=registry,
        )
        self.deliveries = Gauge(
            "brobygger_notify_deliveries", "Deliveries in the log by status", ["status"], registry=registry,
        )
