"""Delivery and service metrics, one registry per service instance.

Names follow Prometheus conventions, prefixed `brobygger_`; every service
exposes the same set so one dashboard serves all.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class DeliveryMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.events_consumed = Counter(
            "brobygger_events_consumed_total",
            "Events taken from the bus, by type and outcome (handled, duplicate, ignored, dead_lettered)",
            ["event_type", "outcome"],
            registry=r,
        )
        self.events_published = Counter(
            "brobygger_events_published_total", "Events the outbox relay published, by type", ["event_type"], registry=r
        )
        self.handler_seconds = Histogram(
            "brobygger_handler_duration_seconds",
            "Time to handle one event including its database transaction",
            ["event_type"],
            registry=r,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.handler_retries = Counter(
            "brobygger_handler_retries_total", "Retries after a failed handling attempt", ["event_type"], registry=r
        )
        self.dead_letters = Counter(
            "brobygger_dead_letters_total", "Events sent to a dead-letter topic, by cause", ["topic", "cause"], registry=r
        )
        self.transient_waits = Counter(
            "brobygger_consumer_transient_waits_total",
            "Times a batch waited for the database or broker to come back (retried without limit, never dead-lettered)",
            registry=r,
        )
        self.inbox_duplicates = Counter(
            "brobygger_inbox_duplicates_total", "Redelivered events the inbox recognised", ["event_type"], registry=r
        )
        self.outbox_backlog = Gauge("brobygger_outbox_backlog", "Outbox rows not yet published", registry=r)
        self.outbox_oldest_age = Gauge(
            "brobygger_outbox_oldest_unsent_age_seconds", "Age of the oldest unpublished outbox row", registry=r
        )
        self.outbox_parked = Gauge(
            "brobygger_outbox_parked",
            "Outbox rows the broker refused for good (too large, no such topic), parked for an operator",
            registry=r,
        )
        self.outbox_republished = Counter(
            "brobygger_outbox_republished_total", "Rows marked for republishing after a broker reset", registry=r
        )
        self.relay_failures = Counter(
            "brobygger_outbox_relay_failures_total", "Relay rounds that failed to publish", registry=r
        )
        self.consumer_lag = Gauge(
            "brobygger_consumer_lag", "Records behind the partition's end, per topic and partition",
            ["topic", "partition"], registry=r,
        )
