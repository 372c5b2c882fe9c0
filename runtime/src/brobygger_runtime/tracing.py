"""OpenTelemetry: the trace context travels in each event's `traceparent`
header, so one referral can be followed from the HTTP call that created it
through every service that handled its events.

Spans are always created (so the context propagates); they are recorded for
traces started here, and exported, only when OTEL_EXPORTER_OTLP_ENDPOINT is set.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from opentelemetry import context, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, ParentBased
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_propagator = TraceContextTextMapPropagator()


def tracer_provider(service: str, org: str, otlp_endpoint: str | None) -> TracerProvider:
    # Without an exporter, a trace this service starts is not recorded (its
    # spans cost a few microseconds instead of tens, on every event), yet
    # the context still propagates; a trace an upstream service samples stays
    # sampled here, so a collector further on sees it whole.
    sampler = ParentBased(root=ALWAYS_ON if otlp_endpoint else ALWAYS_OFF)
    provider = TracerProvider(
        resource=Resource.create({"service.name": f"brobygger-{service}", "brobygger.org": org}), sampler=sampler
    )
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint)))
    return provider


def current_traceparent() -> str | None:
    """The W3C traceparent of the active span, for an event published now."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent")


@contextmanager
def continuing(tracer: trace.Tracer, name: str, traceparent: str | None) -> Iterator[None]:
    """A span in the trace of `traceparent` (work done later about an earlier event)."""
    parent = _propagator.extract({"traceparent": traceparent}) if traceparent else context.Context()
    with tracer.start_as_current_span(name, context=parent):
        yield


@contextmanager
def consuming(tracer: trace.Tracer, event_type: str, event_id: str, subject: str, traceparent: str | None) -> Iterator[None]:
    """A consumer span, child of the span that published the event."""
    parent = _propagator.extract({"traceparent": traceparent}) if traceparent else context.Context()
    with tracer.start_as_current_span(
        f"handle {event_type.split('.')[-2]}", context=parent, kind=trace.SpanKind.CONSUMER,
        attributes={"messaging.system": "kafka", "messaging.message.id": event_id, "brobygger.subject": subject},
    ):
        yield
