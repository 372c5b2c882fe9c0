"""The client options every Kafka connection of a service uses (producer,
consumer, admin, the broker-reset check): one place for security settings,
so no client of ours talks to a secured cluster without its credentials."""

from __future__ import annotations

import ssl
from typing import Any

from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from brobygger_runtime.settings import ServiceSettings


def _uses_tls(settings: ServiceSettings) -> bool:
    return settings.kafka_security_protocol.upper() in {"SSL", "SASL_SSL"}


def kafka_client_options(settings: ServiceSettings) -> dict[str, Any]:
    """Keyword arguments for aiokafka clients (AIOKafkaConsumer, AIOKafkaAdminClient, ...)."""
    protocol = settings.kafka_security_protocol.upper()
    options: dict[str, Any] = {"security_protocol": protocol}
    if _uses_tls(settings):
        options["ssl_context"] = ssl.create_default_context(cafile=settings.kafka_ssl_cafile or None)
    if protocol.startswith("SASL_"):
        options["sasl_mechanism"] = (settings.kafka_sasl_mechanism or "PLAIN").upper()
        options["sasl_plain_username"] = settings.kafka_sasl_username
        options["sasl_plain_password"] = settings.kafka_sasl_password
    return options


def faststream_security(settings: ServiceSettings) -> BaseSecurity | None:
    """The same settings in faststream's terms, for the publishing broker."""
    protocol = settings.kafka_security_protocol.upper()
    if not protocol.startswith("SASL_"):
        return BaseSecurity(ssl_context=ssl.create_default_context(cafile=settings.kafka_ssl_cafile or None), use_ssl=True) if _uses_tls(settings) else None
    mechanism = (settings.kafka_sasl_mechanism or "PLAIN").upper()
    kinds = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}
    if mechanism not in kinds:
        raise ValueError(f"KAFKA_SASL_MECHANISM {mechanism!r} is not supported; use one of {', '.join(kinds)}")
    context = ssl.create_default_context(cafile=settings.kafka_ssl_cafile or None) if _uses_tls(settings) else None
    return kinds[mechanism](
        username=settings.kafka_sasl_username or "",
        password=settings.kafka_sasl_password or "",
        ssl_context=context,
        use_ssl=_uses_tls(settings),
    )
